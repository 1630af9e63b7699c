// Package state remembers what was provisioned, so that a scheduled run sends only what changed.
package state

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/internal/tick"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// ErrLocked is returned by Open when another process holds the state file.
var ErrLocked = errors.New("state file locked by another process")

// Defaults of Options.
const (
	DefaultMaxBatch      = 256
	DefaultFlushInterval = time.Second
)

const schemaVersion = "1"

var (
	usersBucket = []byte("users") // Key -> JSON Entry
	metaBucket  = []byte("meta")  // "version", "space"
)

// Entry is what the store remembers of one user: the data last provisioned with success.
type Entry struct {
	Fingerprint string `json:"fp"`
	UserID      string `json:"user_id,omitempty"`
	// Email is the address the user was last provisioned with, as the row gave it: a user
	// keyed by sub is found by address too (the external id column added or dropped between
	// two runs keys the same person both ways). Empty in entries written before it was kept.
	Email string    `json:"email,omitempty"`
	At    time.Time `json:"at"` // when it was last provisioned ok
}

// Key is how a user is known in the store: its sub, else its lower-cased email, as the
// endpoint's upsert finds users.
func Key(u provision.User) string { return u.Key() }

// Fingerprint is a hash of the fields of u that are sent. The reader has already trimmed them
// and put the locale in canonical form, so two rows that send the same request have the same
// fingerprint.
func Fingerprint(u provision.User) string {
	h := sha256.New()
	h.Write([]byte("v1"))
	var n [binary.MaxVarintLen64]byte
	for _, field := range provision.Fields {
		f := *field.Of(&u)
		// Length-prefixed, so that no two different users hash the same bytes.
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Options tune Open.
type Options struct {
	// Space is the workspace id the store belongs to. A store written for another workspace is
	// refused: its users say nothing of this one.
	Space string
	// ReadOnly opens an existing store without writing to it (a dry run).
	ReadOnly bool
	// MaxBatch is the most records committed in one transaction; a full batch is committed
	// by Record. Default DefaultMaxBatch.
	MaxBatch int
	// FlushInterval is how long a record waits at most for its batch to be committed.
	// Default DefaultFlushInterval.
	FlushInterval time.Duration
}

// Store is an embedded key-value store (bbolt) of what was provisioned, per user Key. Records
// are committed in batches, one transaction each, so that a run does not wait on the disk for
// every row (a commit syncs the disk twice: a commit per row would hold a run to a few hundred
// rows a second). Until its batch is committed, each record is appended to a journal beside the
// store (JournalPath) by one write(2), which the next Open replays: a process that dies (kill -9)
// loses no record. The journal is not synced: after a restart of the machine (another boot) it
// is dropped, and the next run sends again the rows of the last uncommitted batch. Either way
// the store is never torn, and never remembers a row whose report line may be lost (see
// BeforeCommit and Record). Its methods are safe for concurrent use.
type Store struct {
	db            *bolt.DB
	maxBatch      int
	flushInterval time.Duration
	journal       *journal          // nil: read-only, or no boot id to tell a crash from a restart
	journaled     map[string][]byte // read-only: the journal's entries (JSON), newer than the store's

	mu           sync.Mutex        // guards pending, err and beforeCommit
	pending      map[string][]byte // key -> JSON Entry, as journaled and as committed
	beforeCommit func() error
	err          error // first commit error; records after it are dropped
	stop         chan struct{}
	done         chan struct{}
	closed       bool
}

// Open opens the store at path, creating it (mode 0600) unless ReadOnly. A read-only open of a
// missing file is an empty store.
func Open(path string, opt Options) (*Store, error) {
	s := &Store{maxBatch: opt.MaxBatch, flushInterval: opt.FlushInterval, pending: make(map[string][]byte),
		stop: make(chan struct{}), done: make(chan struct{})}
	if s.maxBatch < 1 {
		s.maxBatch = DefaultMaxBatch
	}
	if s.flushInterval <= 0 {
		s.flushInterval = DefaultFlushInterval
	}
	if opt.ReadOnly {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			close(s.done)
			return s, nil
		}
	}
	// Callers hold their own lock on the path; bbolt's flock is a second guard, so a short wait.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 500 * time.Millisecond, ReadOnly: opt.ReadOnly, OpenFile: openFile})
	switch {
	case errors.Is(err, safefile.ErrUnsafe):
		return nil, fmt.Errorf("state file %w", err) // it names the file and why
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("%s is not a state file of ideanote-provision: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	s.db = db
	if err := s.checkMeta(path, opt); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.openJournal(JournalPath(path), opt.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	if opt.ReadOnly {
		close(s.done)
	} else {
		go s.flushLoop()
	}
	return s, nil
}

// openFile opens the state file for bbolt: never through a symbolic link, and only a regular
// file of this user with one link that nobody else may read (it holds email addresses and user
// ids); a new one is created with O_EXCL, mode 0600.
func openFile(path string, flag int, _ os.FileMode) (*os.File, error) {
	if flag&os.O_CREATE == 0 {
		return safefile.OpenExisting(path, flag, privateFile)
	}
	f, _, err := safefile.OpenOrCreate(path, flag, 0o600, privateFile)
	return f, err
}

// checkMeta creates the buckets of a new store and refuses one of another version or space.
func (s *Store) checkMeta(path string, opt Options) error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if meta == nil {
			return nil
		}
		if v := meta.Get([]byte("version")); v != nil && string(v) != schemaVersion {
			return fmt.Errorf("state %s has version %s; this ideanote-provision reads version %s", path, v, schemaVersion)
		}
		if sp := meta.Get([]byte("space")); sp != nil && opt.Space != "" && string(sp) != opt.Space {
			return fmt.Errorf("state %s belongs to workspace %s, not %s: give each workspace its own state file", path, sp, opt.Space)
		}
		return nil
	}
	if opt.ReadOnly {
		return s.db.View(check)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(usersBucket); err != nil {
			return err
		}
		if err := meta.Put([]byte("version"), []byte(schemaVersion)); err != nil {
			return err
		}
		if opt.Space != "" && meta.Get([]byte("space")) == nil {
			return meta.Put([]byte("space"), []byte(opt.Space))
		}
		return nil
	})
}

// Get returns the committed entry of key. An entry that cannot be decoded is reported
// missing: the row is then sent again and its entry rewritten.
func (s *Store) Get(key string) (Entry, bool) {
	var e Entry
	var found bool
	if v, ok := s.journaled[key]; ok {
		found = json.Unmarshal(v, &e) == nil
		return e, found
	}
	if s.db == nil {
		return e, false
	}
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(usersBucket)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			found = json.Unmarshal(v, &e) == nil
		}
		return nil
	})
	return e, found
}

