package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Done is what an earlier run recorded for a row that ended ok: its line, all but the links
// (made again from the token) and what only the attempt had (attempts, HTTP status).
type Done struct {
	Row      int            // the row number of the line
	User     provision.User // the person as the line shows them (no avatar: the report has none)
	UserID   string
	Token    string
	Finished time.Time
	Change   string // the change column, when the report has one (a run with a state)
}

// DoneSet holds the rows already ok in an earlier report, by lower-cased email.
type DoneSet map[string]Done

// match returns the row of the set that u is: the same email, and the same sub unless one of
// them has none (a sub added or dropped by a new column mapping is still the same person, whereas two
// different subs are two users for the endpoint).
func (s DoneSet) match(u provision.User) (Done, bool) {
	d, ok := s[provision.EmailKey(u.Email)]
	if !ok || (d.User.Sub != "" && u.Sub != "" && d.User.Sub != u.Sub) {
		return Done{}, false
	}
	return d, true
}

// Skip returns the skipped result for a row already ok, for provision.Job.Skip: the same
// person (match), with the name, team and locale their line shows. A person whose data changed
// since is sent again, so that the change reaches Ideanote, and so that the state never records
// as sent data that was not (the report has no avatar: a changed avatar alone is not seen).
func (s DoneSet) Skip(row provision.Row) (provision.Result, bool) {
	d, ok := s.match(row.User)
	if !ok || !samePerson(d.User, row.User) {
		return provision.Result{}, false
	}
	return d.skipped(row), true
}

// skipped is the result of row, skipped: the person's earlier line, d, stands.
func (d Done) skipped(row provision.Row) provision.Result {
	return provision.Result{Row: row, Status: provision.StatusSkipped, UserID: d.UserID, Token: d.Token, Finished: d.Finished, Change: d.Change}
}

// samePerson reports whether a and b, the same person by match, hold the same data of what the
// report shows: the email and sub are match's (the case of an email, a sub added or dropped by
// a new column mapping, are still that person).
func samePerson(a, b provision.User) bool {
	for _, f := range personFields {
		if f.Name != "email" && f.Name != "sub" && *f.Of(&a) != *f.Of(&b) {
			return false
		}
	}
	return true
}

// MismatchError says that most rows ok in a report are not in the input being resumed.
type MismatchError struct {
	OK      int // rows ok in the report
	Matched int // of them, found in the input
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("only %d of the %d rows ok in the report are in this input (matched by email, and by sub when both have one): the input or its column mapping has changed since that run",
		e.Matched, e.OK)
}

// Check reads rows from src until at least half of the rows of the set have been found in it,
// and returns a *MismatchError when the input ends before: resuming would then send again
// people who already have a link, which is never what was meant.
//
// It runs before anything is sent, on a second reading of the input, and keeps only the set
// of rows found (a pointer to the key of each): a resumed run usually stopped part-way, so its
// ok rows are the first of the input and the check stops after reading about half of them.
func (s DoneSet) Check(src provision.Source) error {
	if len(s) == 0 {
		return nil
	}
	found := make(map[string]struct{}, len(s)/2+1)
	for len(found)*2 < len(s) {
		row, err := src.Read()
		if err == io.EOF {
			return &MismatchError{OK: len(s), Matched: len(found)}
		}
		if err != nil {
			return err
		}
		if row.Err != nil {
			continue
		}
		if _, ok := s.match(row.User); ok {
			found[provision.EmailKey(row.User.Email)] = struct{}{}
		}
	}
	return nil
}

// ReadBack reads the rows that ended ok (or were skipped as ok) in the report at path, and in
// the unfinished report of an interrupted resume beside it (whose lines win). A missing report
// is an empty set. A last line without a newline at its end is read when it holds every column
// (an editor that writes none after the last line); one that does not was cut short by a crash
// and is dropped, and cut, when not nil, is told its file and line number.
func ReadBack(path string, cut func(path string, line int)) (DoneSet, error) {
	set := make(DoneSet)
	for _, p := range []string{path, TempPath(path)} {
		if err := readInto(set, p, cut); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return set, nil
}

func readInto(set DoneSet, path string, cut func(path string, line int)) error {
	err := readRecords(path, what, resumeColumns, true, cut, func(r Record) error {
		status, token := provision.Status(r.Cell("status")), r.Cell("session_token")
		if (status != provision.StatusOK && status != provision.StatusSkipped) || token == "" {
			return nil
		}
		row, _ := strconv.Atoi(strings.TrimSpace(r.Cell("row")))
		d := Done{Row: row, User: r.user(), UserID: r.Cell("user_id"), Token: token, Finished: r.finished(), Change: r.Cell(ChangeColumn)}
		set[provision.EmailKey(d.User.Email)] = d
		return nil
	})
	if errors.Is(err, ErrEmpty) {
		return nil
	}
	return err
}

// resumeColumns are the columns a resumed run needs of a report.
var resumeColumns = []string{"email", "sub", "status", "user_id", "session_token"}

// lastNewline returns the length of f up to and including its last newline, and its size: what follows was
// being written when the run died.
func lastNewline(f *os.File) (end, size int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size = st.Size()
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, size, nil
		}
		end = start
	}
	return 0, size, nil
}
