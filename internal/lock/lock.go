// Package lock keeps two runs off one file: an operating-system lock on a file beside it.
package lock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// ErrLocked is returned by Lock when another run holds the lock.
var ErrLocked = errors.New("locked by another run")

// Path is the lock file beside a report (or a state file).
func Path(path string) string { return path + ".lock" }

// Lock takes an exclusive lock on the lock file beside path, until the returned function is
// called or the process ends. The lock is the operating system's (flock, or LockFileEx on
// Windows): it dies with the process that held it, so a lock file left by a crash never blocks
// a later run. Unlocking removes the lock file, so that nightly runs leave none behind.
func Lock(path string) (unlock func(), err error) {
	lp := Path(path)
	for {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			if dir := filepath.Dir(path); errors.Is(err, fs.ErrNotExist) && !exists(dir) {
				return nil, fmt.Errorf("the folder %s does not exist: create it, or give a path in a folder that does", dir)
			}
			return nil, fmt.Errorf("lock file %s: %w", lp, err)
		}
		held, err := tryLock(f)
		if err != nil || held {
			f.Close()
			if held {
				return nil, fmt.Errorf("%w: %s is held (another ideanote-provision is using %s; wait for it to finish)", ErrLocked, lp, path)
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
		// The pid is for the operator's eyes only; the lock is the OS lock, not the file.
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return func() {
			os.Remove(lp) // while still holding it, so that no one locks the removed file
			unlockFile(f)
			f.Close()
		}, nil
	}
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
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
