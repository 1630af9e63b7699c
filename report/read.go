package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
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

// ReadRecords calls fn with each complete line of the CSV file at path, in the order of the
// file: the one reader of the files a LineFile writes (the report, the mail report). A last
// line cut short by a crash is dropped, and a byte order mark that a spreadsheet added is
// skipped. A file without the columns of need is not what, as in "a report of
// ideanote-provision". An error of fn ends the reading and is returned.
func ReadRecords(path, what string, need []string, fn func(Record) error) error {
	// Another user's file, or a link to one, could feed a resume rows it never sent, or a mail
	// run links to send: only a regular file of this user is read.
	f, err := safefile.OpenExisting(path, os.O_RDONLY, safefile.Options{})
	if err != nil {
		return err
	}
	defer f.Close()
	end, err := lastNewline(f)
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
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}
