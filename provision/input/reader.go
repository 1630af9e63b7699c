// Package input reads the people of an HR export (CSV in any delimiter and encoding, or an
// .xlsx workbook) into provision rows: header mapping, validation and duplicate detection.
package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Options configure how an input is read. The zero value reads a CSV or .xlsx file with the
// column names and aliases of the README.
type Options struct {
	// Comma is the CSV delimiter; 0 detects ',', ';' or '\t' from the header line.
	Comma rune
	// Encoding is a WHATWG label ("windows-1252", "utf-16le", "latin1"...) for a CSV; ""
	// reads UTF-8, or UTF-16 with a byte-order mark, and refuses anything else.
	Encoding string
	// Sheet is the sheet of an .xlsx input; "" is the first visible one.
	Sheet string
	// Map names the input column to use for a field, as in "email" -> "Work Email". It takes
	// precedence over the built-in aliases. Fields firstname and lastname may be mapped too.
	Map map[string]string
	// Defaults fill empty team and locale cells.
	Defaults Defaults
	// HeaderRow is the line of a CSV file, or the row of a sheet, that holds the header,
	// from 1 (a blank one is passed over); 0 finds it: the first of the first 10 rows that
	// are not blank which holds an email column (by its name, an alias or Map), else the
	// first row, whose missing email column the error then names.
	HeaderRow int
}

// FileError is a problem with the input as a whole (its format, encoding or header): nothing
// can be sent. Msg names the problem in terms of the file; Given, when set, is the option whose
// value the problem is with, and Fix the options that would read the input. Error names the
// options in words ("the encoding"); Text lets a command line name them as its flags.
type FileError struct {
	Msg   string
	Given *Setting // the option as it was given, as {"Sheet", "Staf"}
	Fix   []Setting
	Err   error // the cause, if any
}

// Setting is an option and its value: Option is the name of an Options field ("Encoding",
// "Map", "HeaderRow", "Sheet"), Value what it is given, as "windows-1252" or "email=COLUMN".
type Setting struct {
	Option string
	Value  string
}

// optionWords name the Options fields in words, and lead says the first fix of each.
var (
	optionWords = map[string]string{"Encoding": "the encoding", "Map": "the column mapping", "HeaderRow": "the header row", "Sheet": "the sheet"}
	lead        = map[string]string{"Encoding": ". Give ", "Map": ", or use ", "HeaderRow": ", or use ", "Sheet": ", or use "}
)

func (e *FileError) Error() string {
	return e.Text(func(option string) string { return optionWords[option] })
}

// Text is the message with each option named by name: "the encoding" in Error, "--encoding"
// on a command line.
func (e *FileError) Text(name func(option string) string) string {
	var b strings.Builder
	if e.Given != nil {
		b.WriteString(name(e.Given.Option) + " " + e.Given.Value + ": ")
	}
	b.WriteString(e.Msg)
	for i, f := range e.Fix {
		if i == 0 {
			b.WriteString(lead[f.Option])
		} else {
			b.WriteString(" or ")
		}
		b.WriteString(name(f.Option) + " " + f.Value)
	}
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrReport is the cause of the FileError for an input that is a report of this program: its
// people would all be sent again, as the report's rows.
var ErrReport = errors.New("the input is a report of this program")

// records is where the cells of an input come from: CSV text or a worksheet.
type records interface {
	// next returns the cells of the next record (valid until the following call), the line or
	// sheet row it starts on, and for a record that is not well-formed why (its cells are then
	// what could be read). The error is io.EOF at the end, or what ends the input.
	next() (cells []string, line int, malformed string, err error)
	close() error
}

// Reader is a provision.Source over an input: it maps the header, and turns each record into
// a row, validated and checked against earlier rows for a repeated email or sub. It keeps one
// row in memory at a time, plus a 16-byte entry per email and sub seen. It is not safe for
// concurrent use.
type Reader struct {
	header     []string
	headerLine int // the line or sheet row of the header
	m          *mapping
	format     string
	comma      rune // the CSV delimiter, 0 for a workbook
	src        records
	width      int // cells in the header
	defaults   Defaults
	seen       seenKeys
	blank      int
	lastLine   int
	count      func(context.Context) (int64, error)
}

// headerSearch is how many rows, blank ones aside, may stand above the header: the title and
// date lines that HR systems put above their columns.
const headerSearch = 10

// newReader reads the header from src: the row opts.HeaderRow names, or else the first of the
// first headerSearch rows that are not blank which holds an email column (by its name, an
// alias or opts.Map); the rows above it are read as nothing.
func newReader(src records, format string, opts Options) (*Reader, error) {
	var header, first []string // the header, and the first row that is not blank
	var firstBad string
	var headerLine, searched int
	for header == nil {
		cells, line, bad, err := src.next()
		if err == io.EOF {
			if opts.HeaderRow > 0 {
				return nil, &FileError{Msg: fmt.Sprintf("the input has no row %d with cells in it, to be the header", opts.HeaderRow)}
			}
			if first == nil {
				return nil, &FileError{Msg: "the input is empty: expected a header row such as email,name,team"}
			}
			break
		}
		if errors.Is(err, ErrRecordTooLong) {
			return nil, &FileError{Msg: "a line of the header is longer than 16 MiB: is this a CSV file?", Err: err}
		}
		if err != nil {
			return nil, err
		}
		if blank(cells) || line < opts.HeaderRow {
			continue
		}
		searched++
		if first == nil {
			first, firstBad, headerLine = slices.Clone(cells), bad, line
		}
		if opts.HeaderRow > 0 || (bad == "" && hasEmail(cells, opts.Map)) {
			header, firstBad, headerLine = slices.Clone(cells), bad, line
		} else if searched == headerSearch {
			break
		}
	}
	if header == nil {
		header = first
	}
	if firstBad != "" {
		return nil, &FileError{Msg: fmt.Sprintf("cannot read the header row (row %d): %s", headerLine, firstBad)}
	}
	if err := reportColumns(header); err != nil {
		return nil, err
	}
	m, err := mapHeader(header, opts.Map)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) && opts.HeaderRow == 0 && searched > 1 && (fe.Err == errNoEmail || fe.Err == errNoColumn) {
			fe.Fix = append(fe.Fix, Setting{"HeaderRow", "N"})
		}
		return nil, err
	}
	return &Reader{header: header, headerLine: headerLine, m: m, format: format, src: src, width: len(header), defaults: opts.Defaults}, nil
}

