package lock

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
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
	if err := os.WriteFile(Path(path), []byte("12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
