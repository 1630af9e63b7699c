package lock

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.csv")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Path(path)); err != nil {
		t.Errorf("no lock file while locked: %v", err)
	}
	_, err = Lock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), Path(path)) {
		t.Errorf("second Lock: %v, want ErrLocked naming %s", err, Path(path))
	}
	unlock()
	if _, err := os.Stat(Path(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after unlock: %v", err)
	}
	// A lock file left behind (by a killed run) is no obstacle: only a held lock is.
	testfile.Write(t, Path(path), "12345\n")
	unlock, err = Lock(path)
	if err != nil {
		t.Fatalf("Lock over a stale lock file: %v", err)
	}
	unlock()
}

// TestLockNamesItsHolder checks that a run finding the lock held is told which run holds it.
func TestLockNamesItsHolder(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("LockFileEx keeps others from reading the locked file: the holder goes unnamed")
	}
	tests := []struct {
		name, holder, want string
	}{
		{"named", "a mail run", "(a mail run, pid " + strconv.Itoa(os.Getpid()) + ", is using "},
		{"unnamed", "", "(another ideanote-provision, pid " + strconv.Itoa(os.Getpid()) + ", is using "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "report.csv")
			unlock, err := LockAs(path, tt.holder)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			_, err = Lock(path)
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Lock = %v, want ErrLocked saying %q", err, tt.want)
			}
		})
	}
}

// TestLockRefusesPlantedFiles checks that a lock file this run did not create is never written
// to: a symbolic link (ln -s victim R.csv.lock), another user's file, a hard link.
func TestLockRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, why string
		plant     func(t *testing.T, victim, lp string)
	}{
		{"symlink", "is a symbolic link", plant.Symlink},
		{"hard link", "has 2 hard links", func(t *testing.T, victim, lp string) {
			if err := os.Link(victim, lp); err != nil {
				t.Skip(err)
			}
		}},
		{"another user's", "belongs to another user", plant.OtherUsers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "R.csv")
			untouched := plant.Victim(t, tt.plant, Path(path), 0o644)
			unlock, err := Lock(path)
			if err == nil {
				unlock()
				t.Fatal("locked through a planted file")
			}
			if !strings.Contains(err.Error(), Path(path)) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Lock = %v, want an error naming %s saying %q", err, Path(path), tt.why)
			}
			untouched()
		})
	}
}

// TestLockRecreatesLeftFile checks that a lock file left by a dead run is replaced by one this
// run creates, rather than truncated and written.
func TestLockRecreatesLeftFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "R.csv")
	testfile.Write(t, Path(path), "99999\na dead run\n")
	left, err := os.Open(Path(path))
	if err != nil {
		t.Fatal(err)
	}
	defer left.Close()
	unlock, err := LockAs(path, "a provisioning run")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var b [64]byte
	if n, _ := left.ReadAt(b[:], 0); string(b[:n]) != "99999\na dead run\n" {
		t.Errorf("the left file now holds %q: written, not replaced", b[:n])
	}
	got, err := os.ReadFile(Path(path))
	if want := strconv.Itoa(os.Getpid()) + "\na provisioning run\n"; err != nil || string(got) != want {
		t.Errorf("lock file = %q, %v; want %q", got, err, want)
	}
}
