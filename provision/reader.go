package provision

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gocarina/gocsv"
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

// Fields are the canonical column names, in report order.
var Fields = []string{"email", "sub", "name", "team", "locale", "avatar"}

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

// Reader streams rows from CSV input: one row in memory at a time, plus a 16-byte digest per
// email and sub seen, for duplicate detection. It is not safe for concurrent use.
type Reader struct {
	// Header is the header row as found in the file.
	Header []string
	// Columns maps each field found to the header it was read from.
	Columns map[string]string
	// Comma is the delimiter in use, detected or given.
	Comma rune
	// Blank counts rows skipped because every mapped cell was empty.
	Blank int

	csv      *csv.Reader
	um       *gocsv.Unmarshaller
	defaults Defaults
	seen     map[keyHash]int32
}

// NewReader reads the header row of in and returns a Reader positioned on the first data row.
// A *HeaderError means the file cannot be used at all.
func NewReader(in io.Reader, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	if err := dropBOM(br); err != nil {
		return nil, err
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(br)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = 0 // the header sets the count; a ragged row is an invalid row, not the end
	cr.LazyQuotes = false
	um, err := gocsv.NewUnmarshaller(cr, User{})
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &HeaderError{"the input is empty: expected a header row such as email,name,team"}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &HeaderError{fmt.Sprintf("cannot read the header row: %v", pe)}
		}
		return nil, err
	}
	r := &Reader{Header: append([]string(nil), um.Headers...), Comma: comma, csv: cr, um: um,
		defaults: opts.Defaults, seen: make(map[keyHash]int32)}
	canon, cols, err := mapHeader(r.Header, opts.Map)
	if err != nil {
		return nil, err
	}
	r.Columns = cols
	if err := um.RenormalizeHeaders(func([]string) []string { return canon }); err != nil {
		return nil, err
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
		known := sort.SearchStrings(sortedFields, field)
		if known == len(sortedFields) || sortedFields[known] != field {
			return nil, fmt.Errorf("--map: unknown field %q (fields: %s)", field, strings.Join(Fields, ", "))
		}
		if _, dup := m[field]; dup {
			return nil, fmt.Errorf("--map: field %q given twice", field)
		}
		m[field] = col
	}
	return m, nil
}

var sortedFields = func() []string {
	s := append([]string(nil), Fields...)
	sort.Strings(s)
	return s
}()

// Read returns the next row. Rows that cannot be sent come back with Row.Err set and a nil
// error; the error is io.EOF at the end, or a read failure that ends the input.
func (r *Reader) Read() (Row, error) {
	for {
		v, err := r.um.Read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return Row{}, err
			}
			return Row{Line: pe.StartLine, Err: &RowError{Line: pe.StartLine, Msg: parseMsg(pe, len(r.Header))}}, nil
		}
		u := v.(User)
		if u == (User{}) || blank(u) {
			r.Blank++
			continue
		}
		line, _ := r.csv.FieldPos(0)
		row := Row{Line: line, User: u}
		row.Err = normalize(line, &row.User, r.defaults)
		if row.Err == nil {
			row.Err = r.dedup(row)
		}
		return row, nil
	}
}

func blank(u User) bool {
	return strings.TrimSpace(u.Email+u.Sub+u.Name+u.Team+u.Locale+u.AvatarURL) == ""
}

// dedup rejects a row whose email or sub an earlier valid row already had.
func (r *Reader) dedup(row Row) error {
	ek := hashKey('e', EmailKey(row.User.Email))
	if first, ok := r.seen[ek]; ok {
		return &RowError{row.Line, "email", fmt.Sprintf("%s repeats row %d", quote(row.User.Email), first)}
	}
	var sk keyHash
	if row.User.Sub != "" {
		sk = hashKey('s', row.User.Sub)
		if first, ok := r.seen[sk]; ok {
			return &RowError{row.Line, "sub", fmt.Sprintf("%s repeats row %d", quote(row.User.Sub), first)}
		}
		r.seen[sk] = int32(row.Line)
	}
	r.seen[ek] = int32(row.Line)
	return nil
}

func parseMsg(pe *csv.ParseError, want int) string {
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		return fmt.Sprintf("wrong number of fields (the header has %d)", want)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") inside an unquoted cell at line %d, column %d: quote the whole cell", pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("a quoted cell is not closed (line %d, column %d)", pe.Line, pe.Column)
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
func detectComma(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range b {
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
