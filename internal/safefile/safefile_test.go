package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// plant makes dir/victim with content and returns its path, and dir/name a symbolic link to it.
func plant(t *testing.T, name string) (dir, victim, link string) {
	t.Helper()
	dir = t.TempDir()
	victim = filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link = filepath.Join(dir, name)
	if err := os.Symlink(victim, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	return dir, victim, link
}

// untouched fails t unless victim still holds what plant wrote, with its mode.
func untouched(t *testing.T, victim string) {
	t.Helper()
	b, err := os.ReadFile(victim)
	if err != nil || string(b) != "precious" {
		t.Errorf("victim = %q, %v: written through", b, err)
	}
	if st, err := os.Stat(victim); err == nil && runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
		t.Errorf("victim's mode = %v: chmod'ed through", st.Mode().Perm())
	}
}

func wantRefused(t *testing.T, err error, path, why string) {
	t.Helper()
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), why) {
		t.Errorf("err = %v, want ErrUnsafe naming %s and saying %q", err, path, why)
	}
}

// asOther makes path belong to another user (nobody); it skips the test unless run as root.
func asOther(t *testing.T, path string) {
	t.Helper()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	if err := os.Lchown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

func TestCreateRefusesSymlink(t *testing.T) {
	_, victim, link := plant(t, "report.csv")
	f, err := Create(link, 0o600)
	if err == nil {
		f.Close()
	}
	wantRefused(t, err, link, "is a symbolic link")
	untouched(t, victim)
}

func TestCreateIsNewAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.csv")
	f, err := Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	if _, err := Create(path, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create = %v, want fs.ErrExist", err)
	}
}

func TestOpenExistingRefuses(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		_, victim, link := plant(t, "state.db")
		_, err := OpenExisting(link, os.O_RDWR, Options{})
		wantRefused(t, err, link, "is a symbolic link")
		untouched(t, victim)
	})
	t.Run("folder", func(t *testing.T) {
		dir := t.TempDir()
		_, err := OpenExisting(dir, os.O_RDONLY, Options{})
		wantRefused(t, err, dir, "is not a regular file")
	})
	t.Run("hard link", func(t *testing.T) {
		dir := t.TempDir()
		victim := filepath.Join(dir, "victim")
		os.WriteFile(victim, []byte("precious"), 0o600)
		link := filepath.Join(dir, "R.csv.lock")
		if err := os.Link(victim, link); err != nil {
			t.Skip(err)
		}
		_, err := OpenExisting(link, os.O_RDWR, Options{OneLink: true})
		wantRefused(t, err, link, "has 2 hard links")
	})
	t.Run("readable by others", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no owner-only modes")
		}
		path := filepath.Join(t.TempDir(), "state.db")
		os.WriteFile(path, nil, 0o600)
		os.Chmod(path, 0o644)
		_, err := OpenExisting(path, os.O_RDWR, Options{Private: true})
		wantRefused(t, err, path, "mode 0644")
		f, err := OpenExisting(path, os.O_RDWR, Options{})
		if err != nil {
			t.Errorf("without Private: %v", err)
		} else {
			f.Close()
		}
	})
	t.Run("another user's", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		os.WriteFile(path, nil, 0o600)
		asOther(t, path)
		_, err := OpenExisting(path, os.O_RDWR, Options{})
		wantRefused(t, err, path, "belongs to another user (uid 65534")
	})
}

func TestReplace(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		_, victim, link := plant(t, "ideanote.prom")
		wantRefused(t, WriteFile(link, []byte("x"), 0o644), link, "is a symbolic link")
		untouched(t, victim)
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v", err)
		}
	})
	t.Run("another user's", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ideanote.prom")
		os.WriteFile(path, []byte("theirs"), 0o644)
		asOther(t, path)
		wantRefused(t, WriteFile(path, []byte("x"), 0o644), path, "belongs to another user")
	})
	t.Run("ours", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "ideanote.prom")
		os.WriteFile(path, []byte("old"), 0o600)
		if err := WriteFile(path, []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		st, _ := os.Stat(path)
		if string(b) != "new" || runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
			t.Errorf("file = %q, mode %v; want new, 0644", b, st.Mode().Perm())
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("left in the folder: %v", ents)
		}
	})
}

func TestRemoveOwned(t *testing.T) {
	_, victim, link := plant(t, "R.csv.tmp")
	if err := RemoveOwned(link); err == nil {
		t.Error("a symbolic link was removed as a file of ours")
	}
	untouched(t, victim)
	if err := RemoveOwned(victim); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("not removed: %v", err)
	}
	if err := RemoveOwned(victim); err != nil {
		t.Errorf("missing: %v", err)
	}
}

func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Error(err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "none")); err == nil && runtime.GOOS != "windows" {
		t.Error("SyncDir of a missing folder: no error")
	}
}

