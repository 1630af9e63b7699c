package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Line is one line of a report as later steps (mail, the demo) read it: every column but the
// session token, which no later step needs.
type Line struct {
	Row int // the input line number of the person's data row
	provision.User
	Status    string
	UserID    string
	LoginURL  string
	WidgetURL string
	Error     string
	Change    string // empty in a report without the change column
	// Finished is finished_at, to the second; zero when the line has none (a row not sent).
	Finished time.Time
}

// lineColumns are the columns ReadLines needs; the others may be absent.
var lineColumns = []string{"row", "email", "status", "login_url", "widget_url"}

// what is what a report is, for the errors of a file that is not one.
const what = "a report of ideanote-provision"

// ReadLines reads every complete line of the report at path, in the order of the file, each
// cell as it was before it was written. A last line without a newline at its end is read when it
// holds every column (an editor saved it so); one cut short by a crash is dropped. A line whose
// row is not a number is an error naming its line in the file.
func ReadLines(path string) ([]Line, error) {
	var lines []Line
	err := readRecords(path, what, lineColumns, true, nil, func(r Record) error {
		row, err := strconv.Atoi(strings.TrimSpace(r.Cell("row")))
		if err != nil {
			return fmt.Errorf("%s: line %d: row %q is not a number", path, r.Line, r.Cell("row"))
		}
		l := Line{User: r.user(), Row: row, Status: r.Cell("status"), UserID: r.Cell("user_id"), LoginURL: r.Cell("login_url"),
			WidgetURL: r.Cell("widget_url"), Error: r.Cell("error"), Change: r.Cell(ChangeColumn), Finished: r.finished()}
		lines = append(lines, l)
		return nil
	})
	if errors.Is(err, ErrEmpty) {
		return nil, fmt.Errorf("%s: empty; expected %s", path, what)
	}
	return lines, err
}
