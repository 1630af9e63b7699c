package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// SyncInterval is how often written lines are synced to disk at the latest.
const SyncInterval = time.Second

// errClosed is what a LineFile says of a write after Close.
var errClosed = errors.New("closed")

// LineFile is a CSV file written one line at a time so that a crash loses nothing written: each
// line is flushed to the file as it is written, and the file is synced at least every
// SyncInterval, on Sync and on Close, so that a crash of the machine loses at most the lines of
// the last second and a kill of the process none. It is created with mode 0600: the reports of
// this program hold or point at credentials. Its cells are neutralised against spreadsheet
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
func CreateLineFile(path string, mode Mode, header []string) (*LineFile, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	target := path
	switch mode {
	case Overwrite:
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		os.Remove(TempPath(path))
	case Resume:
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		target = TempPath(path)
	}
	f, err := os.OpenFile(target, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrExists)
	}
	if err != nil {
		return nil, err
	}
	// O_TRUNC keeps the mode of a file that was there: every link in it logs somebody in.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	l := &LineFile{path: path, f: f, cw: csv.NewWriter(f), stop: make(chan struct{}), done: make(chan struct{})}
	if target != path {
		l.tmp = target
	}
	l.cw.Write(header)
	l.cw.Flush()
	if err := l.cw.Error(); err != nil {
		f.Close()
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
	t := time.NewTicker(SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			if l.dirty && l.err == nil {
				l.err = l.f.Sync()
				l.dirty = false
			}
			l.mu.Unlock()
		}
	}
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
		err = os.Rename(l.tmp, l.path)
	}
	l.closed, l.closeErr = true, err
	if l.err == nil {
		l.err = fmt.Errorf("%s: %w", l.path, errClosed)
	}
	return err
}