// TestTempShape checks that tempOf takes every name os.CreateTemp gives for Replace's pattern
// for the file it is of, whatever the length of its random part, and no name of another shape.
func TestTempShape(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "R.csv")
	for range 200 {
		f, err := CreateTemp(dir, tempPattern(path))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		os.Remove(f.Name())
		if base, ok := tempOf(filepath.Base(f.Name())); !ok || base != "R.csv" {
			t.Fatalf("tempOf(%q) = %q, %v; want R.csv", filepath.Base(f.Name()), base, ok)
		}
	}
	for name, want := range map[string]string{
		".R.csv.0.tmp": "R.csv", ".R.csv.5.4294967295.tmp": "R.csv.5", "..R.csv.1.tmp": ".R.csv",
		".R.csv..tmp": "", ".R.csv.12a.tmp": "", ".R.csv.12345678901.tmp": "", ".R.csv.-1.tmp": "",
		"R.csv.1.tmp": "", ".R.csv.1.tmp.bak": "", ".R.csv.1.new": "", ".1.tmp": "", "..1.tmp": "", ".tmp": "",
	} {
		if base, ok := tempOf(name); base != want || ok != (want != "") {
			t.Errorf("tempOf(%q) = %q, %v; want %q", name, base, ok, want)
		}
	}
}

// staleFolder plants, beside dir/R.csv, what a Replace killed before its rename leaves (old and
// fresh), and decoys that no RemoveStale of R.csv may remove: a symbolic link and a folder under
// a temporary's name, names of another shape, another file's temporaries (R.csv.5's and a.eml's),
// and another user's file when run as root. It returns the names of each, and the victim the
// link points at.
func staleFolder(t *testing.T) (dir string, old, fresh string, decoys []string, victim string) {
	t.Helper()
	dir, victim, link := plant(t, ".R.csv.111.tmp")
	long := time.Now().Add(-2 * StaleAge)
	write := func(name string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("token"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("R.csv", time.Now())
	old, fresh = ".R.csv.123456.tmp", ".R.csv.4294967295.tmp"
	write(old, long)
	write(fresh, time.Now())
	decoys = []string{filepath.Base(link), filepath.Base(victim), "R.csv",
		".R.csv.12a.tmp", ".R.csv..tmp", ".R.csv.12345678901.tmp", ".R.csv.123.tmp.bak",
		"R.csv.123.tmp", ".R.csv.123.new", ".R.csv.5.123.tmp", ".a.eml.77.tmp"}
	for _, name := range decoys[3:] {
		write(name, long)
	}
	if err := os.Mkdir(filepath.Join(dir, ".R.csv.222.tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	decoys = append(decoys, ".R.csv.222.tmp")
	if os.Geteuid() == 0 && runtime.GOOS != "windows" {
		write(".R.csv.333.tmp", long)
		asOther(t, filepath.Join(dir, ".R.csv.333.tmp"))
		decoys = append(decoys, ".R.csv.333.tmp")
	}
	return dir, old, fresh, decoys, victim
}

// wantLeft fails t unless dir holds exactly the names of want.
func wantLeft(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := testfile.Names(t, dir)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("left in the folder:\n%q\nwant\n%q", got, want)
	}
}

// TestRemoveStale checks that RemoveStale with StaleAge, as a caller that does not keep other
// writers away calls it, removes the temporary a killed Replace of the path left once StaleAge
// old, and leaves a fresh one (perhaps in flight) and every decoy; a Replace then leaves nothing.
func TestRemoveStale(t *testing.T) {
	dir, _, fresh, decoys, victim := staleFolder(t)
	path := filepath.Join(dir, "R.csv")
	if err := RemoveStale(path, StaleAge); err != nil {
		t.Fatal(err)
	}
	wantLeft(t, dir, append([]string{fresh}, decoys...)...)
	untouched(t, victim)
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantLeft(t, dir, append([]string{fresh}, decoys...)...)
}

// TestRemoveStaleOfAll checks RemoveStale with no age bound, as a run holding the lock of the
// path calls it: every temporary of ours goes, fresh or not, and every decoy stays.
func TestRemoveStaleOfAll(t *testing.T) {
	dir, _, _, decoys, victim := staleFolder(t)
	if err := RemoveStale(filepath.Join(dir, "R.csv"), 0); err != nil {
		t.Fatal(err)
	}
	wantLeft(t, dir, decoys...)
	untouched(t, victim)
	if err := RemoveStale(filepath.Join(dir, "none", "R.csv"), 0); err == nil {
		t.Error("RemoveStale in a missing folder: no error")
	}
}

// TestRemoveStaleIn checks that RemoveStaleIn removes the old temporaries of every file that of
// names, and of no other.
func TestRemoveStaleIn(t *testing.T) {
	dir, _, fresh, decoys, victim := staleFolder(t)
	err := RemoveStaleIn(dir, StaleAge, func(name string) bool { return strings.HasSuffix(name, ".eml") })
	if err != nil {
		t.Fatal(err)
	}
	decoys = slices.DeleteFunc(decoys, func(name string) bool { return name == ".a.eml.77.tmp" })
	wantLeft(t, dir, append([]string{fresh, ".R.csv.123456.tmp"}, decoys...)...)
	untouched(t, victim)
}
