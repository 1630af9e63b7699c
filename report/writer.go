// Package report writes the report CSV of a run, reads it back to resume, and builds the
// login links that the report holds.
package report

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
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
	change bool    // the change column is written
	keep   DoneSet // the rows ok in the report being resumed (Keep)
	// rest are the keys of keep that no ok or skipped line of this run has named yet: Close
	// writes them.
	rest map[string]struct{}
	// bySub are the keys of keep by their line's sub, so that a line of this run removes from
	// rest the same person under another email.
	bySub map[string][]string
}

// Keep makes a resumed report keep every row ok in the report it replaces (done, as ReadBack
// read it from the report and its TempPath), whatever this run does: the people of those rows
// are provisioned, and their links must stay in a report that --resume and mail read. Before
// anything is written, a TempPath left by an interrupted resume is folded into the report: the
// report is replaced by one holding every row of done, synced, so that the TempPath can be
// replaced. At Close (or WriteKept), the rows of done whose person (as --resume pairs them: by
// sub when both have one, else by email) this run gave no ok or skipped line
// (an input without them, a run interrupted before it read them, a row sent again that did not
// end ok) are written as skipped, with their line's row number and data.
func Keep(done DoneSet) Option { return func(w *Writer) { w.keep = done } }

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

// Create opens a report for writing with mode 0600 and writes the header. The caller holds the
// lock of path (internal/lock), as a provisioning run does: first Create removes, whatever
// their age, the temporary files that a run killed while it folded the report left beside it
// (safefile.RemoveStale), which no run of path can be writing while the lock is held.
func Create(path string, mode Mode, links Links, opts ...Option) (*Writer, error) {
	// A missing folder is CreateLineFile's to report; one the run may write but not list
	// (mode 0300) holds nothing it can find to remove, and the report is written all the same.
	if err := safefile.RemoveStale(path, 0); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("removing what a killed run left beside %s: %w", path, err)
	}
	w := &Writer{Links: links}
	for _, o := range opts {
		o(w)
	}
	header := Columns
	if w.change {
		header = append(slices.Clip(Columns), ChangeColumn)
	}
	w.rec = make([]string, 0, len(header))
	if mode != Resume {
		w.keep = nil
	}
	if len(w.keep) > 0 {
		if err := w.fold(path, header); err != nil {
			return nil, err
		}
		w.rest = make(map[string]struct{}, len(w.keep))
		w.bySub = make(map[string][]string)
		for k, d := range w.keep {
			w.rest[k] = struct{}{}
			if d.User.Sub != "" {
				w.bySub[d.User.Sub] = append(w.bySub[d.User.Sub], k)
			}
		}
	}
	lf, err := CreateLineFile(path, mode, header)
	if err != nil {
		return nil, err
	}
	w.LineFile = lf
	return w, nil
}

// fold replaces the report at path with one holding every row of w.keep, when an interrupted
// resume left TempPath(path): CreateLineFile replaces that file, and the rows read back from it
// would otherwise be on disk nowhere until this run reached them again. The new file is synced
// before it is renamed, and the rename before TempPath is replaced.
func (w *Writer) fold(path string, header []string) error {
	if _, err := os.Lstat(TempPath(path)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	err := safefile.Replace(path, 0o600, func(f *os.File) error {
		cw := csv.NewWriter(f)
		cw.Write(header)
		for _, res := range w.keptResults(w.keep) {
			rec := w.line(res)
			for i := range rec {
				rec[i] = Neutralize(rec[i])
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	return safefile.SyncDir(filepath.Dir(path))
}

// keptResults returns the skipped results of the rows of keep whose keys are in set, by row.
func (w *Writer) keptResults(set map[string]Done) []provision.Result {
	out := make([]provision.Result, 0, len(set))
	for _, d := range set {
		out = append(out, d.skipped(provision.Row{Line: d.Row, User: d.User}))
	}
	slices.SortFunc(out, func(a, b provision.Result) int {
		return cmp.Or(cmp.Compare(a.Row.Line, b.Row.Line), strings.Compare(a.Row.User.Email, b.Row.User.Email))
	})
	return out
}

// WriteKept writes, as skipped lines, the rows of Keep that no ok or skipped line of this run
// has named, and returns their results, for the run to count. Close calls it when the run has
// not; the report is put in place of the old one only with those lines written.
func (w *Writer) WriteKept() ([]provision.Result, error) {
	if len(w.rest) == 0 {
		return nil, nil
	}
	left := make(map[string]Done, len(w.rest))
	for k := range w.rest {
		left[k] = w.keep[k]
	}
	kept := w.keptResults(left)
	for _, res := range kept {
		if err := w.Write(res); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// Close writes the rows of Keep not written yet (WriteKept), then syncs and closes the file
// and, when resuming, puts it in place of the old one; a line not written keeps the old one.
func (w *Writer) Close() error {
	w.WriteKept() // an error is the LineFile's, which Close returns
	return w.LineFile.Close()
}

// Write writes the line of one result and flushes it to the file.
func (w *Writer) Write(res provision.Result) error {
	if w.rest != nil && (res.Status == provision.StatusOK || res.Status == provision.StatusSkipped) {
		w.named(res.Row.User)
	}
	return w.LineFile.Write(w.line(res))
}

// named removes from w.rest every kept row of the person u, as DoneSet.match pairs them: by
// sub when both have one, else by email. Another email with u's sub is u, whose old address
// must not keep an older link; the same email with another sub is another user, whose line
// stays.
func (w *Writer) named(u provision.User) {
	if u.Sub != "" {
		for _, k := range w.bySub[u.Sub] {
			delete(w.rest, k)
		}
	}
	k := provision.EmailKey(u.Email)
	if d, ok := w.keep[k]; ok && (d.User.Sub == "" || u.Sub == "") {
		delete(w.rest, k)
	}
}

// line returns the cells of the line of res, in w.rec.
func (w *Writer) line(res provision.Result) []string {
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
	return r
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
