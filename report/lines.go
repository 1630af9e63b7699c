package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"
)

// Line is one line of a report as later steps (mail) read it: every column but the session
// token, which no later step needs.
type Line struct {
	Row       int // the input line number of the person's data row
	Email     string
	Sub       string
	Name      string
	Team      string
	Locale    string
	Status    string
	UserID    string
	LoginURL  string
	WidgetURL string
	Error     string
	Change    string // empty in a report without the change column
}

// lineColumns are the columns ReadLines needs; the others may be absent.
var lineColumns = []string{"row", "email", "status", "login_url", "widget_url"}

// ReadLines reads every complete line of the report at path, in the order of the file, with
// the cells that Neutralize changed restored. A last line cut short by a crash is dropped. A
// line whose row is not a number is an error naming its line in the file.
func ReadLines(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	end, err := lastNewline(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	br := bufio.NewReader(io.LimitReader(f, end))
	// A report saved again by a spreadsheet may have gained a byte order mark.
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	um, err := gocsv.NewUnmarshaller(cr, lineCells{})
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty; expected a report of ideanote-provision", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a report of ideanote-provision: %w", path, err)
	}
	var missing []string
	for _, c := range um.MismatchedStructFields {
		if slices.Contains(lineColumns, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: not a report of ideanote-provision (no %s column)", path, strings.Join(missing, ", "))
	}
	var lines []Line
	for n := 2; ; n++ {
		v, err := um.Read()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c := v.(lineCells)
		row, err := strconv.Atoi(strings.TrimSpace(c.Row))
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: row %q is not a number", path, n, c.Row)
		}
		lines = append(lines, Line{Row: row, Email: unneutralize(c.Email), Sub: unneutralize(c.Sub),
			Name: unneutralize(c.Name), Team: unneutralize(c.Team), Locale: unneutralize(c.Locale),
			Status: unneutralize(c.Status), UserID: unneutralize(c.UserID), LoginURL: unneutralize(c.LoginURL),
			WidgetURL: unneutralize(c.WidgetURL), Error: unneutralize(c.Error), Change: unneutralize(c.Change)})
	}
}

// lineCells is a report line as read by its header's names.
type lineCells struct {
	Row       string `csv:"row"`
	Email     string `csv:"email"`
	Sub       string `csv:"sub"`
	Name      string `csv:"name"`
	Team      string `csv:"team"`
	Locale    string `csv:"locale"`
	Status    string `csv:"status"`
	UserID    string `csv:"user_id"`
	LoginURL  string `csv:"login_url"`
	WidgetURL string `csv:"widget_url"`
	Error     string `csv:"error"`
	Change    string `csv:"change"`
}

// Unneutralize undoes Neutralize for a cell read back from a CSV file written with it.
func Unneutralize(s string) string { return unneutralize(s) }
