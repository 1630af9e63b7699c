package input

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }

// workbook returns an .xlsx holding rows on its first sheet, as Excel would store them: numbers
// as numbers, times as dates with a date format.
func workbook(tb testing.TB, rows [][]any, more ...string) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		tb.Fatal(err)
	}
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if v == nil {
				continue
			}
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				tb.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				f.SetCellStyle("Sheet1", cell, cell, date)
			}
		}
	}
	for _, name := range more {
		if _, err := f.NewSheet(name); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// readRows reads every row of r.
func readRows(t *testing.T, r *Reader) []provision.Row {
	t.Helper()
	var rows []provision.Row
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		rows = append(rows, row)
	}
}

func TestXLSX(t *testing.T) {
	t.Parallel()
	hired := time.Date(2021, 3, 14, 0, 0, 0, 0, time.UTC)
	book := workbook(t, [][]any{
		nil, // a blank first row: the header is the first row with a cell
		{"Employee #", "First Name", "Last Name", "Work Email", "Department", "Hire Date", "Preferred Language"},
		{4711, "Ann", "Lee", "ann@x.com", "R&D", hired, "Français"},
		{4712.0, "Bob", nil, "bob@x.com"}, // trailing cells left out, as Excel does
		{},
		{"E-9", "Cy", "Dee", "cy@x.com", "Ops", nil, "de_DE.UTF-8", "stray"},
	}, "Other")
	path := testfile.Temp(t, "people.xlsx", book)
	r, err := Open(path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := strings.Join(r.Ignored(), ", "); got != "Hire Date" {
		t.Errorf("ignored %q, want Hire Date", got)
	}
	if r.Format() != `xlsx (sheet "Sheet1")` {
		t.Errorf("format %q", r.Format())
	}
	if n, err := r.CountRows(context.Background()); n != 4 || err != nil {
		t.Errorf("CountRows = %d, %v; want 4 (rows 3 to 6)", n, err)
	}
	rows := readRows(t, r)
	want := []struct {
		line int
		user provision.User
		err  string
	}{
		{3, provision.User{Email: "ann@x.com", Sub: "4711", Name: "Ann Lee", Team: "R&D", Locale: "fr"}, ""},
		{4, provision.User{Email: "bob@x.com", Sub: "4712", Name: "Bob"}, ""},
		{6, provision.User{Email: "cy@x.com", Sub: "E-9", Name: "Cy Dee", Team: "Ops", Locale: "de-DE"}, "row 6: 8 cells, but the header has 7"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		got := rows[i]
		if got.Line != w.line || got.User != w.user || (w.err == "") != (got.Err == nil) || (got.Err != nil && !strings.Contains(got.Err.Error(), w.err)) {
			t.Errorf("row %d = %+v (%v), want %+v (%s)", i, got, got.Err, w, w.err)
		}
	}
	if r.Blank() != 1 {
		t.Errorf("Blank = %d, want 1", r.Blank())
	}
}

func TestXLSXOpen(t *testing.T) {
	t.Parallel()
	book := workbook(t, [][]any{{"email"}, {"a@x.com"}}, "Staff")
	cover := workbook(t, [][]any{{"This workbook lists staff"}}, "Staff")
	tests := []struct {
		name string
		file string
		data []byte
		opts Options
		want string // in the error; "" to succeed
	}{
		{name: "by content, whatever the name", file: "people.csv", data: book},
		{name: "sheet by name", file: "p.xlsx", data: book, opts: Options{Sheet: "staff"}, want: "the input is empty"},
		{name: "unknown sheet", file: "p.xlsx", data: book, opts: Options{Sheet: "Staf"}, want: "the sheet Staf: no such sheet in the workbook (sheets: Sheet1, Staff)"},
		{name: "cover page first", file: "p.xlsx", data: cover, want: `no email column (found: This workbook lists staff): name it email on the first sheet, "Sheet1", of Sheet1, Staff, or use the column mapping email=COLUMN or the sheet NAME`},
		{name: "truncated", file: "p.xlsx", data: book[:len(book)/2], want: "not an .xlsx file"},
		{name: "empty zip", file: "p.xlsx", data: []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), want: "not an .xlsx file"},
		{name: "CSV named .xlsx", file: "p.xlsx", data: []byte("email\na@x.com\n"), want: "not an .xlsx file: it does not start as a workbook does (a zip); if it is a CSV file, name it p.csv"},
		{name: "empty .xlsx", file: "p.xlsx", data: nil, want: "not an .xlsx file"},
		{name: "xls", file: "p.xls", data: []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), want: "Excel 97-2003"},
		{name: "sheet of a CSV", file: "p.csv", data: []byte("email\n"), opts: Options{Sheet: "x"}, want: "the sheet x: the input is a CSV file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(testfile.Temp(t, tt.file, tt.data), nil, tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				return
			}
			if !isFileError(err, tt.want) || strings.Contains(err.Error(), "--") {
				t.Errorf("err = %v, want a *FileError with %q, naming no flag", err, tt.want)
			}
		})
	}
}

