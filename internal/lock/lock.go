// Package lock keeps two runs off one file: an operating-system lock on a file beside it.
package lock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// ErrLocked is returned by Lock when another run holds the lock.
var ErrLocked = errors.New("locked by another run")

// Path is the lock file beside a report (or a state file).
func Path(path string) string { return path + ".lock" }

// Lock takes an exclusive lock on the lock file beside path, until the returned function is
// called or the process ends. The lock is the operating system's (flock, or LockFileEx on
// Windows): it dies with the process that held it, so a lock file left by a crash never blocks
// a later run. Unlocking removes the lock file, so that nightly runs leave none behind.
func Lock(path string) (unlock func(), err error) { return LockAs(path, "") }

// LockAs is Lock, with holder (what the run is, such as "a mail run") written into the lock
// file beside the pid, so that a run which finds the lock held can say who holds it.
//
// The lock file is never followed nor written unless this run created it: a symbolic link, a
// file of another user or one with other hard links is refused (safefile.ErrUnsafe). A lock
// file left by a run that died is locked (so that no live run holds it), removed, and created
// again: the pid goes only into a file this run created.
func LockAs(path, holder string) (unlock func(), err error) {
	lp := Path(path)
	for {
		f, created, err := safefile.OpenOrCreate(lp, os.O_RDWR, 0o600, safefile.Options{OneLink: true})
		if err != nil {
			if dir := filepath.Dir(path); errors.Is(err, fs.ErrNotExist) && !exists(dir) {
				return nil, fmt.Errorf("the folder %s does not exist: create it, or give a path in a folder that does", dir)
			}
			if errors.Is(err, safefile.ErrUnsafe) {
				return nil, fmt.Errorf("the lock file %w", err) // it names the file and why
			}
			return nil, fmt.Errorf("lock file %s: %w", lp, err)
		}
		held, err := tryLock(f)
		if err != nil || held {
			f.Close()
			if held {
				return nil, fmt.Errorf("%w: %s is held (%s is using %s; wait for it to finish)", ErrLocked, lp, heldBy(lp), path)
			}
			return nil, fmt.Errorf("lock file %s: %w", lp, err)
		}
		// The holder before us may have removed the file between our open and our lock: then
		// we hold a lock on a file nobody else can see, so start again on the new one.
		if !samePath(f, lp) {
			unlockFile(f)
			f.Close()
			continue
		}
		if !created {
			// Left by a run that died, and nobody holds it: removed while locked, so that a run
			// which opened it too finds it gone once it gets the lock, then created anew.
			err := os.Remove(lp)
			unlockFile(f)
			f.Close()
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("lock file %s left by an earlier run: %w", lp, err)
			}
			continue
		}
		// The pid is for the operator's eyes only; the lock is the OS lock, not the file.
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"+holder+"\n"), 0)
		return func() {
			os.Remove(lp) // while still holding it, so that no one locks the removed file
			unlockFile(f)
			f.Close()
		}, nil
	}
}

// heldBy names the run that holds the lock file lp, from what it wrote there: the pid, and
// what it is when it said. The file is read at best (its holder may not have written it yet, or
// the system may not let it be read while locked): a run not named is another ideanote-provision.
func heldBy(lp string) string {
	b, err := os.ReadFile(lp)
	if err != nil {
		return "another ideanote-provision"
	}
	pidLine, holder, _ := strings.Cut(string(b), "\n")
	holder = strings.TrimSpace(holder)
	pid, err := strconv.Atoi(strings.TrimSpace(pidLine))
	switch {
	case err != nil:
		return "another ideanote-provision"
	case holder == "":
		holder = "another ideanote-provision"
	}
	return fmt.Sprintf("%s, pid %d,", holder, pid)
}

// exists reports whether path names something on disk.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// samePath reports whether f is still the file at path.
func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}
