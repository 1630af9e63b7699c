package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// TestOpenRefusesPlantedFiles checks that a state file (or its journal) that is a symbolic
// link, another user's, or readable by others is refused with a message naming it and saying
// why, to write or to read, and left as it was.
func TestOpenRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	// Each plants at path and returns a function that fails t unless what it planted is as it was.
	symlink := func(t *testing.T, path string) func() { return plant.Victim(t, plant.Symlink, path, 0o600) }
	another := func(t *testing.T, path string) func() { return plant.Victim(t, plant.OtherUsers, path, 0o600) }
	readable := func(t *testing.T, path string) func() {
		if runtime.GOOS == "windows" {
			t.Skip("no owner-only modes")
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		return func() {
			t.Helper()
			if b, err := os.ReadFile(path); err != nil || len(b) > 0 {
				t.Errorf("%s = %q, %v: written", path, b, err)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("%s: %v: chmod'ed", path, err)
			}
		}
	}
	tests := []struct {
		name    string
		journal bool // planted at the journal, not at the state file
		plant   func(t *testing.T, path string) (untouched func())
		why     string
	}{
		{"symlinked state", false, symlink, "is a symbolic link"},
		{"state readable by others", false, readable, "can be read or written by other users (mode 0644)"},
		{"another user's state", false, another, "belongs to another user"},
		{"symlinked journal", true, symlink, "is a symbolic link"},
		{"journal readable by others", true, readable, "can be read or written by other users (mode 0644)"},
		{"another user's journal", true, another, "belongs to another user"},
	}
	for _, tt := range tests {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, read-only %v", tt.name, readOnly), func(t *testing.T) {
				t.Parallel()
				if tt.journal && bootID() == "" && !readOnly {
					t.Skip("no boot id here: no journal is kept")
				}
				path := filepath.Join(t.TempDir(), "state.db")
				at := path
				if tt.journal {
					at = JournalPath(path)
					s, err := Open(path, Options{}) // a state beside it, or a read-only open reads nothing
					if err != nil {
						t.Fatal(err)
					}
					s.Close()
				}
				untouched := tt.plant(t, at)
				s, err := Open(path, Options{ReadOnly: readOnly})
				if err == nil {
					s.Close()
					t.Fatalf("read-only %v: opened", readOnly)
				}
				if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), at+" "+tt.why) {
					t.Errorf("read-only %v: %v, want safefile.ErrUnsafe saying %s %s", readOnly, err, at, tt.why)
				}
				untouched()
			})
		}
	}
}
