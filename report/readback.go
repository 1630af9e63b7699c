package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

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
	cr := csv.NewReader(io.LimitReader(f, end))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: not a report of ideanote-provision: %w", path, err)
	}
	col := make(map[string]int)
	for i, h := range header {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, need := range []string{"email", "sub", "status", "user_id", "session_token"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("%s: not a report of ideanote-provision (no %s column); give another --report", path, need)
		}
	}
	get := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return unneutralize(rec[i])
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		status := provision.Status(get(rec, "status"))
		token := get(rec, "session_token")
		if (status != provision.StatusOK && status != provision.StatusSkipped) || token == "" {
			continue
		}
		finished, _ := time.Parse(time.RFC3339, get(rec, "finished_at"))
		u := provision.User{Email: get(rec, "email"), Sub: get(rec, "sub")}
		set[Key(u)] = Done{UserID: get(rec, "user_id"), Token: token, Finished: finished, Change: get(rec, ChangeColumn)}
	}
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
