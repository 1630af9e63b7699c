package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// JournalPath is the journal beside the state file at path: the records of the batch not
// committed yet, one line each, replayed by the next Open after a crash.
func JournalPath(path string) string { return path + "-journal" }

// journalHeader starts a journal; the boot id that follows it says in which boot of the
// machine the journal was written.
const journalHeader = "ideanote-provision state journal 1, boot "

// privateFile is how the state and its journal are opened: both hold email addresses.
var privateFile = safefile.Options{OneLink: true, Private: true}

// journal appends each record by one write(2), unsynced: a write survives the death of the
// process, not a restart of the machine, after which it is dropped (its boot id differs).
type journal struct {
	f      *os.File
	path   string
	header int64 // the length of the header, to which reset cuts the file
	buf    bytes.Buffer
	enc    *json.Encoder
}

// journalRecord is a line of the journal: a key and its Entry as JSON, the same bytes the
// commit puts in the store.
type journalRecord struct {
	Key   string          `json:"k"`
	Entry json.RawMessage `json:"e"`
}

// syncAll writes the data of every file to disk before a journal is replayed: syncFilesystems,
// or a stand-in in tests.
var syncAll = syncFilesystems

// openJournal replays the journal at path left by a run of this boot that died, into the
// store or (read-only) into s.journaled, and starts the journal of this run. Where the system
// gives no boot id, no journal is kept: a crash loses the batch not committed.
//
// The run that died synced its report before each commit, not before each journal record:
// the report lines of the records may still be in the page cache only. Every filesystem is
// synced first, so that a power cut after the replay cannot leave a person in the store whose
// line is in no report; a journal that cannot be made safe so is dropped (its people are
// sent again, or recorded again from the report by a resume).
func (s *Store) openJournal(path string, readOnly bool) error {
	boot := bootID()
	if readOnly {
		f, err := safefile.OpenExisting(path, os.O_RDONLY, privateFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return journalErr(path, err)
		}
		defer f.Close()
		recs, err := readJournal(f, boot)
		if err != nil {
			return journalErr(path, err)
		}
		if len(recs) > 0 {
			s.journaled = recs
		}
		return nil
	}
	if boot == "" {
		return nil
	}
	f, _, err := safefile.OpenOrCreate(path, os.O_RDWR|os.O_APPEND, 0o600, privateFile)
	if err != nil {
		return journalErr(path, err)
	}
	recs, err := readJournal(f, boot)
	if err == nil && len(recs) > 0 && syncAll() != nil {
		recs = nil
	}
	if err == nil {
		err = s.put(recs)
	}
	j := &journal{f: f, path: path}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		var n int
		n, err = f.WriteString(journalHeader + boot + "\n")
		j.header = int64(n)
	}
	if err != nil {
		f.Close()
		return journalErr(path, err)
	}
	s.journal = j
	return nil
}

func journalErr(path string, err error) error {
	if errors.Is(err, safefile.ErrUnsafe) {
		return fmt.Errorf("state journal %w", err) // it names the file and why
	}
	return fmt.Errorf("state journal %s: %w", path, err)
}

// readJournal returns the records of a journal written in boot, each key's last entry (a later
// record of a key is newer); none when it was written in another boot (or boot is not known),
// and none past a line cut short.
func readJournal(r io.Reader, boot string) (map[string][]byte, error) {
	br := bufio.NewReader(r)
	header, err := br.ReadString('\n')
	if errors.Is(err, io.EOF) {
		return nil, nil // empty, or a header cut short
	}
	if err != nil {
		return nil, err
	}
	if boot == "" || header != journalHeader+boot+"\n" {
		return nil, nil
	}
	recs := make(map[string][]byte)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return recs, nil // a last line without its newline was cut short
		}
		if err != nil {
			return nil, err
		}
		var rec journalRecord
		if json.Unmarshal(line, &rec) != nil {
			return recs, nil
		}
		recs[rec.Key] = rec.Entry
	}
}

// append writes the record of key, its entry e already encoded, by one write.
func (j *journal) append(key string, e []byte) error {
	j.buf.Reset()
	if err := j.enc.Encode(journalRecord{Key: key, Entry: e}); err != nil { // with its newline
		return err
	}
	if _, err := j.f.Write(j.buf.Bytes()); err != nil {
		return fmt.Errorf("state journal %s: %w", j.path, err)
	}
	return nil
}

// reset forgets the records: committed, or not to be trusted.
func (j *journal) reset() error {
	if err := j.f.Truncate(j.header); err != nil {
		return fmt.Errorf("state journal %s: %w", j.path, err)
	}
	return nil
}

// close closes the journal, and removes it when all it held is committed.
func (j *journal) close(committed bool) error {
	err := j.f.Close()
	if committed {
		if rerr := os.Remove(j.path); err == nil && rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	return err
}
