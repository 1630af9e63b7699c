package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// killed records n rows in a store at dir/state.db that never commits them (no Close, no
// flush), and returns a copy of its files as a kill -9 would leave them: what was written.
func killed(t *testing.T, n int) (copyDir string) {
	t.Helper()
	return killedAfter(t, func(s *Store) {
		for i := range n {
			if err := s.Record(fmt.Sprintf("email:u%d@example.com", i), Entry{Fingerprint: fmt.Sprint("f", i), UserID: fmt.Sprint("id", i), At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// killedAfter runs record on a store at dir/state.db that never commits (no Close, no flush),
// and returns a copy of its files as a kill -9 would leave them: what was written.
func killedAfter(t *testing.T, record func(*Store)) (copyDir string) {
	t.Helper()
	if bootID() == "" {
		t.Skip("no boot id here: no journal is kept")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	s, err := Open(path, Options{Space: "sp", MaxBatch: 1000, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	record(s)
	copyDir = t.TempDir()
	for _, name := range []string{"state.db", "state.db-journal"} {
		testfile.Write(t, filepath.Join(copyDir, name), testfile.Read(t, filepath.Join(dir, name)))
	}
	t.Cleanup(func() { s.Close() })
	return copyDir
}

// known returns how many of the n rows that killed recorded the store at path knows, with
// their data.
func known(t *testing.T, path string, opt Options, n int) int {
	t.Helper()
	s := openStore(t, path, opt)
	defer s.Close()
	k := 0
	for i := range n {
		if e, ok := s.Get(fmt.Sprintf("email:u%d@example.com", i)); ok && e.Fingerprint == fmt.Sprint("f", i) && e.UserID == fmt.Sprint("id", i) {
			k++
		}
	}
	if got := s.Len(); got != k {
		t.Errorf("Len = %d, want %d", got, k)
	}
	return k
}

// TestStoreSurvivesKill checks that a store whose process dies before committing its batch
// (kill -9) knows every row recorded when it is opened again, to write or to read (a dry run).
func TestStoreSurvivesKill(t *testing.T) {
	t.Parallel()
	const n = 40
	for _, readOnly := range []bool{false, true} {
		dir := killed(t, n)
		path := filepath.Join(dir, "state.db")
		if k := known(t, path, Options{Space: "sp", ReadOnly: readOnly}, n); k != n {
			t.Errorf("read-only %v: reopened after a kill: %d of %d rows known", readOnly, k, n)
		}
		if !readOnly {
			// Replayed, committed and removed by Close: a third open finds the rows in the store.
			if _, err := os.Stat(JournalPath(path)); !os.IsNotExist(err) {
				t.Errorf("journal left after Close: %v", err)
			}
		}
	}
}

// TestJournalLaterRecordWins checks that of two journaled records of a key, the later one is
// what a reopened store knows, to write or to read.
func TestJournalLaterRecordWins(t *testing.T) {
	t.Parallel()
	for _, readOnly := range []bool{false, true} {
		dir := killedAfter(t, func(s *Store) {
			for _, fp := range []string{"old", "new"} {
				if err := s.Record("email:a@example.com", Entry{Fingerprint: fp}); err != nil {
					t.Fatal(err)
				}
			}
		})
		s := openStore(t, filepath.Join(dir, "state.db"), Options{Space: "sp", ReadOnly: readOnly})
		if e, ok := s.Get("email:a@example.com"); !ok || e.Fingerprint != "new" {
			t.Errorf("read-only %v: Get = %+v, %v; want the later record", readOnly, e, ok)
		}
		if n := s.Len(); n != 1 {
			t.Errorf("read-only %v: Len = %d, want 1", readOnly, n)
		}
		s.Close()
	}
}

// TestJournalDropped checks that a journal written in another boot of the machine (its
// unsynced lines may have reached the disk without the report's) is not replayed, and that a
// line cut short is not either.
func TestJournalDropped(t *testing.T) {
	t.Parallel()
	const n = 5
	t.Run("another boot", func(t *testing.T) {
		dir := killed(t, n)
		jp := JournalPath(filepath.Join(dir, "state.db"))
		testfile.Write(t, jp, strings.Replace(testfile.Read(t, jp), bootID(), "00000000-0000-0000-0000-000000000000", 1))
		if k := known(t, filepath.Join(dir, "state.db"), Options{Space: "sp"}, n); k != 0 {
			t.Errorf("%d rows replayed from another boot's journal", k)
		}
	})
	t.Run("last line cut short", func(t *testing.T) {
		dir := killed(t, n)
		jp := JournalPath(filepath.Join(dir, "state.db"))
		b := testfile.Read(t, jp)
		testfile.Write(t, jp, b[:len(b)-2])
		if k := known(t, filepath.Join(dir, "state.db"), Options{Space: "sp"}, n); k != n-1 {
			t.Errorf("%d rows replayed, want %d", k, n-1)
		}
	})
}

// TestJournalEmptiedByCommit checks that a commit empties the journal: what a commit holds is
// not replayed over what later commits wrote.
func TestJournalEmptiedByCommit(t *testing.T) {
	t.Parallel()
	if bootID() == "" {
		t.Skip("no boot id here: no journal is kept")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path, Options{MaxBatch: 2, FlushInterval: time.Hour})
	s.Record("email:a", Entry{Fingerprint: "1"})
	s.Record("email:b", Entry{Fingerprint: "1"}) // the batch is full: committed
	st, err := os.Stat(JournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(journalHeader + bootID() + "\n")); st.Size() != want {
		t.Errorf("journal after a commit: %d bytes, want %d (its header)", st.Size(), want)
	}
}

// TestReplayAfterSync: the journal of a killed run is replayed only after every filesystem is
// synced, so that the report lines of its records are on disk before the store commits them;
// when the sync fails, the journal is dropped.
func TestReplayAfterSync(t *testing.T) { // not parallel: it replaces syncAll
	const n = 3
	defer func(f func() error) { syncAll = f }(syncAll)
	for _, syncErr := range []error{nil, errors.New("I/O error")} {
		dir := killed(t, n)
		calls := 0
		syncAll = func() error {
			calls++
			return syncErr
		}
		want := n
		if syncErr != nil {
			want = 0
		}
		if k := known(t, filepath.Join(dir, "state.db"), Options{Space: "sp"}, n); k != want || calls != 1 {
			t.Errorf("sync error %v: %d of %d rows replayed after %d syncs, want %d after 1", syncErr, k, n, calls, want)
		}
	}
}
