// Package input reads the people of an HR export (CSV in any encoding, or an .xlsx workbook)
// into provision rows: header mapping, validation and duplicate detection.
package input

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"io"
	"strings"
	"unicode/utf8"
)

// Options configure a Reader. The zero value reads a comma- or semicolon-separated file with
// the column names of SPEC.md.
type Options struct {
	// Comma is the field delimiter; 0 detects ',', ';' or '\t' from the header line.
	Comma rune
	// Map names the input column to use for a field, as in "email" -> "Work Email". It takes
	// precedence over the built-in aliases.
	Map map[string]string
	// Defaults fill empty team and locale cells.
	Defaults Defaults
}

// aliases maps a normalised header name to the field it fills.
var aliases = map[string]string{
	"email": "email", "mail": "email", "emailaddress": "email",
	"sub": "sub", "externalid": "sub", "employeeid": "sub", "id": "sub",
	"name": "name", "fullname": "name", "displayname": "name",
	"team": "team", "department": "team",
	"locale": "locale", "language": "locale",
	"avatar": "avatar", "avatarurl": "avatar", "photo": "avatar",
}

// normHeader folds a header name for matching: lower case, without spaces, '_' and '-'.
func normHeader(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t', '\u00a0', '\ufeff':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// HeaderError is a problem with the header row or the file as a whole: nothing can be sent.
type HeaderError struct{ Msg string }

func (e *HeaderError) Error() string { return e.Msg }

// MaxRecordBytes bounds one row of the input, unknown columns included. Past it the input is
// refused: such a row is almost always a quote left open, which would otherwise make the CSV
// parser hold the rest of the file as one cell.
const MaxRecordBytes = 1 << 20

// ErrRecordTooLong ends the input when a row is longer than MaxRecordBytes.
var ErrRecordTooLong = errors.New("a row longer than 1 MiB: is a quote left open?")

// Reader streams rows from CSV input: one row in memory at a time, plus a 12-byte digest per
// email and sub seen, for duplicate detection. It is not safe for concurrent use.
//
// Rows are read with encoding/csv directly rather than through gocsv's Unmarshaller (which
// reads our own, well-formed reports back for --resume): gocsv drops the record of a row that
// fails to parse, so a ragged row could not be named by its email, and it hides the field
// count that the width check below needs.
type Reader struct {
	// Header is the header row as found in the file.
	Header []string
	// Columns maps each field found to the header it was read from.
	Columns map[string]string
	// Comma is the delimiter in use, detected or given.
	Comma rune
	// Blank counts rows skipped because every cell was empty.
	blank int

	csv      *csv.Reader
	guard    *recordGuard
	index    [len(provision.Fields)]int // column of each field of provision.Fields, -1 when absent
	named    int                        // header cells up to the last one with a name
	lastLine int
	defaults Defaults
	seen     seenKeys
}

// NewReader reads the header row of in and returns a Reader positioned on the first data row.
// A *HeaderError means the file cannot be used at all.
func NewReader(in io.Reader, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	if err := dropBOM(br); err != nil {
		return nil, err
	}
	head, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, &HeaderError{"the input holds NUL bytes, as UTF-16 does: save it as \"CSV UTF-8\" and run again"}
	}
	var src io.Reader = br
	if crOnly(head) {
		// Classic Mac line ends ("CSV (Macintosh)" in old Excel). encoding/csv keeps a lone CR
		// inside a cell, so the whole file would read as one header row; every CR becomes a
		// line end instead. A CR inside a quoted cell turns into LF, which is what it meant.
		src = crToLF{br}
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(head)
	}
	guard := &recordGuard{r: src, max: MaxRecordBytes}
	cr := csv.NewReader(guard)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // the width check in Read makes a ragged row invalid, not fatal
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		switch pe := (*csv.ParseError)(nil); {
		case errors.Is(err, io.EOF):
			return nil, &HeaderError{"the input is empty: expected a header row such as email,name,team"}
		case errors.Is(err, ErrRecordTooLong):
			return nil, &HeaderError{"the header row is longer than 1 MiB: is a quote left open?"}
		case errors.As(err, &pe):
			return nil, &HeaderError{fmt.Sprintf("cannot read the header row: %v", pe)}
		}
		return nil, err
	}
	header = append([]string(nil), header...)
	for _, h := range header {
		if !utf8.ValidString(h) {
			return nil, &HeaderError{"the header row is not valid UTF-8 (Latin-1 or Windows-1252?): save the file as \"CSV UTF-8\" and run again"}
		}
	}
	canon, cols, err := mapHeader(header, opts.Map)
	if err != nil {
		return nil, err
	}
	r := &Reader{Header: header, Columns: cols, Comma: comma, csv: cr, guard: guard,
		lastLine: 1, defaults: opts.Defaults}
	for i := range r.index {
		r.index[i] = -1
	}
	for i, f := range canon {
		if f != "" {
			r.index[provision.FieldIndex(f)] = i
		}
		if strings.TrimSpace(header[i]) != "" {
			r.named = i + 1
		}
	}
	return r, nil
}

