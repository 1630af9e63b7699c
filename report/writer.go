// Package report writes the report CSV of a run, reads it back to resume, and builds the
// login links that the report holds.
package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// personFields are the fields of a person that the report shows: all but the avatar, which
// nobody needs in order to mail a link.
var personFields = slices.DeleteFunc(slices.Clone(provision.Fields[:]), func(f provision.Field) bool { return f.Name == "avatar" })

// Columns are the report's columns, in order: row, the person's fields, then what happened.
var Columns = slices.Concat([]string{"row"}, fieldNames(personFields), []string{"status", "user_id",
	"session_token", "login_url", "widget_url", "attempts", "http_status", "error", "finished_at"})

func fieldNames(fields []provision.Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// ChangeColumn is the column that WithChange adds after Columns.
const ChangeColumn = "change"

// Option changes what Create writes.
type Option func(*Writer)

// WithChange adds the change column (new, changed, unchanged, refreshed) of a run with a
// state. It comes last, so that the columns of a report without it keep their positions.
func WithChange() Option { return func(w *Writer) { w.change = true } }

// SyncInterval is how often written lines are synced to disk at the latest.
const SyncInterval = time.Second

// ErrExists is returned by Create when the report exists and may not be replaced.
var ErrExists = errors.New("report exists")

// Mode says what Create does with a report that already exists.
type Mode int

const (
	New       Mode = iota // fail with ErrExists
	Overwrite             // replace it
	Resume                // write beside it, and replace it on Close
)

// Writer writes report lines. Each line is flushed to the file as it is written, and the file
// is synced at least every SyncInterval and on Close, so that a crash loses at most the lines of
// the last second and a kill loses none that were written. Its methods may be called from one
// goroutine; the periodic sync runs on its own.
type Writer struct {
	Links Links

	path, tmp string // tmp is written and renamed to path on Close when resuming
	f         *os.File
	mu        sync.Mutex // guards cw, dirty and err against the syncing goroutine
	cw        *csv.Writer
	dirty     bool
	closed    bool
	closeErr  error
	err       error
	rec       []string
	change    bool // the change column is written
	stop      chan struct{}
	done      chan struct{}
}

// ErrLeftOver is returned by ModeFor when a resumed run was interrupted before its report was
// complete: only --resume (which reads both files) or --overwrite may go on from there.
var ErrLeftOver = errors.New("left from an interrupted --resume: add --resume to finish it, or --overwrite to start again")

// ModeFor decides how the report at path is opened for a run asked to resume or overwrite it,
// or neither.
func ModeFor(path string, resume, overwrite bool) (Mode, error) {
	switch {
	case overwrite:
		return Overwrite, nil
	case resume:
		return Resume, nil
	}
	if _, err := os.Stat(TempPath(path)); err == nil {
		return New, fmt.Errorf("%s is %w", TempPath(path), ErrLeftOver)
	}
	return New, nil
}

// TempPath is where a resumed run writes its report until it is complete.
func TempPath(path string) string { return path + ".tmp" }

// Create opens a report for writing with mode 0600 and writes the header.
func Create(path string, mode Mode, links Links, opts ...Option) (*Writer, error) {
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
	w := &Writer{Links: links, path: path, f: f, cw: csv.NewWriter(f), stop: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(w)
	}
	header := Columns
	if w.change {
		header = append(slices.Clip(Columns), ChangeColumn)
	}
	w.rec = make([]string, len(header))
	if target != path {
		w.tmp = target
	}
	w.cw.Write(header)
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		f.Close()
		return nil, err
	}
	go w.syncLoop()
	return w, nil
}

// Write writes the line of one result and flushes it to the file.
func (w *Writer) Write(res provision.Result) error {
	u := res.Row.User
	r := append(w.rec[:0], strconv.Itoa(res.Row.Line))
	for _, f := range personFields {
		r = append(r, *f.Of(&u))
	}
	r = append(r, string(res.Status), res.UserID, res.Token, w.Links.WebApp(res.Token), w.Links.Widget(res.Token),
		itoaPositive(res.Attempts), itoaPositive(res.HTTPStatus), errorText(res.Err), timeText(res.Finished))
	if w.change {
		r = append(r, res.Change)
	}
	for i := range r {
		r[i] = Neutralize(r[i])
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.cw.Write(r)
	w.cw.Flush()
	w.err = w.cw.Error()
	w.dirty = true
	return w.err
}

// itoaPositive writes n, or nothing when it is 0 (no attempt, no answer).
func itoaPositive(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return oneLine(err.Error())
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (w *Writer) syncLoop() {
	defer close(w.done)
	t := time.NewTicker(SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			if w.dirty && w.err == nil {
				w.err = w.f.Sync()
				w.dirty = false
			}
			w.mu.Unlock()
		}
	}
}

// Sync writes the lines written so far to stable storage.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.closeErr // Close synced it, or says why it could not
	}
	if w.err != nil {
		return w.err
	}
	w.err = w.f.Sync()
	w.dirty = false
	return w.err
}

// Close syncs and closes the report and, for a resumed run, puts it in place of the old one.
// It returns the first error met while writing.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && w.tmp != "" {
		err = os.Rename(w.tmp, w.path)
	}
	w.closed, w.closeErr = true, err
	if w.err == nil {
		w.err = errors.New("report closed")
	}
	return err
}

// Neutralize makes a cell that a spreadsheet would run as a formula inert, by prefixing it with
// a quote (OWASP CSV injection guidance). Ordinary emails, names and links are left exact.
func Neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// unneutralize undoes Neutralize for a cell read back.
func unneutralize(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}
