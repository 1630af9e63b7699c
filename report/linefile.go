package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/internal/tick"
)

// SyncInterval is how often written lines are synced to disk at the latest.
const SyncInterval = time.Second

// errClosed is what a LineFile says of a write after Close.
var errClosed = errors.New("closed")

// LineFile is a CSV file written one line at a time so that a crash loses nothing written: each
// line is flushed to the file as it is written, and the file is synced at least every
// SyncInterval, on Sync and on Close, so that a crash of the machine loses at most the lines of
// the last second and a kill of the process none. It is created new with mode 0600: the reports
// of this program hold or point at credentials. Its cells are neutralised against spreadsheet
// formulas. Write and Close are called from one goroutine; Sync and the periodic sync may run
// beside them.
type LineFile struct {
	path, tmp string // tmp is written and renamed to path on Close when resuming
	f         *os.File
	mu        sync.Mutex // guards cw, dirty, err and closed against Sync and the syncing goroutine
	cw        *csv.Writer
	dirty     bool
	closed    bool
	closeErr  error
	err       error
	stop      chan struct{}
	done      chan struct{}
}

// CreateLineFile creates the file at path and writes its header. With New an existing file is
// not replaced (ErrExists); with Overwrite it is; with Resume the file is written beside it,
// at TempPath(path), and put in its place by Close.
//
// The file is always created new, never written through what is there: with New by
// O_EXCL|O_NOFOLLOW, else under a private random name in the same folder, renamed over path (or
// TempPath(path)) once its header is written. A symbolic link, a file of another user or
// anything but a regular file in the way is refused (safefile.ErrUnsafe), and so is such a
// TempPath(path) when overwriting, which would otherwise be removed.
func CreateLineFile(path string, mode Mode, header []string) (*LineFile, error) {
	var f *os.File
	var err error
	var renameTo, tmp string // renameTo is where f is put once its header is written
	switch mode {
	case New:
		f, err = safefile.Create(path, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrExists)
		}
	case Overwrite:
		if err := safefile.RemoveOwned(TempPath(path)); err != nil { // the run starts again
			return nil, err
		}
		renameTo = path
	case Resume:
		if err := safefile.CheckReplace(path); err != nil { // Close renames over it
			return nil, err
		}
		renameTo, tmp = TempPath(path), TempPath(path)
	default:
		return nil, fmt.Errorf("%s: unknown mode %d", path, mode)
	}
	if renameTo != "" {
		if err := safefile.CheckReplace(renameTo); err != nil {
			return nil, err
		}
		f, err = safefile.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.new")
	}
	if err != nil {
		return nil, err
	}
	l := &LineFile{path: path, tmp: tmp, f: f, cw: csv.NewWriter(f), stop: make(chan struct{}), done: make(chan struct{})}
	l.cw.Write(header)
	l.cw.Flush()
	err = l.cw.Error()
	if err == nil && renameTo != "" {
		err = os.Rename(f.Name(), renameTo)
		if err == nil {
			// Else a power cut could leave the old file at the name, and lines synced lost.
			err = safefile.SyncDir(filepath.Dir(path))
		}
	}
	if err != nil {
		f.Close()
		if renameTo != "" {
			os.Remove(f.Name())
		}
		return nil, err
	}
	go l.syncLoop()
	return l, nil
}

// Write neutralises the cells of rec in place, writes them as one line and flushes it to the
// file. After an error every Write returns it.
func (l *LineFile) Write(rec []string) error {
	for i := range rec {
		rec[i] = Neutralize(rec[i])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.cw.Write(rec)
	l.cw.Flush()
	l.err = l.cw.Error()
	l.dirty = true
	return l.err
}

func (l *LineFile) syncLoop() {
	defer close(l.done)
	tick.Every(SyncInterval, l.stop, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.dirty && l.err == nil {
			l.err = l.f.Sync()
			l.dirty = false
		}
	})
}

// Sync writes the lines written so far to stable storage.
func (l *LineFile) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.closeErr // Close synced it, or says why it could not
	}
	if l.err != nil {
		return l.err
	}
	l.err = l.f.Sync()
	l.dirty = false
	return l.err
}

// Close syncs and closes the file and, when resuming, puts it in place of the old one. It
// returns the first error met while writing.
func (l *LineFile) Close() error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.err
	if err == nil {
		err = l.f.Sync()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && l.tmp != "" {
		err = PutInPlace(l.path)
	}
	l.closed, l.closeErr = true, err
	if l.err == nil {
		l.err = fmt.Errorf("%s: %w", l.path, errClosed)
	}
	return err
}

// PutInPlace renames TempPath(path), the lines of a resumed run of the report at path, over
// path and syncs the folder: the end of a resumed LineFile's Close, and of a run killed before
// it whose lines are all in TempPath. A link or another user's file at either name, planted
// since the run began, is refused.
func PutInPlace(path string) error {
	for _, p := range []string{path, TempPath(path)} {
		if err := safefile.CheckReplace(p); err != nil {
			return err
		}
	}
	if err := os.Rename(TempPath(path), path); err != nil {
		return err
	}
	return safefile.SyncDir(filepath.Dir(path))
}
