// Package report writes the report CSV of a run, reads it back to resume, and builds the
// login links that the report holds.
package report

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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

// ErrExists is returned by Create when the report exists and may not be replaced.
var ErrExists = errors.New("report exists")

// Mode says what Create does with a report that already exists.
type Mode int

const (
	New       Mode = iota // fail with ErrExists
	Overwrite             // replace it
	Resume                // write beside it, and replace it on Close
)

// Writer writes report lines, one per result, on a LineFile: each line is flushed as it is
// written and the file synced every SyncInterval and on Close. Write and Close are called from one
// goroutine.
type Writer struct {
	Links Links

	*LineFile
	rec    []string
	change bool // the change column is written
}

// ErrLeftOver is returned by ModeFor when a resumed run was interrupted before its report was
// complete: only a run that resumes (which reads both files) or overwrites may go on from there.
var ErrLeftOver = errors.New("left from an interrupted resumed run")

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
	w := &Writer{Links: links}
	for _, o := range opts {
		o(w)
	}
	header := Columns
	if w.change {
		header = append(slices.Clip(Columns), ChangeColumn)
	}
	lf, err := CreateLineFile(path, mode, header)
	if err != nil {
		return nil, err
	}
	w.LineFile, w.rec = lf, make([]string, 0, len(header))
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
	return w.LineFile.Write(r)
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

// Neutralize makes a cell that a spreadsheet would run as a formula inert, by prefixing it with
// a quote (OWASP CSV injection guidance). A cell that starts with a quote gets one too, so that
// reading back strips exactly one quote from any cell that starts with one, and returns every
// value as it was: '=x stays '=x, where stripping a quote only before a formula's first
// character read it back as =x. Ordinary emails, names and links are left exact.
func Neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return "'" + s
	}
	return s
}

// unneutralize undoes Neutralize for a cell read back.
func unneutralize(s string) string {
	if s != "" && s[0] == '\'' {
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
