// Package safefile creates the files of a run new, so that a file planted in the run's folder
// (a symbolic link, another user's file, a hard link to somebody else's) is never written
// through, truncated or chmod'ed: a file is created with O_EXCL|O_NOFOLLOW, or written as a
// private temporary file in the same folder and renamed over its name, and an existing file is
// used only when it is a regular file of this user with one link.
package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrUnsafe is wrapped by the errors of a path that is refused: a symbolic link, a file of
// another user, a file that is not a regular one, or one with other links or readable by others
// where it may not be.
var ErrUnsafe = errors.New("refused")

// unsafeError says which path was refused and why.
type unsafeError struct{ path, why, fix string }

func (e *unsafeError) Error() string {
	msg := fmt.Sprintf("%s %s: refusing to use it", e.path, e.why)
	if e.fix != "" {
		msg += " (" + e.fix + ")"
	}
	return msg
}

func (e *unsafeError) Unwrap() error { return ErrUnsafe }

func refuse(path, why, fix string) error { return &unsafeError{path: path, why: why, fix: fix} }

const removeFix = "remove it if nothing of yours needs it, or give another path"

// Create creates path new for reading and writing with mode perm (before the umask): it fails
// if anything is there, a symbolic link included (an error that wraps fs.ErrExist, or
// ErrUnsafe for a symbolic link).
func Create(path string, perm fs.FileMode) (*os.File, error) {
	return create(path, os.O_RDWR, perm)
}

// create is Create with flag's access mode and options (os.O_APPEND, …).
func create(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag&^os.O_TRUNC|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
	if errors.Is(err, fs.ErrExist) {
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, refuse(path, "is a symbolic link", removeFix)
		}
	}
	return f, err
}

// CreateTemp creates a new file of a random name made from pattern (as os.CreateTemp) in dir,
// with mode 0600: nobody else can open it, and nobody else can have put it there.
func CreateTemp(dir, pattern string) (*os.File, error) {
	return os.CreateTemp(dir, pattern) // O_EXCL, 0600 and a random name
}

// CheckReplace returns nil when path is missing, or a regular file of this user that a rename
// may replace; otherwise an error saying why it is refused. A file of another user is refused
// even though a rename would not write through it: it may be theirs to keep, and who planted it
// may expect us to use it.
func CheckReplace(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return check(path, st, false, false)
}

// Options say what OpenExisting asks of a file beyond being a regular file of this user.
type Options struct {
	// OneLink refuses a file with other hard links: writing to it would write to them.
	OneLink bool
	// Private refuses a file that the group or others may read or write.
	Private bool
}

// OpenExisting opens the existing file at path with flag (os.O_RDONLY, os.O_RDWR, …; never
// following a symbolic link, and without blocking on a FIFO) and checks, on the file opened,
// that it is a regular file of this user meeting opt. A missing file wraps fs.ErrNotExist.
func OpenExisting(path string, flag int, opt Options) (*os.File, error) {
	// Lstat first for a clear message, and where there is no O_NOFOLLOW; the checks that count
	// are on the file opened.
	if st, err := os.Lstat(path); err != nil {
		return nil, err
	} else if err := check(path, st, opt.OneLink, opt.Private); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag&^(os.O_CREATE|os.O_EXCL|os.O_TRUNC)|oNoFollow|oNonBlock, 0)
	if err != nil {
		// Replaced by a symbolic link since the Lstat: O_NOFOLLOW's error varies by system.
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, refuse(path, "is a symbolic link", removeFix)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = check(path, st, opt.OneLink, opt.Private)
	}
	if err == nil {
		err = clearNonBlock(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// OpenOrCreate opens path with flag as OpenExisting does, or creates it new with flag and mode
// perm when it is missing. created says which.
func OpenOrCreate(path string, flag int, perm fs.FileMode, opt Options) (f *os.File, created bool, err error) {
	for range 3 { // another process may create or remove it between the two tries
		f, err = OpenExisting(path, flag, opt)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, false, err
		}
		f, err = create(path, flag, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err == nil, err
		}
	}
	return nil, false, err
}

// check refuses what path must not be, from st (an Lstat, or the Stat of the file opened).
func check(path string, st fs.FileInfo, oneLink, private bool) error {
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return refuse(path, "is a symbolic link", removeFix)
	case !st.Mode().IsRegular():
		return refuse(path, "is not a regular file", "give the path of a file")
	}
	if uid, ok := owner(st); ok && uid != os.Geteuid() {
		return refuse(path, fmt.Sprintf("belongs to another user (uid %d, not %d)", uid, os.Geteuid()), removeFix)
	}
	if n, ok := links(st); oneLink && ok && n != 1 {
		return refuse(path, fmt.Sprintf("has %d hard links", n), removeFix)
	}
	if private && hasOwnerOnlyModes() && st.Mode().Perm()&0o077 != 0 {
		return refuse(path, fmt.Sprintf("can be read or written by other users (mode %04o)", st.Mode().Perm()),
			"it holds email addresses and user ids: chmod 600 it if nobody else could read it, else remove it")
	}
	return nil
}

