package input

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// FuzzReader feeds arbitrary bytes to the reader and the validator. The seed corpus is in
// testdata/fuzz/FuzzReader; run it longer with
//
//	go test -run=NONE -fuzz=FuzzReader -fuzztime=3m ./provision
func FuzzReader(f *testing.F) {
	f.Add([]byte("email,name\na@x.com,Ann\n"), byte(0))
	f.Add([]byte("\ufeffEmail;Name\r\na@x.com;\"Lee; Ann\"\r\n;\r\n"), byte(0))
	f.Add([]byte("mail,id,locale,photo\na@x.com,1,en-us,https://x.com/a.png\nA@X.COM,1,xx-@@,javascript:alert(1)\n"), byte(1))
	f.Fuzz(func(t *testing.T, data []byte, c byte) {
		checkInput(t, data, [...]rune{0, ',', ';', '\t'}[c%4], Options{})
	})
}

// checkInput reads data to the end and checks what every caller of the reader relies on: no
// panic, a *HeaderError or rows, every data record one provision.Row or one blank, rows in line order,
// sendable rows really valid, every row printable, and one provision.Job result per row.
func checkInput(t *testing.T, data []byte, comma rune, opts Options) {
	t.Helper()
	opts.Comma = comma
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		var he *HeaderError
		if !errors.As(err, &he) {
			t.Fatalf("NewReader: %v, want a *HeaderError", err)
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
			if errors.Is(err, ErrRecordTooLong) && len(data) > MaxRecordBytes {
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
	if want := countRecords(t, data, r.Comma) - 1; len(rows)+r.Blank() != want {
		t.Fatalf("%d rows and %d blank, want %d records in all", len(rows), r.Blank(), want)
	}

	// The same input through a dry-run Job: one result per row.
	r2, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("second NewReader: %v", err)
	}
	n := 0
	job := &provision.Job{Source: r2, DryRun: true, Emit: func(provision.Result) error { n++; return nil }}
	sum, err := job.Run(context.Background())
	if err != nil || n != len(rows) || sum.Rows != n {
		t.Fatalf("job: %d results (summary %d), error %v; want %d results", n, sum.Rows, err, len(rows))
	}
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
}

// countRecords counts the records of data, header included, as encoding/csv sees them: the
// oracle for "every record is one row".
func countRecords(t *testing.T, data []byte, comma rune) int {
	t.Helper()
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	head := data[:min(len(data), 64<<10)]
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	if crOnly(head) {
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	n := 0
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return n
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("oracle: %v", err)
		}
		n++
	}
}
