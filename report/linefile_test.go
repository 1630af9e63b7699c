package report

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// TestCreateLineFileNeverWritesThrough plants, where a run writes its report or its .tmp, a
// symbolic link to a victim, or a file of another user, and checks that the run refuses it with
// a message naming it and leaves the victim as it was (content and mode).
func TestCreateLineFileNeverWritesThrough(t *testing.T) {
	t.Parallel()
	symlink, another := plant.Symlink, plant.OtherUsers // another's victim is the file at the report
	tests := []struct {
		name  string
		mode  Mode
		tmp   bool // planted at TempPath, not at the report
		plant func(t *testing.T, victim, at string)
		why   string
	}{
		{"new, symlinked report", New, false, symlink, "is a symbolic link"},
		{"overwrite, symlinked report", Overwrite, false, symlink, "is a symbolic link"},
		{"overwrite, symlinked .tmp", Overwrite, true, symlink, "is a symbolic link"},
		{"resume, symlinked report", Resume, false, symlink, "is a symbolic link"},
		{"resume, symlinked .tmp", Resume, true, symlink, "is a symbolic link"},
		{"overwrite, another user's report", Overwrite, false, another, "belongs to another user"},
		{"overwrite, another user's .tmp", Overwrite, true, another, "belongs to another user"},
		{"resume, another user's report", Resume, false, another, "belongs to another user"},
		{"resume, another user's .tmp", Resume, true, another, "belongs to another user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "R.csv")
			at := path
			if tt.tmp {
				at = TempPath(path)
			}
			untouched := plant.Victim(t, tt.plant, at, 0o644)
			l, err := CreateLineFile(path, tt.mode, []string{"row"})
			if err == nil {
				l.Close()
				t.Fatal("created through a planted file")
			}
			if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("err = %v, want safefile.ErrUnsafe naming %s saying %q", err, at, tt.why)
			}
			untouched()
		})
	}
}

// TestCreateLineFileCreatesNew checks that an existing report (overwritten) or .tmp (resumed)
// of ours is replaced by a new private file, not truncated and reused: a hard link to it, or a
// reader that kept it open, still sees the old content.
func TestCreateLineFileCreatesNew(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{Overwrite, Resume} {
		dir := t.TempDir()
		path := filepath.Join(dir, "R.csv")
		at := path
		if mode == Resume {
			at = TempPath(path)
		}
		if err := os.WriteFile(at, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		kept := filepath.Join(dir, "kept")
		if err := os.Link(at, kept); err != nil {
			t.Skip(err)
		}
		l, err := CreateLineFile(path, mode, []string{"row"})
		if err != nil {
			t.Fatalf("mode %d: %v", mode, err)
		}
		if err := l.Write([]string{"2"}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(kept); string(b) != "old\n" {
			t.Errorf("mode %d: the old file now holds %q: reused, not replaced", mode, b)
		}
		if b, _ := os.ReadFile(at); string(b) != "row\n2\n" {
			t.Errorf("mode %d: %s holds %q", mode, at, b)
		}
		if st, err := os.Stat(at); err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
			t.Errorf("mode %d: %s: %v, mode %v; want 0600", mode, at, err, st.Mode().Perm())
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 2 { // the report and kept
			t.Errorf("mode %d: left in the folder: %v", mode, ents)
		}
	}
}

// PutInPlace renames only a regular file of this user: a link planted as REPORT.tmp would
// make the report a link to whatever it names.
func TestPutInPlaceRefusesALink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	target := filepath.Join(dir, "elsewhere.csv")
	if err := os.WriteFile(target, []byte("row,email\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, TempPath(path)); err != nil {
		t.Fatal(err)
	}
	if err := PutInPlace(path); err == nil {
		t.Fatal("a link renamed into place")
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("the report is there: %v", err)
	}
}