// CheckDir refuses a folder that files of this user are to be written into when it is a
// symbolic link, not a folder, or another user's: its owner could swap or read what lands there.
func CheckDir(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return refuse(path, "is a symbolic link", "give the folder itself")
	case !st.IsDir():
		return refuse(path, "is not a folder", "give the path of a folder")
	}
	if uid, ok := owner(st); ok && uid != os.Geteuid() {
		return refuse(path, fmt.Sprintf("belongs to another user (uid %d, not %d)", uid, os.Geteuid()), "give a folder of your own")
	}
	return nil
}

// WriteFile writes data to path as a new file of mode perm: written and synced under a private
// temporary name in the same folder, then renamed over path, which must be missing or a
// regular file of this user (CheckReplace). A reader never sees half of it.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Replace(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Replace is WriteFile with the content written by write. A Replace killed before its rename
// leaves its temporary file, which RemoveStale removes; Replace does not look for them itself,
// which would read the whole folder at every write (a folder of .eml files, one per person).
func Replace(path string, perm fs.FileMode, write func(*os.File) error) error {
	if err := CheckReplace(path); err != nil {
		return err
	}
	f, err := CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil && perm != 0o600 {
		err = f.Chmod(perm) // on the file opened, never on a name
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// RemoveOwned removes path when it is a regular file of this user, and does nothing when it is
// missing; anything else there (what CheckReplace refuses) is refused, not removed.
func RemoveOwned(path string) error {
	if err := CheckReplace(path); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// tempPattern is the os.CreateTemp pattern of Replace's temporary file of path: hidden, and
// not ending like path, so that nothing reading the folder by name (node_exporter's *.prom)
// takes it for a file of its own.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".*.tmp" }

// tempOf returns the name of the file whose Replace temporary name is (tempPattern as
// os.CreateTemp fills it in: ".", the file's name, ".", the decimal digits of a 32-bit random
// number, ".tmp"), and false for a name of another shape. The digits hold no ".", so one name
// is the temporary of one file only.
func tempOf(name string) (base string, ok bool) {
	rest, ok := strings.CutPrefix(name, ".")
	if ok {
		rest, ok = strings.CutSuffix(rest, ".tmp")
	}
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 1 {
		return "", false
	}
	base, digits := rest[:i], rest[i+1:]
	if len(digits) == 0 || len(digits) > 10 || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	return base, true
}

// StaleAge is how long a temporary file of Replace must have gone unmodified before a caller
// that does not keep other writers away may take it for one left by a Replace that was killed.
// A Replace in flight modifies its file as it writes and renames it once synced; were the sync
// slower than this, removing the file would make the rename fail, never put anything else at
// the file's name.
const StaleAge = time.Minute

// RemoveStale removes the temporary files that a Replace of path leaves in path's folder when
// it is killed (or the power fails) between writing them and renaming them over path: each holds
// what path was to hold, credentials included, and nothing else would ever remove it. Only
// those not modified for minAge are removed.
//
// A Replace of path in flight, in this process or another, has its temporary under such a name
// too: a minAge below StaleAge is only for a caller that keeps every other writer of path away,
// such as a run holding path's lock (internal/lock), which no other run of path can hold while
// it writes. It reads the whole folder: call it once per run, not per write.
func RemoveStale(path string, minAge time.Duration) error {
	base := filepath.Base(path)
	return RemoveStaleIn(filepath.Dir(path), minAge, func(name string) bool { return name == base })
}

// RemoveStaleIn is RemoveStale for every file of dir whose name of is true of.
//
// Only the names Replace gives (".NAME.DIGITS.tmp") are considered, and of those only regular
// files of this user; a symbolic link (never followed), a folder or another user's file is left
// as it is. The removal unlinks a name and never removes a folder, so a name swapped for a link
// or a folder since it was checked loses at most the link itself. It returns the first error
// met, after trying every file.
func RemoveStaleIn(dir string, minAge time.Duration, of func(name string) bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var first error
	for _, e := range ents {
		if base, ok := tempOf(e.Name()); !ok || !e.Type().IsRegular() || !of(base) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		st, err := os.Lstat(name)
		if err != nil || check(name, st, false, false) != nil || minAge > 0 && time.Since(st.ModTime()) < minAge {
			continue // gone, or not ours to remove, or perhaps in flight
		}
		if err := removeFile(name); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}
