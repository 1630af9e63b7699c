package input

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// encode returns s in the encoding e, with prefix (a byte-order mark) before it.
func encode(tb testing.TB, e encoding.Encoding, prefix, s string) []byte {
	tb.Helper()
	if e == nil {
		return []byte(prefix + s)
	}
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatalf("encoding %q: %v", s, err)
	}
	return append([]byte(prefix), b...)
}

var (
	utf16LE = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16BE = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
)

func TestEncodings(t *testing.T) {
	t.Parallel()
	const people = "email;name;team\r\nrenee@x.com;Renée Lefèvre;Qualité\r\n"
	tests := []struct {
		name   string
		data   []byte
		opts   Options
		format string // Reader.Format, or the error
		err    bool
	}{
		{name: "UTF-8", data: encode(t, nil, "", people), format: `csv (utf-8, ';')`},
		{name: "UTF-8 with BOM", data: encode(t, nil, "\xef\xbb\xbf", people), format: `csv (utf-8 (BOM), ';')`},
		{name: "UTF-16LE with BOM, tabs", data: encode(t, utf16LE, "\xff\xfe", strings.ReplaceAll(people, ";", "\t")), format: `csv (utf-16le (BOM), tab)`},
		{name: "UTF-16BE with BOM", data: encode(t, utf16BE, "\xfe\xff", people), format: `csv (utf-16be (BOM), ';')`},
		{name: "UTF-16LE named", data: encode(t, utf16LE, "", people), opts: Options{Encoding: "UTF-16LE"}, format: `csv (utf-16le, ';')`},
		{name: "BOM wins over the label", data: encode(t, utf16LE, "\xff\xfe", people), opts: Options{Encoding: "windows-1252"}, format: `csv (utf-16le (byte-order mark, which decides over windows-1252), ';')`},
		{name: "windows-1252 named", data: encode(t, charmap.Windows1252, "", people), opts: Options{Encoding: "windows-1252"}, format: `csv (windows-1252, ';')`},
		{name: "latin1 is windows-1252", data: encode(t, charmap.Windows1252, "", people), opts: Options{Encoding: "latin1"}, format: `csv (windows-1252, ';')`},
		{name: "UTF-8 named, with a BOM", data: encode(t, nil, "\xef\xbb\xbf", people), opts: Options{Encoding: "utf8"}, format: `csv (utf-8 (BOM), ';')`},
		{name: "windows-1252 refused", data: encode(t, charmap.Windows1252, "", people), err: true,
			format: `the input is not UTF-8 (line 2 holds the byte 0xE9, in "Renée" as windows-1252): it looks like windows-1252. Give the encoding windows-1252`},
		{name: "windows-1251 refused", data: encode(t, charmap.Windows1251, "", "email;name\r\nivan@x.com;Иван Петров\r\n"), err: true,
			format: `(line 2 holds the byte 0xC8, in "Иван" as windows-1251): it looks like windows-1251. Give the encoding windows-1251`},
		{name: "Shift_JIS refused", data: encode(t, japanese.ShiftJIS, "", "email,name\nyamada@x.com,山田 太郎\n"), err: true,
			format: `in "山田" as shift_jis): it looks like shift_jis`},
		{name: "EUC-KR refused", data: encode(t, korean.EUCKR, "", "email,name\nkim@x.com,김민준\n"), err: true,
			format: `it looks like euc-kr`},
		{name: "UTF-16BE without BOM", data: encode(t, utf16BE, "", people), err: true, format: "without a byte-order mark. Give the encoding utf-16be"},
		{name: "NUL bytes", data: []byte("em\x00\x00\x00ail\n"), err: true, format: "the first line holds NUL bytes: this is not a CSV text file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(testfile.Temp(t, "in.csv", tt.data), nil, tt.opts)
			if tt.err {
				if !isFileError(err, tt.format) {
					t.Fatalf("err = %v, want a *FileError with %q", err, tt.format)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Format() != tt.format {
				t.Errorf("format %s, want %s", r.Format(), tt.format)
			}
			rows := readRows(t, r)
			if len(rows) != 1 || rows[0].Err != nil || rows[0].User.Name != "Renée Lefèvre" || rows[0].User.Team != "Qualité" {
				t.Errorf("rows %+v", rows)
			}
			if n, err := r.CountRows(context.Background()); n != 1 || err != nil {
				t.Errorf("CountRows = %d, %v; want 1", n, err)
			}
		})
	}
}

// TestNotUTF8FarDown: a file is checked to its end before the first row is read.
func TestNotUTF8FarDown(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("email,name\n")
	for i := range 60000 {
		fmt.Fprintf(&b, "user%d@x.com,User %d\n", i, i)
	}
	b.WriteString("jose@x.com,Jos\xe9 Garc\xeda\n")
	_, err := Open(testfile.Temp(t, "in.csv", b.Bytes()), nil, Options{})
	if err == nil || !strings.Contains(err.Error(), `line 60002 holds the byte 0xE9, in "José" as windows-1252`) {
		t.Errorf("err = %v", err)
	}
	// Standard input is checked in its first megabyte only: past it, the row is invalid.
	r, err := Open("-", bytes.NewReader(b.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, r)
	if last := rows[len(rows)-1]; last.Err == nil || !strings.Contains(last.Err.Error(), "row 60002: name: holds bytes that are not UTF-8 (0xE9 0xED, in \"Jos\uFFFD Garc\uFFFDa\")") {
		t.Errorf("last row %+v", last)
	}
}

func TestCountRows(t *testing.T) {
	t.Parallel()
	const text = "email,notes\r\n" +
		"a@x.com,\"two\r\nlines\"\r\n" +
		",\r\n" + // blank: not counted
		"b@x.com,\"Renée \"\"R\"\"\"\r\n" +
		"c@x.com,\"stray\r\n" + // a stray quote: this line is one row, and so is the next
		"d@x.com,x\r\n"
	tests := []struct {
		name string
		data []byte
		opts Options
	}{
		{"UTF-8", encode(t, nil, "", text), Options{}},
		{"CR only", encode(t, nil, "", strings.ReplaceAll(text, "\r\n", "\r")), Options{}},
		{"windows-1252", encode(t, charmap.Windows1252, "", text), Options{Encoding: "cp1252"}},
		{"UTF-16LE", encode(t, utf16LE, "\xff\xfe", text), Options{}},
		// In UTF-16BE "Ċ" is 01 0A and "Ģ" 01 22: a count of raw bytes would see a line end
		// and a quote.
		{"UTF-16BE", encode(t, utf16BE, "\xfe\xff", strings.ReplaceAll(text, "lines", "ĊĢ")), Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(testfile.Temp(t, "in.csv", tt.data), nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n, err := r.CountRows(context.Background())
			rows := readRows(t, r)
			if err != nil || n != 4 || len(rows) != 4 {
				t.Errorf("CountRows = %d, %v; %d rows read; want 4", n, err, len(rows))
			}
		})
	}
	r, err := Open("-", strings.NewReader(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.CountRows(context.Background()); n != 0 || err != nil {
		t.Errorf("standard input: CountRows = %d, %v; want 0 (unknown)", n, err)
	}
}

// BenchmarkOpenLabelled measures Open of a 100,000-row CSV file in windows-1252 given by its
// label: the check that the label fits reads the whole file before the first row.
func BenchmarkOpenLabelled(b *testing.B) {
	var s strings.Builder
	s.WriteString("email;name;team\r\n")
	for i := range 100_000 {
		fmt.Fprintf(&s, "user%d@x.com;Renée Lefèvre %d;Qualité\r\n", i, i)
	}
	path := testfile.Temp(b, "in.csv", encode(b, charmap.Windows1252, "", s.String()))
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open(path, nil, Options{Encoding: "windows-1252"})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
