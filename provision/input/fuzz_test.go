package input

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// The fuzz tests' seed corpora are in testdata/fuzz; run one longer with, for example,
//
//	go test -run=NONE -fuzz=FuzzReader -fuzztime=3m ./provision/input

// FuzzReader feeds arbitrary bytes to the CSV reader and the validator.
func FuzzReader(f *testing.F) {
	f.Add([]byte("email,name\na@x.com,Ann\n"), byte(0))
	f.Add([]byte("\ufeffEmail;Name\r\na@x.com;\"Lee; Ann\"\r\n;\r\n"), byte(0))
	f.Add([]byte("mail,id,locale,photo\na@x.com,1,en-us,https://x.com/a.png\nA@X.COM,1,xx-@@,javascript:alert(1)\n"), byte(1))
	f.Add([]byte("Prénom,Nom,E-mail,Langue\nAnn,\"Lee\nb@x.com,x,\"Cy\"x,Français\n"), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, c byte) {
		checkInput(t, data, [...]rune{0, ',', ';', '\t'}[c%4], Options{})
	})
}

// FuzzDecode reads arbitrary bytes as CSV in each encoding: whatever the bytes, every row is
// valid UTF-8 once decoded, or the input is refused as a whole.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("email;Prénom\r\na@x.com;Ren\xe9e\r\n"), byte(1))
	f.Add([]byte("\xff\xfee\x00m\x00a\x00i\x00l\x00\n\x00a\x00@\x00x\x00.\x00c\x00o\x00m\x00\n\x00"), byte(0))
	f.Add([]byte("\xfe\xff\x00e\x00m\x00a\x00i\x00l\x00\n"), byte(3))
	f.Add([]byte("email,\x8e\x81\n\x1b$B$\"\x1b(B@x.com\n"), byte(5))
	labels := []string{"", "windows-1252", "utf-16le", "utf-16be", "shift_jis", "iso-2022-jp", "utf-8", "gbk"}
	f.Fuzz(func(t *testing.T, data []byte, enc byte) {
		checkInput(t, data, 0, Options{Encoding: labels[int(enc)%len(labels)]})
	})
}

// FuzzCSVRecords holds the CSV parser to encoding/csv: on input that encoding/csv reads to the
// end without an error, the same records on the same lines; on any input, no panic, records in
// line order, and an end.
func FuzzCSVRecords(f *testing.F) {
	f.Add([]byte("a,b\n\"c\"\"d\",\"e\nf\"\r\n\n,\n"), byte(','))
	f.Add([]byte("a;\"b\r\n\"\r\n\"x\"y;z\n"), byte(';'))
	f.Add([]byte("\"a\nb\nc\"d\ne\n"), byte(','))
	f.Fuzz(func(t *testing.T, data []byte, c byte) {
		comma := [...]byte{',', ';', '\t'}[c%3]
		want, wantLines, wantOK := stdRecords(data, rune(comma))
		p := newCSVRecords(bufioReader(data), comma)
		last := 0
		var got [][]string
		var lines []int
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatal("more records than bytes: the parser loops")
			}
			rec, line, bad, err := p.next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, ErrRecordTooLong) && len(data) > MaxRecordBytes || errors.Is(err, errTooManyQuotes) {
				return
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			if line <= last {
				t.Fatalf("record on line %d after line %d", line, last)
			}
			last = line
			if wantOK && bad != "" {
				t.Fatalf("line %d: %s, but encoding/csv reads the input", line, bad)
			}
			got = append(got, slices.Clone(rec))
			lines = append(lines, line)
		}
		if wantOK && (!slices.EqualFunc(got, want, slices.Equal) || !slices.Equal(lines, wantLines)) {
			t.Fatalf("records %q on lines %v, encoding/csv reads %q on lines %v", got, lines, want, wantLines)
		}
	})
}

// stdRecords reads data with encoding/csv; ok is false when it returns an error.
func stdRecords(data []byte, comma rune) (recs [][]string, lines []int, ok bool) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return recs, lines, true
		}
		if err != nil {
			return nil, nil, false
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, rec)
		lines = append(lines, line)
	}
}

// FuzzXLSX opens arbitrary bytes as an .xlsx file: never a panic, and either rows or a
// *FileError. The seeds are a small workbook and cut-off copies of it.
func FuzzXLSX(f *testing.F) {
	book := workbook(f, [][]any{{"Name", "E-mail", "Employee #"}, {"Ann Lee", "ann@x.com", 4711}})
	f.Add(book)
	for _, n := range []int{0, 4, 30, len(book) / 2, len(book) - 22, len(book) - 1} {
		f.Add(book[:n])
	}
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := testfile.Temp(t, "in.xlsx", data)
		r, err := Open(path, nil, Options{})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Open: %v, want a *FileError", err)
			}
			return
		}
		defer r.Close()
		for i := 0; ; i++ {
			row, err := r.Read()
			if err != nil || i > 1<<20 {
				return // the end, or a damaged workbook: both end the input without a panic
			}
			checkRow(t, row)
		}
	})
}

