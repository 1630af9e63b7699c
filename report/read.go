package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// ErrEmpty is returned by ReadRecords for a file without a complete header line.
var ErrEmpty = errors.New("empty")

// Record is one line of a CSV file written by a LineFile, read by its header's names, so that
// columns may move or be added.
type Record struct {
	Line  int // the record's number in the file: 2 for the first after the header
	cols  map[string]int
	cells []string
}

// Cell returns the value written in the column name, exactly: the guard against spreadsheet
// formulas is undone. It is "" when the file has no such column.
func (r Record) Cell(name string) string {
	if i, ok := r.cols[name]; ok && i < len(r.cells) {
		return unneutralize(r.cells[i])
	}
	return ""
}

// user is the person of the line, as the report shows them.
func (r Record) user() (u provision.User) {
	for _, f := range personFields {
		*f.Of(&u) = r.Cell(f.Name)
	}
	return u
}

// finished is the line's finished_at; the zero time when it has none.
func (r Record) finished() time.Time {
	t, _ := time.Parse(time.RFC3339, r.Cell("finished_at"))
	return t
}

// ReadRecords calls fn with each complete line of the CSV file at path, in the order of the
// file: the one reader of the files a LineFile writes (the report, the mail report). A last
// line cut short by a crash is dropped, and a byte order mark that a spreadsheet added is
// skipped. A file without the columns of need is not what, as in "a report of
// ideanote-provision". An error of fn ends the reading and is returned.
func ReadRecords(path, what string, need []string, fn func(Record) error) error {
	return readRecords(path, what, need, false, nil, fn)
}

// readRecords is ReadRecords; with wholeTail, a last line without a newline at its end is read
// when it parses as one record of the header's width: an editor that writes no newline after
// the last line saves it so. Else it was cut short by a crash, and cut, when not nil, is told its
// line number. A cut can only shorten the last cell of such a line, so it is taken only where
// that cell is not one to trust whole (not the mail report's link hash, which ReadRecords reads).
func readRecords(path, what string, need []string, wholeTail bool, cut func(path string, line int), fn func(Record) error) error {
	// Another user's file, or a link to one, could feed a resume rows it never sent, or a mail
	// run links to send: only a regular file of this user is read.
	f, err := safefile.OpenExisting(path, os.O_RDONLY, safefile.Options{})
	if err != nil {
		return err
	}
	defer f.Close()
	end, size, err := lastNewline(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	br := bufio.NewReader(io.LimitReader(f, end))
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	if err != nil {
		return fmt.Errorf("%s: not %s: %w", path, what, err)
	}
	width := len(header)
	rec := Record{cols: make(map[string]int, len(header))}
	for i, h := range header {
		rec.cols[h] = i
	}
	var missing []string
	for _, c := range need {
		if _, ok := rec.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: not %s (no %s column)", path, what, strings.Join(missing, ", "))
	}
	for rec.Line = 2; ; rec.Line++ {
		rec.cells, err = cr.Read()
		if err == io.EOF {
			var tellCut func()
			if cut != nil {
				tellCut = func() { cut(path, rec.Line) }
			}
			return readTail(f, end, size, width, wholeTail, rec, tellCut, fn)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// readTail reads what follows the last newline of f, from end to size: a last line without a
// newline. It calls fn with it when wholeTail and it is one record of width cells; else, unless
// it is blank, it calls cut.
func readTail(f *os.File, end, size int64, width int, wholeTail bool, rec Record, cut func(), fn func(Record) error) error {
	if size <= end {
		return nil
	}
	tail := make([]byte, size-end)
	if _, err := f.ReadAt(tail, end); err != nil && err != io.EOF {
		return err
	}
	if len(bytes.TrimSpace(tail)) == 0 {
		return nil
	}
	if wholeTail {
		recs, err := csv.NewReader(bytes.NewReader(tail)).ReadAll()
		if err == nil && len(recs) == 1 && len(recs[0]) == width {
			rec.cells = recs[0]
			return fn(rec)
		}
	}
	if cut != nil {
		cut()
	}
	return nil
}
