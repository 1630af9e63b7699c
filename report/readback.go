package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gocarina/gocsv"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Done is what an earlier run recorded for a row that ended ok.
type Done struct {
	UserID   string
	Token    string
	Finished time.Time
	Change   string // the change column, when the report has one (--state)
}

// DoneSet holds the rows already ok in an earlier report, keyed by email and sub.
type DoneSet map[string]Done

// Key is how rows of a resumed report are matched: lower-cased email and sub.
func Key(u provision.User) string { return provision.EmailKey(u.Email) + "\x00" + u.Sub }

// Skip returns the skipped result for a row already ok, for provision.Job.Skip.
func (s DoneSet) Skip(row provision.Row) (provision.Result, bool) {
	d, ok := s[Key(row.User)]
	if !ok {
		return provision.Result{}, false
	}
	return provision.Result{Row: row, Status: provision.StatusSkipped, UserID: d.UserID, Token: d.Token, Finished: d.Finished, Change: d.Change}, true
}

// ReadBack reads the rows that ended ok (or were skipped as ok) in the report at path, and in
// the unfinished report of an interrupted resume beside it. A missing report is an empty set.
// A last line cut short by a crash is dropped.
func ReadBack(path string) (DoneSet, error) {
	set := make(DoneSet)
	for _, p := range []string{path, TempPath(path)} {
		if err := readInto(set, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return set, nil
}

func readInto(set DoneSet, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	end, err := lastNewline(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if end == 0 {
		return nil
	}
	cr := csv.NewReader(io.LimitReader(f, end))
	cr.FieldsPerRecord = -1
	// The report is read by its header's names, so that its columns may move or grow (change).
	um, err := gocsv.NewUnmarshaller(cr, reportLine{})
	if err != nil {
		return fmt.Errorf("%s: not a report of ideanote-provision: %w", path, err)
	}
	if missing := slices.DeleteFunc(slices.Clone(um.MismatchedStructFields), func(c string) bool { return c == ChangeColumn || c == "finished_at" }); len(missing) > 0 {
		return fmt.Errorf("%s: not a report of ideanote-provision (no %s column); give another --report", path, strings.Join(missing, ", "))
	}
	for {
		v, err := um.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		l := v.(reportLine)
		status, token := provision.Status(unneutralize(l.Status)), unneutralize(l.Token)
		if (status != provision.StatusOK && status != provision.StatusSkipped) || token == "" {
			continue
		}
		finished, _ := time.Parse(time.RFC3339, l.Finished)
		u := provision.User{Email: unneutralize(l.Email), Sub: unneutralize(l.Sub)}
		set[Key(u)] = Done{UserID: unneutralize(l.UserID), Token: token, Finished: finished, Change: l.Change}
	}
}

// reportLine is what a resumed run reads of a report line.
type reportLine struct {
	Email    string `csv:"email"`
	Sub      string `csv:"sub"`
	Status   string `csv:"status"`
	UserID   string `csv:"user_id"`
	Token    string `csv:"session_token"`
	Finished string `csv:"finished_at"`
	Change   string `csv:"change"`
}

// lastNewline returns the length of f up to and including its last newline: what follows was
// being written when the run died.
func lastNewline(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	for end := st.Size(); end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}