// Each calls f with every entry of the store, with its key, as Get returns them (an entry the
// journal holds read-only over the committed one; an entry that cannot be decoded left out),
// in no set order. It returns the store's error.
func (s *Store) Each(f func(key string, e Entry)) error {
	for k, v := range s.journaled {
		var e Entry
		if json.Unmarshal(v, &e) == nil {
			f(k, e)
		}
	}
	if s.db == nil {
		return nil
	}
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(usersBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if _, ok := s.journaled[string(k)]; ok {
				return nil
			}
			var e Entry
			if json.Unmarshal(v, &e) == nil {
				f(string(k), e)
			}
			return nil
		})
	})
}

// Len returns how many users the store holds, committed (or, read-only, journaled).
func (s *Store) Len() int {
	n := 0
	if s.db == nil {
		return len(s.journaled)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(usersBucket); b != nil {
			n = b.Stats().KeyN
			for k := range s.journaled {
				if b.Get([]byte(k)) == nil {
					n++
				}
			}
		}
		return nil
	})
	return n
}

// Record remembers e for key. It is journaled at once, and committed with its batch: at once
// when the batch is full, else within the flush interval, or by Close. The error is the first
// error met. The run records a row after its report line is written (not synced): a process
// that dies then has both in the system's cache, so the journal never holds a row the report
// lacks, and a restart of the machine, which may lose either, drops the journal.
func (s *Store) Record(key string, e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.closed || !s.writable() {
		return errors.New("state: record on a closed or read-only store")
	}
	// Encoded once, for the journal and the commit; a fresh slice each, as bbolt keeps the
	// value until the commit.
	v, err := json.Marshal(e)
	if err != nil {
		s.err = fmt.Errorf("saving the state: %w", err)
		return s.err
	}
	if s.journal != nil {
		if err := s.journal.append(key, v); err != nil {
			s.err = fmt.Errorf("saving the state: %w", err)
			return s.err
		}
	}
	s.pending[key] = v
	if len(s.pending) >= s.maxBatch {
		s.commitLocked()
	}
	return s.err
}

func (s *Store) writable() bool { return s.db != nil && !s.db.IsReadOnly() }

// Flush commits the records not committed yet.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commitLocked()
	return s.err
}

// BeforeCommit sets a function run before each commit. The run syncs its report there: a
// person must never be remembered as provisioned while their link could still be lost with
// the report in a power cut. An error from f fails the commit.
func (s *Store) BeforeCommit(f func() error) {
	s.mu.Lock()
	s.beforeCommit = f
	s.mu.Unlock()
}

func (s *Store) commitLocked() {
	if len(s.pending) == 0 || s.err != nil {
		return
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			s.err = fmt.Errorf("saving the state: the report could not be synced first: %w", err)
			// Its lines may be lost: so are the records, and their rows are sent again.
			if s.journal != nil {
				s.journal.reset()
			}
			return
		}
	}
	if err := s.put(s.pending); err != nil {
		s.err = fmt.Errorf("saving the state: %w", err)
		return
	}
	clear(s.pending)
	if s.journal != nil {
		if err := s.journal.reset(); err != nil {
			s.err = fmt.Errorf("saving the state: %w", err)
		}
	}
}

// put writes the entries (key -> JSON Entry) in one transaction; none when there are none.
func (s *Store) put(entries map[string][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(usersBucket)
		for k, v := range entries {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) flushLoop() {
	defer close(s.done)
	tick.Every(s.flushInterval, s.stop, func() { s.Flush() }) // its error is Close's to return
}

// Close commits what is pending and closes the store. It returns the first error met.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.err
	}
	s.closed = true
	s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	if !s.db.IsReadOnly() {
		close(s.stop)
		<-s.done
	}
	err := s.Flush()
	if s.journal != nil {
		// Everything it held is committed, unless an error says otherwise: then the next Open
		// replays it.
		if jerr := s.journal.close(err == nil); err == nil && jerr != nil {
			err = fmt.Errorf("closing the state: %w", jerr)
		}
	}
	if cerr := s.db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the state: %w", cerr)
	}
	return err
}