// mapHeader returns, for each header cell, the field it fills ("" for ignored columns).
func mapHeader(header []string, explicit map[string]string) ([]string, map[string]string, error) {
	canon := make([]string, len(header))
	cols := make(map[string]string)
	byName := make(map[string]int)
	for i, h := range header {
		n := normHeader(h)
		if n == "" {
			continue
		}
		if j, dup := byName[n]; dup {
			return nil, nil, &HeaderError{fmt.Sprintf("the header names column %q twice (columns %d and %d): rename one", h, j+1, i+1)}
		}
		byName[n] = i
	}
	for field, name := range explicit {
		i, ok := byName[normHeader(name)]
		if !ok {
			return nil, nil, &HeaderError{fmt.Sprintf("--map %s=%s: no column %q in the header (found: %s)", field, name, name, strings.Join(header, ", "))}
		}
		canon[i] = field
		cols[field] = header[i]
	}
	for i, h := range header {
		field := aliases[normHeader(h)]
		if field == "" || canon[i] != "" {
			continue
		}
		if prev, taken := cols[field]; taken {
			if explicit[field] != "" {
				continue // --map chose the column for this field; the alias is just another column
			}
			return nil, nil, &HeaderError{fmt.Sprintf("columns %q and %q both mean %s: keep one, or choose with --map %s=COLUMN", prev, h, field, field)}
		}
		canon[i] = field
		cols[field] = h
	}
	if _, ok := cols["email"]; !ok {
		return nil, nil, &HeaderError{fmt.Sprintf("no email column (found: %s): name it email, or use --map email=COLUMN", strings.Join(header, ", "))}
	}
	return canon, cols, nil
}

// ParseMap parses a --map value such as "email=Work Email,name=Full Name".
func ParseMap(s string) (map[string]string, error) {
	m := make(map[string]string)
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		field, col, ok := strings.Cut(pair, "=")
		field = strings.ToLower(strings.TrimSpace(field))
		col = strings.TrimSpace(col)
		if !ok || col == "" {
			return nil, fmt.Errorf("--map: %q is not FIELD=COLUMN", pair)
		}
		if field == "avatarurl" {
			field = "avatar"
		}
		if provision.FieldIndex(field) < 0 {
			return nil, fmt.Errorf("--map: unknown field %q (fields: %s)", field, strings.Join(provision.FieldNames(), ", "))
		}
		if _, dup := m[field]; dup {
			return nil, fmt.Errorf("--map: field %q given twice", field)
		}
		m[field] = col
	}
	return m, nil
}

