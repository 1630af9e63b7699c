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
	// Each plants at path and returns the file whose content must not change.
	symlink := func(t *testing.T, path string) string {
		victim := filepath.Join(filepath.Dir(path), "victim")
		if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		plant.Symlink(t, victim, path)
		return victim
	}
	readable := func(t *testing.T, path string) string {
		if runtime.GOOS == "windows" {
			t.Skip("no owner-only modes")
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	another := func(t *testing.T, path string) string {
		victim := filepath.Join(filepath.Dir(path), "victim")
		if err := os.WriteFile(victim, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		plant.OtherUsers(t, victim, path)
		return path
	}
	tests := []struct {
		name    string
		journal bool // planted at the journal, not at the state file
		plant   func(t *testing.T, path string) string
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
				victim := tt.plant(t, at)
				before, _ := os.ReadFile(victim)
				beforeSt, _ := os.Stat(victim)
				s, err := Open(path, Options{ReadOnly: readOnly})
				if err == nil {
					s.Close()
					t.Fatalf("read-only %v: opened", readOnly)
				}
				if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), at+" "+tt.why) {
					t.Errorf("read-only %v: %v, want safefile.ErrUnsafe saying %s %s", readOnly, err, at, tt.why)
				}
				after, _ := os.ReadFile(victim)
				afterSt, _ := os.Stat(victim)
				if string(after) != string(before) || afterSt.Mode() != beforeSt.Mode() {
					t.Errorf("read-only %v: %s was changed: %q %v", readOnly, victim, after, afterSt.Mode())
				}
			})
		}
	}
}