// checkInput reads data to the end and checks what every caller of the reader relies on: no
// panic, a *FileError or rows, rows in line order, sendable rows really valid, every row
// printable, one Job result per row, and, for well-formed UTF-8, every record one row or one
// blank.
func checkInput(t *testing.T, data []byte, comma rune, opts Options) {
	t.Helper()
	opts.Comma = comma
	r, err := NewCSV(bytes.NewReader(data), opts)
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("NewCSV: %v, want a *FileError", err)
		}
		return
	}
	var rows []provision.Row
	last := 1
	for i := 0; ; i++ {
		if i > len(data)+1 {
			t.Fatalf("more rows than bytes: the reader loops")
		}
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, ErrRecordTooLong) && len(data) > MaxRecordBytes || errors.Is(err, errTooManyQuotes) {
				return
			}
			t.Fatalf("Read: %v", err)
		}
		if row.Line <= last {
			t.Fatalf("row on line %d after line %d", row.Line, last)
		}
		last = row.Line
		checkRow(t, row)
		rows = append(rows, row)
	}
	if opts.Encoding == "" && utf8.Valid(data) && !bytes.HasPrefix(data, []byte{0xff, 0xfe}) && !bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		text := bytes.TrimPrefix(data, []byte("\ufeff"))
		if head, _, _ := bytes.Cut(text[:min(len(text), 64<<10)], []byte{'\n'}); crOnly(head) {
			text = bytes.ReplaceAll(text, []byte("\r"), []byte("\n"))
		}
		if recs, _, ok := stdRecords(text, r.comma); ok && len(rows)+r.Blank() != len(recs)-1-headerIndex(recs, opts) {
			t.Fatalf("%d rows and %d blank, want %d records after the header", len(rows), r.Blank(), len(recs)-1-headerIndex(recs, opts))
		}
	}

	// The same input through a dry-run Job: one result per row.
	r2, err := NewCSV(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("second NewCSV: %v", err)
	}
	n := 0
	job := &provision.Job{Source: r2, DryRun: true, Emit: func(provision.Result) error { n++; return nil }}
	sum, err := job.Run(context.Background())
	if err != nil || n != len(rows) || sum.Rows != n {
		t.Fatalf("job: %d results (summary %d), error %v; want %d results", n, sum.Rows, err, len(rows))
	}
}

// headerIndex returns the index of the header among recs: the first of the first
// headerSearch records that are not blank which holds an email column, else the first.
func headerIndex(recs [][]string, opts Options) int {
	first, seen := -1, 0
	for i, rec := range recs {
		if blank(rec) {
			continue
		}
		if first < 0 {
			first = i
		}
		if hasEmail(rec, opts.Map) {
			return i
		}
		if seen++; seen == headerSearch {
			break
		}
	}
	return first
}

func checkRow(t *testing.T, row provision.Row) {
	t.Helper()
	u := row.User
	for _, f := range provision.Fields {
		v := *f.Of(&u)
		if !utf8.ValidString(v) || len(v) > MaxFieldBytes+len("…") || v != strings.TrimSpace(v) {
			t.Fatalf("row %d: %s = %q: not trimmed, valid UTF-8 and clipped", row.Line, f.Name, v)
		}
	}
	if row.Err != nil {
		var re *provision.RowError
		if !errors.As(row.Err, &re) || re.Line != row.Line {
			t.Fatalf("row %d: error %v, want a *provision.RowError naming the row", row.Line, row.Err)
		}
		return
	}
	if msg := checkEmail(u.Email); msg != "" {
		t.Fatalf("row %d: valid, but email: %s", row.Line, msg)
	}
	if u.Locale != "" {
		if tag, err := language.Parse(u.Locale); err != nil || tag.String() != u.Locale {
			t.Fatalf("row %d: valid, but locale %q is not canonical BCP 47", row.Line, u.Locale)
		}
	}
	if u.AvatarURL != "" && checkAvatar(u.AvatarURL) != "" {
		t.Fatalf("row %d: valid, but avatar %q", row.Line, u.AvatarURL)
	}
	if strings.ContainsAny(u.Name+u.Team, "\r\n") {
		t.Fatalf("row %d: valid, but a line break in %q", row.Line, u.Name+u.Team)
	}
}