// reportColumns refuses a header that is a report's or a mail report's: its status, link and
// message columns are what this program writes, and reading it back would send everyone again
// (a mail report, beside the report, would send everyone with an email only: no name, no sub).
// Three of them, one at least that only this program writes: an HR export may well have a
// Status, a User ID and a Sent at.
func reportColumns(header []string) error {
	var has []string
	ours := false
	for _, h := range header {
		switch n := normHeader(h); n {
		case "sessiontoken", "loginurl", "widgeturl", "linksha256":
			ours = true
			fallthrough
		case "status", "userid", "finishedat", "messageid", "sentat":
			has = append(has, strings.TrimSpace(h))
		}
	}
	if len(has) < 3 || !ours {
		return nil
	}
	return &FileError{Msg: fmt.Sprintf("the input is a report of this program, not an HR export (it has the columns %s): give the export the report was made from",
		strings.Join(has, ", ")), Err: ErrReport}
}

// Header returns the header row as found in the input.
func (r *Reader) Header() []string { return r.header }

// Columns returns, for each field read, the header cell it is read from: the fields of a
// person, and firstname and lastname when they are read.
func (r *Reader) Columns() map[string]string { return r.m.columns }

// Ignored returns the named header cells that fill no field, in header order.
func (r *Reader) Ignored() []string { return r.m.ignored }

// Format says what is read, as "csv (windows-1252, ';')" or "xlsx (sheet \"Staff\")".
func (r *Reader) Format() string { return r.format }

// Blank returns how many rows were skipped so far because every cell was empty.
func (r *Reader) Blank() int { return r.blank }

// CountRows returns the number of data rows of the input, for a progress bar: from an .xlsx
// sheet's dimension at once, by reading a CSV file a second time (decoded as the run reads
// it), and 0 for standard input. Blank rows are counted; a CSV's count is exact for
// well-formed files.
func (r *Reader) CountRows(ctx context.Context) (int64, error) {
	if r.count == nil {
		return 0, nil
	}
	return r.count(ctx)
}

// Close releases the input: its file, and an .xlsx's temporary files.
func (r *Reader) Close() error { return r.src.close() }

// Read returns the next row. Rows that cannot be sent come back with Row.Err set and a nil
// error; the error is io.EOF at the end, or a read failure that ends the input.
func (r *Reader) Read() (provision.Row, error) {
	for {
		cells, line, bad, err := r.src.next()
		if err == io.EOF {
			return provision.Row{}, io.EOF
		}
		if err != nil {
			return provision.Row{}, fmt.Errorf("after line %d: %w", r.lastLine, err)
		}
		r.lastLine = line
		if bad == "" && blank(cells) {
			r.blank++
			continue
		}
		row := provision.Row{Line: line}
		r.fill(&row.User, cells)
		row.Err = normalize(line, &row.User, r.defaults)
		switch clipped, swallowed := r.clippedErr(line), r.swallowed(line, cells); {
		case bad != "":
			row.Err = &provision.RowError{Line: line, Msg: bad}
		case swallowed != "":
			row.Err = &provision.RowError{Line: line, Msg: swallowed}
		case clipped != nil:
			row.Err = clipped
		case len(cells) > r.width && !blank(cells[r.width:]):
			row.Err = &provision.RowError{Line: line, Msg: fmt.Sprintf("%d cells, but the header has %d: a value past the last column (%s)", len(cells), r.width, r.extraHint())}
		case row.Err == nil:
			row.Err = r.dedup(row)
		}
		return row, nil
	}
}