func TestXLSXFromStandardInput(t *testing.T) {
	t.Parallel()
	book := workbook(t, [][]any{{"Correo electrónico", "Nombre", "Apellidos"}, {"ana@x.com", "Ana", "López García"}})
	r, err := Open("-", bytes.NewReader(book), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows := readRows(t, r)
	if len(rows) != 1 || rows[0].User.Name != "Ana López García" || rows[0].Err != nil {
		t.Errorf("rows %+v", rows)
	}
}

// TestXLSXCountBesideRead counts the rows of a workbook that keeps no dimension (excelize
// writes "A1") while they are read, as the progress bar does: go test -race checks that the
// second iterator is safe beside the first.
func TestXLSXCountBesideRead(t *testing.T) {
	t.Parallel()
	rows := [][]any{{"email", "name"}}
	for i := range 2000 {
		rows = append(rows, []any{fmt.Sprintf("user%d@x.com", i), fmt.Sprintf("User %d", i)})
	}
	r, err := Open(testfile.Temp(t, "big.xlsx", workbook(t, rows)), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	var countErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, countErr = r.CountRows(context.Background())
	}()
	read := readRows(t, r)
	<-done
	if n != 2000 || countErr != nil || len(read) != 2000 {
		t.Errorf("CountRows = %d, %v; %d rows read; want 2000", n, countErr, len(read))
	}
}

// withSharedStrings returns book with its shared strings part replaced by n empty strings.
func withSharedStrings(tb testing.TB, book []byte, n int) []byte {
	return withPart(tb, book, sharedStringsPart, func(part io.Writer) {
		fmt.Fprintf(part, `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, n, n)
		item := []byte("<si><t/></si>")
		for range n {
			part.Write(item)
		}
		part.Write([]byte("</sst>"))
	})
}

func TestXLSXSharedStringsBounded(t *testing.T) {
	book := workbook(t, [][]any{{"email", "name"}, {"a@x.com", "Ann"}})
	bomb := withSharedStrings(t, book, 10_000_000)
	t.Logf("%d KiB of workbook with 10 million shared strings", len(bomb)>>10)
	want := "the workbook holds over 1000000 shared strings, the most this program reads: save the sheet as CSV UTF-8"
	if _, err := Open(testfile.Temp(t, "bomb.xlsx", bomb), nil, Options{}); err == nil || err.Error() != want {
		t.Errorf("file: err = %v, want %q", err, want)
	}
	if _, err := Open("-", bytes.NewReader(bomb), Options{}); err == nil || err.Error() != want {
		t.Errorf("standard input: err = %v, want %q", err, want)
	}
}

func TestXLSXTempFilesPrivateAndRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// Over 4 MiB of sheet XML, so that excelize unzips the sheet to a temporary file.
	rows := [][]any{{"email", "name"}}
	for i := range 60000 {
		rows = append(rows, []any{fmt.Sprintf("user%d@x.com", i), fmt.Sprintf("User %d", i)})
	}
	path := testfile.Temp(t, "big.xlsx", workbook(t, rows))
	r, err := Open(path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, "ideanote-provision-xlsx-*"))
	if len(dirs) != 1 {
		t.Fatalf("temporary folders %q, want one", dirs)
	}
	if st, err := os.Stat(dirs[0]); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("temporary folder %v, %v: want mode 0700", st.Mode(), err)
	}
	files, _ := os.ReadDir(dirs[0])
	if len(files) == 0 {
		t.Errorf("no temporary file in %s: is the sheet unzipped there?", dirs[0])
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temporary folder: %v", left)
	}
	// A workbook refused after it was opened leaves nothing either.
	if _, err := Open(path, nil, Options{Map: map[string]string{"email": "nope"}}); err == nil {
		t.Fatal("want an error")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temporary folder after a refusal: %v", left)
	}
}

// withPart returns book with its part called name replaced by what write writes.
func withPart(tb testing.TB, book []byte, name string, write func(io.Writer)) []byte {
	tb.Helper()
	z, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for _, f := range z.File {
		if f.Name == name {
			continue
		}
		if err := w.Copy(f); err != nil {
			tb.Fatal(err)
		}
	}
	part, err := w.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	write(part)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func TestXLSXSheetCellsBounded(t *testing.T) {
	book := workbook(t, [][]any{{"email"}, {"a@x.com"}})
	sheet := func(rows int) func(io.Writer) {
		return func(w io.Writer) {
			fmt.Fprint(w, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
			fmt.Fprint(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>`)
			for i := 2; i <= rows+1; i++ {
				fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>u%d@x.com</t></is></c><c r="XFD%d"><v>1</v></c></row>`, i, i, i, i)
			}
			fmt.Fprint(w, `</sheetData></worksheet>`)
		}
	}
	bomb := withPart(t, book, "xl/worksheets/sheet1.xml", sheet(4000))
	t.Logf("%d KiB of workbook with 4,000 rows of 16,384 cells", len(bomb)>>10)
	empty := withPart(t, book, "xl/worksheets/sheet1.xml", func(w io.Writer) {
		var b bytes.Buffer
		sheet(4000)(&b)
		w.Write(bytes.ReplaceAll(b.Bytes(), []byte("><v>1</v></c>"), []byte("/>")))
	})
	if r, err := Open(testfile.Temp(t, "empty.xlsx", empty), nil, Options{}); err != nil {
		t.Errorf("empty cells far right: %v, want them read (they cost nothing)", err)
	} else {
		r.Close()
	}
	_, err := Open(testfile.Temp(t, "wide.xlsx", bomb), nil, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "a sheet of the workbook holds over 50000000 cells") {
		t.Errorf("err = %v", err)
	}
	// A few such rows are read, each invalid for its value past the header.
	r, err := Open(testfile.Temp(t, "wide.xlsx", withPart(t, book, "xl/worksheets/sheet1.xml", sheet(3))), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows := readRows(t, r)
	if len(rows) != 3 || rows[2].User.Email != "u4@x.com" || rows[0].Err == nil || !strings.Contains(rows[0].Err.Error(), "16384 cells, but the header has 1") {
		t.Errorf("rows %+v", rows)
	}
}

// An employee number of more than 15 digits, stored as a number by a tool other than Excel,
// reads exactly as it was written: excelize shows such a number rounded to 15 digits, which
// gives two people one sub. Dates and numbers with a format of their own read as they show.
func TestXLSXLongNumbersExact(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	style := func(s *excelize.Style) int {
		id, err := f.NewStyle(s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	padded, whole, date := style(&excelize.Style{CustomNumFmt: new("000000")}), style(&excelize.Style{NumFmt: 1}), style(&excelize.Style{NumFmt: 14})
	tests := []struct {
		value any // a string is written as the cell's number, as it is
		style int
		want  string
	}{
		{int64(1234567890123456), 0, "1234567890123456"},
		{int64(1234567890123457), 0, "1234567890123457"},
		{uint64(12345678901234567890), 0, "12345678901234567890"}, // past float64's exact integers
		{"1234567890123458.0", 0, "1234567890123458"},
		{"1.234567890123459E15", 0, "1234567890123459"},
		{int64(9876543210987654), whole, "9876543210987654"},
		{4711, padded, "004711"},
		{123456789012345, 0, "123456789012345"},
		{time.Date(2021, 3, 14, 0, 0, 0, 0, time.UTC), date, "03-14-21"},
		{1234.5, 0, "1234.5"},
		{"1.5E+20", -1, "1.5E+20"}, // text
		{"1.5E-20", 0, "1.5E-20"},
	}
	f.SetCellValue("Sheet1", "A1", "email")
	f.SetCellValue("Sheet1", "B1", "Employee ID")
	for i, tt := range tests {
		row := i + 2
		f.SetCellValue("Sheet1", fmt.Sprintf("A%d", row), fmt.Sprintf("p%d@x.com", row))
		cell := fmt.Sprintf("B%d", row)
		var err error
		switch v := tt.value.(type) {
		case string:
			if tt.style < 0 {
				err = f.SetCellStr("Sheet1", cell, v)
			} else {
				err = f.SetCellDefault("Sheet1", cell, v)
			}
		default:
			err = f.SetCellValue("Sheet1", cell, v)
		}
		if err != nil {
			t.Fatal(err)
		}
		if tt.style > 0 {
			f.SetCellStyle("Sheet1", cell, cell, tt.style)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Open(testfile.Temp(t, "ids.xlsx", buf.Bytes()), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows := readRows(t, r)
	if len(rows) != len(tests) {
		t.Fatalf("%d rows, want %d", len(rows), len(tests))
	}
	for i, tt := range tests {
		if got := rows[i]; got.User.Sub != tt.want || got.Err != nil {
			t.Errorf("%v: sub %q (%v), want %q", tt.value, got.User.Sub, got.Err, tt.want)
		}
	}
}

// Rows whose numbers go back or repeat, which no Excel writes, would have excelize append one
// row's cells to another's and lose a person without a word: the workbook is refused.
func TestXLSXRowsOutOfOrder(t *testing.T) {
	t.Parallel()
	book := workbook(t, [][]any{{"email"}, {"a@x.com"}})
	cell := func(ref, s string) string { return `<c r="` + ref + `" t="inlineStr"><is><t>` + s + `</t></is></c>` }
	head := `<row r="1">` + cell("A1", "email") + `</row>`
	tests := []struct {
		name, rows string
		want       string // in the error; "" to read a@x.com, b@x.com and c@x.com
	}{
		{"back", `<row r="3">` + cell("A3", "c@x.com") + `</row><row r="2">` + cell("A2", "b@x.com") + `</row>`, "row 2 after row 3"},
		{"repeated", `<row r="2">` + cell("A2", "b@x.com") + `</row><row r="2">` + cell("A2", "c@x.com") + `</row>`, "row 2 after row 2"},
		{"zero, then its number", `<row r="2">` + cell("A2", "b@x.com") + `</row><row r="0"><c t="inlineStr"><is><t>c@x.com</t></is></c></row>` +
			`<row r="3">` + cell("A3", "d@x.com") + `</row>`, "row 3 after row 3"},
		{"single quotes, spaced", `<row r="3">` + cell("A3", "c@x.com") + `</row><row spans="1:1" r = '2'>` + cell("A2", "b@x.com") + `</row>`, "row 2 after row 3"},
		{"prefixed", `<x:row r="3">` + cell("A3", "c@x.com") + `</x:row><x:row r="2">` + cell("A2", "b@x.com") + `</x:row>`, "row 2 after row 3"},
		{"in order, some without a number", `<row r="3">` + cell("A3", "a@x.com") + `</row><row>` + `<c t="inlineStr"><is><t>b@x.com</t></is></c></row>` +
			`<row r="6">` + cell("A6", "c@x.com") + `</row>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := withPart(t, book, "xl/worksheets/sheet1.xml", func(w io.Writer) {
				fmt.Fprint(w, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+head+tt.rows+`</sheetData></worksheet>`)
			})
			r, err := Open(testfile.Temp(t, "p.xlsx", b), nil, Options{})
			if tt.want != "" {
				if !isFileError(err, "out of order") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want a *FileError saying the rows are out of order, %s", err, tt.want)
				}
				if err == nil {
					for _, row := range readRows(t, r) {
						t.Logf("line %d %q %v", row.Line, row.User.Email, row.Err)
					}
					r.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			for _, row := range readRows(t, r) {
				got = append(got, fmt.Sprint(row.Line, row.User.Email, row.Err))
			}
			if want := []string{"3a@x.com<nil>", "4b@x.com<nil>", "6c@x.com<nil>"}; !slices.Equal(got, want) {
				t.Errorf("rows %q, want %q", got, want)
			}
		})
	}
}

// The bound on a sheet's cells holds however the cells are written and wherever the sheet is:
// excelize expands each of these rows to 16,384 cells all the same.
func TestXLSXSheetCellsBoundedWhateverTheSpelling(t *testing.T) {
	t.Parallel()
	book := workbook(t, [][]any{{"email"}, {"a@x.com"}})
	sheet := func(cell string) func(io.Writer) {
		return func(w io.Writer) {
			fmt.Fprint(w, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
			fmt.Fprint(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>`)
			for i := 2; i <= 4001; i++ {
				fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>u%d@x.com</t></is></c>`+cell+`</row>`, i, i, i, i)
			}
			fmt.Fprint(w, `</sheetData></worksheet>`)
		}
	}
	moved := withPart(t, book, "xl/data/sheet1.xml", sheet(`<c r="XFD%d"><v>1</v></c>`))
	z, err := zip.NewReader(bytes.NewReader(moved), int64(len(moved)))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := fs.ReadFile(z, "xl/_rels/workbook.xml.rels")
	if err != nil || !bytes.Contains(rels, []byte(`Target="worksheets/sheet1.xml"`)) {
		t.Fatalf("the workbook's relationships %s (%v) do not name worksheets/sheet1.xml", rels, err)
	}
	moved = withPart(t, moved, "xl/_rels/workbook.xml.rels", func(w io.Writer) {
		w.Write(bytes.ReplaceAll(rels, []byte(`Target="worksheets/sheet1.xml"`), []byte(`Target="data/sheet1.xml"`)))
	})
	tests := map[string][]byte{
		"s before r":                 withPart(t, book, "xl/worksheets/sheet1.xml", sheet(`<c s="0" r="XFD%d"><v>1</v></c>`)),
		"t before r, spaced, quoted": withPart(t, book, "xl/worksheets/sheet1.xml", sheet(`<c t="n"  r = 'XFD%d'><v>1</v></c>`)),
		"prefixed":                   withPart(t, book, "xl/worksheets/sheet1.xml", sheet(`<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD%d"><x:v>1</x:v></x:c>`)),
		"one cell reference, many rows": withPart(t, book, "xl/worksheets/sheet1.xml", func(w io.Writer) {
			fmt.Fprint(w, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
			fmt.Fprint(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>`)
			for i := 2; i <= 4001; i++ {
				fmt.Fprintf(w, `<row r="%d"><c r="XFD1"><v>1</v></c></row>`, i) // excelize takes the column alone
			}
			fmt.Fprint(w, `</sheetData></worksheet>`)
		}),
		"a sheet outside xl/worksheets": moved,
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(testfile.Temp(t, "wide.xlsx", b), nil, Options{})
			if err == nil {
				r.Close()
			}
			if err == nil || !strings.HasPrefix(err.Error(), "a sheet of the workbook holds over 50000000 cells") {
				t.Errorf("err = %v, want the sheet refused for its size", err)
			}
		})
	}
}

// A workbook whose sheet looks up another workbook's sheets caches them in an external link
// part, one sheetData a linked sheet, each numbered from its own first row: not rows out of
// order.
func TestXLSXExternalLinkCacheNotOutOfOrder(t *testing.T) {
	t.Parallel()
	book := workbook(t, [][]any{{"email"}, {"a@x.com"}})
	b := withPart(t, book, "xl/externalLinks/externalLink1.xml", func(w io.Writer) {
		fmt.Fprint(w, `<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook><sheetDataSet>`+
			`<sheetData sheetId="0"><row r="1"><cell r="A1"><v>1</v></cell></row><row r="2"><cell r="A2"><v>2</v></cell></row></sheetData>`+
			`<sheetData sheetId="1"><row r="1"><cell r="A1"><v>3</v></cell></row></sheetData>`+
			`</sheetDataSet></externalBook></externalLink>`)
	})
	r, err := Open(testfile.Temp(t, "p.xlsx", b), nil, Options{})
	if err != nil {
		t.Fatalf("a workbook with an external link's cache: %v", err)
	}
	defer r.Close()
	if rows := readRows(t, r); len(rows) != 1 || rows[0].User.Email != "a@x.com" {
		t.Errorf("rows %+v, want a@x.com", rows)
	}
}
