package lock

import (
	"errors"
	"os"
	"path/filepath"
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