// clippedErr says which cell of the record on line was too long to be kept whole, or nil.
func (r *Reader) clippedErr(line int) error {
	src, ok := r.src.(interface{ clippedCells() []clippedCell })
	if !ok || len(src.clippedCells()) == 0 {
		return nil
	}
	c := src.clippedCells()[0]
	for f := range numColumns {
		if c.cell == r.m.col[f] || c.cell == r.m.alt[f] {
			name := columnName(f)
			if f == firstName || f == lastName {
				name = "name"
			}
			return &provision.RowError{Line: line, Field: name, Msg: tooLong(c.bytes)}
		}
	}
	column := fmt.Sprintf("%d", c.cell+1)
	if c.cell < len(r.header) && strings.TrimSpace(r.header[c.cell]) != "" {
		column = fmt.Sprintf("%q", strings.TrimSpace(r.header[c.cell]))
	}
	return &provision.RowError{Line: line, Msg: fmt.Sprintf("the cell of column %s is %d bytes; a row holds at most %d", column, c.bytes, MaxRecordBytes)}
}

// swallowed says which lines inside the quoted cells of the CSV record on line look like rows
// of their own: a stray quote at the start of a cell and another at the end of a cell lines
// later make one well-formed cell of the rows between, which a name or team takes as text, and
// those people would be neither sent nor reported. A line looks like a row when it holds the
// delimiter and an address where the header has the email column. "" when none does.
func (r *Reader) swallowed(line int, cells []string) string {
	if r.comma == 0 {
		return ""
	}
	email := r.m.col[provision.FieldIndex("email")]
	var found []string
	first, last, at, n := 0, 0, line, 0
	for _, c := range cells {
		if !strings.Contains(c, "\n") {
			continue
		}
		for _, l := range strings.Split(c, "\n")[1:] {
			at++
			cols := strings.Split(l, string(r.comma))
			if len(cols) < 2 || email < 0 || email >= len(cols) || checkEmail(strings.TrimSpace(cols[email])) != "" {
				continue
			}
			if first == 0 {
				first = at
			}
			if last, n = at, n+1; n <= 3 {
				found = append(found, fmt.Sprintf("%s on line %d", quote(strings.TrimSpace(cols[email])), at))
			}
		}
	}
	if first == 0 {
		return ""
	}
	if n > 3 {
		found = append(found, fmt.Sprintf("and %d more", n-3))
	}
	what := fmt.Sprintf("lines %d to %d look like rows of their own", first, last)
	if first == last {
		what = fmt.Sprintf("line %d looks like a row of its own", first)
	}
	return fmt.Sprintf("this row runs to line %d inside a quoted cell, and %s (%s): is a quote (\") left open? Close it, or remove it", at, what, strings.Join(found, ", "))
}

// fill copies the cells of the row's fields into u, and joins the first and last name into the
// name when it is empty. A row shorter than the header reads as if its last cells were empty.
func (r *Reader) fill(u *provision.User, cells []string) {
	at := func(i int) string {
		if i >= 0 && i < len(cells) {
			return cells[i]
		}
		return ""
	}
	cell := func(f int) string {
		if c := at(r.m.col[f]); strings.TrimSpace(c) != "" || r.m.alt[f] < 0 {
			return c
		}
		return at(r.m.alt[f])
	}
	for f := range provision.Fields {
		*provision.Fields[f].Of(u) = cell(f)
	}
	if strings.TrimSpace(u.Name) == "" {
		first, last := strings.TrimSpace(cell(firstName)), strings.TrimSpace(cell(lastName))
		u.Name = strings.TrimSpace(first + " " + last)
	}
}

func (r *Reader) extraHint() string {
	if strings.HasPrefix(r.format, "csv") {
		return "a delimiter inside a cell that is not quoted?"
	}
	return "a cell with no column name"
}

// blank reports whether every cell is empty or spaces: rows like ",,," that spreadsheets leave
// at the end of an export.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// dedup rejects a row whose email or sub an earlier valid row already had.
func (r *Reader) dedup(row provision.Row) error {
	ek := hashKey('e', provision.EmailKey(row.User.Email))
	if first, ok := r.seen.first(ek); ok {
		return &provision.RowError{Line: row.Line, Field: "email", Msg: fmt.Sprintf("%s repeats row %d", quote(row.User.Email), first)}
	}
	var sk keyHash
	if row.User.Sub != "" {
		sk = hashKey('s', row.User.Sub)
		if first, ok := r.seen.first(sk); ok {
			return &provision.RowError{Line: row.Line, Field: "sub", Msg: fmt.Sprintf("%s repeats row %d", quote(row.User.Sub), first)}
		}
		r.seen.add(sk, row.Line)
	}
	r.seen.add(ek, row.Line)
	return nil
}