// Read returns the next row. Rows that cannot be sent come back with provision.Row.Err set and a nil
// error; the error is io.EOF at the end, or a read failure that ends the input.
func (r *Reader) Read() (provision.Row, error) {
	for {
		r.guard.n = 0
		rec, err := r.csv.Read()
		if err == io.EOF {
			return provision.Row{}, io.EOF
		}
		if errors.Is(err, ErrRecordTooLong) {
			return provision.Row{}, fmt.Errorf("after line %d: %w", r.lastLine, err)
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return provision.Row{}, err
			}
			r.lastLine = pe.Line
			return provision.Row{Line: pe.StartLine, Err: &provision.RowError{Line: pe.StartLine, Msg: parseMsg(pe)}}, nil
		}
		line, _ := r.csv.FieldPos(0)
		r.lastLine, _ = r.csv.FieldPos(len(rec) - 1)
		if blank(rec) {
			r.blank++
			continue
		}
		row := provision.Row{Line: line}
		for f, i := range r.index {
			if i >= 0 && i < len(rec) {
				*provision.Fields[f].Of(&row.User) = rec[i]
			}
		}
		row.Err = normalize(line, &row.User, r.defaults)
		if msg := r.checkWidth(rec); msg != "" {
			row.Err = &provision.RowError{Line: line, Msg: msg}
		}
		if row.Err == nil {
			row.Err = r.dedup(row)
		}
		return row, nil
	}
}

// checkWidth says what is wrong with the number of cells of rec, or "" when it is fine.
// Cells past the header are accepted when empty: some exports end every data row with a
// separator. Cells missing at the end are accepted only where the header names no column (a
// trailing empty column). Any other difference means the values have shifted, and sending
// them would put a name in the team or an email in the sub, so the row is invalid.
func (r *Reader) checkWidth(rec []string) string {
	switch n, want := len(rec), len(r.Header); {
	case n > want && !blank(rec[want:]):
		return fmt.Sprintf("%d fields, but the header has %d: a value past the last column (an unquoted %s?)", n, want, commaName(r.Comma))
	case n < r.named:
		return fmt.Sprintf("%d fields, but the header has %d: a separator is missing", n, want)
	}
	return ""
}

func commaName(c rune) string {
	if c == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", c)
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

func parseMsg(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") inside an unquoted cell at line %d, column %d: quote the whole cell", pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line > pe.StartLine:
		// Every line up to where the parser gave up was read as one cell: say so, since those
		// lines will have no report line of their own.
		return fmt.Sprintf("a quoted cell opened on line %d is not closed properly (line %d, column %d): lines %d to %d were read as this one cell and are not in the report; fix the quote and run again",
			pe.StartLine, pe.Line, pe.Column, pe.StartLine, pe.Line)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("a quoted cell is not closed properly (line %d, column %d)", pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

func dropBOM(br *bufio.Reader) error {
	b, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		_, err := br.Discard(3)
		return err
	case bytes.HasPrefix(b, []byte("\xff\xfe")), bytes.HasPrefix(b, []byte("\xfe\xff")):
		return &HeaderError{"the input is UTF-16: save it as \"CSV UTF-8\" and run again"}
	}
	return nil
}

// detectComma picks the delimiter that occurs most, outside quotes, in the header line.
func detectComma(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// crOnly reports whether the header line ends with a lone CR: head is the input up to its
// first LF (or all of what was peeked).
func crOnly(head []byte) bool {
	i := bytes.IndexByte(head, '\r')
	return i >= 0 && i+1 < len(head) && head[i+1] != '\n'
}

// crToLF turns every CR into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// recordGuard fails a read once more than max bytes have been read since n was last reset
// (before each row). encoding/csv reads ahead at most 4 KiB, so this bounds one row.
type recordGuard struct {
	r      io.Reader
	n, max int
}

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.n >= g.max {
		return 0, ErrRecordTooLong
	}
	if len(p) > g.max-g.n {
		p = p[:g.max-g.n]
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}

// Blank returns how many rows were skipped so far because every cell was empty.
func (r *Reader) Blank() int { return r.blank }
