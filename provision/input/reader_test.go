package input

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// got is a row as the tests compare it: line, email and the error text ("" when valid).
type got struct {
	Line  int
	Email string
	Err   string
}

// readAll reads every row of input; it fails the test on a read error.
func readAll(t *testing.T, input string, opts Options) (*Reader, []provision.Row) {
	t.Helper()
	r, err := NewCSV(strings.NewReader(input), opts)
	if err != nil {
		t.Fatalf("NewCSV: %v", err)
	}
	return r, readRows(t, r)
}

// isFileError says whether err is a *FileError whose text holds part.
func isFileError(err error, part string) bool {
	_, ok := errors.AsType[*FileError](err)
	return ok && strings.Contains(err.Error(), part)
}

func summary(rows []provision.Row) []got {
	var out []got
	for _, r := range rows {
		g := got{Line: r.Line, Email: r.User.Email}
		if r.Err != nil {
			g.Err = r.Err.Error()
		}
		out = append(out, g)
	}
	return out
}

func TestReaderExports(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		opts  Options
		want  []got // Err is a substring
		blank int
		comma rune
	}{
		{name: "plain", in: "email,name\na@x.com,Ann\n", want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "BOM and CRLF", in: "\ufeffemail,name\r\na@x.com,Ann\r\nb@x.com,Bob\r\n",
			want: []got{{2, "a@x.com", ""}, {3, "b@x.com", ""}}, comma: ','},
		{name: "semicolon detected", in: "Email;Name;Team\r\na@x.com;Ann, Lee;Ops\r\n",
			want: []got{{2, "a@x.com", ""}}, comma: ';'},
		{name: "tab detected", in: "email\tname\na@x.com\tAnn\n", want: []got{{2, "a@x.com", ""}}, comma: '\t'},
		{name: "semicolon inside quotes not counted", in: "\"a;b;c\",email,name\nx,a@x.com,Ann\n",
			want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "delimiter forced", in: "email;name,x\na@x.com;Ann,y\n", opts: Options{Comma: ';'},
			want: []got{{2, "a@x.com", ""}}, comma: ';'},
		{name: "quoted commas quotes and newlines", in: "email,notes\n\"a@x.com\",\"Lee, \"\"Ann\"\"\nsecond line\"\nb@x.com,Bob\n",
			want: []got{{2, "a@x.com", ""}, {4, "b@x.com", ""}}, comma: ','},
		{name: "trailing blank lines", in: "email,name\na@x.com,Ann\n\n\n,\n , \n",
			want: []got{{2, "a@x.com", ""}}, blank: 2, comma: ','},
		{name: "trailing empty column in header and rows", in: "email,name,\na@x.com,Ann,\nb@x.com,Bob\n",
			want: []got{{2, "a@x.com", ""}, {3, "b@x.com", ""}}, comma: ','},
		{name: "trailing separator on data rows", in: "email,name\na@x.com,Ann,\nb@x.com,Bob,,\n",
			want: []got{{2, "a@x.com", ""}, {3, "b@x.com", ""}}, comma: ','},
		{name: "extra value is invalid, email kept", in: "email,name\na@x.com,Lee, Ann\nb@x.com,Bob\n",
			want: []got{{2, "a@x.com", "row 2: 3 cells, but the header has 2"}, {3, "b@x.com", ""}}, comma: ','},
		{name: "short row reads as empty trailing cells", in: "email,name,team\na@x.com,Ann\nb@x.com,Bob,Ops\nc@x.com\n",
			want: []got{{2, "a@x.com", ""}, {3, "b@x.com", ""}, {4, "c@x.com", ""}}, comma: ','},
		{name: "bare quote is invalid, email kept", in: "email,name\na@x.com,Ann \"A\" Lee\nb@x.com,Bob\n",
			want: []got{{2, "a@x.com", "row 2: a quote (\") inside an unquoted cell at line 2, column 13"}, {3, "b@x.com", ""}}, comma: ','},
		{name: "text after a closing quote", in: "email,name,team\na@x.com,\"Cy\"x,Ops\nb@x.com,Bob\n",
			want: []got{{2, "a@x.com", "row 2: a quoted cell is not closed properly (line 2, column 12)"}, {3, "b@x.com", ""}}, comma: ','},
		{name: "unclosed quote at the end", in: "email,name\nb@x.com,Bob\na@x.com,\"Ann\n",
			want: []got{{2, "b@x.com", ""}, {3, "a@x.com", "row 3: a quote (\") at line 3, column 9 opens a cell that is never closed"}}, comma: ','},
		{name: "stray opening quote loses no line", in: "email,name\na@x.com,\"Ann\nb@x.com,Bob\nc@x.com,\"Cy\"x\nd@x.com,Dee\n",
			want: []got{{2, "a@x.com", "row 2: a quote (\") at line 2, column 9 opens a cell that is never closed"}, {3, "b@x.com", ""},
				{4, "c@x.com", "row 4: a quoted cell is not closed properly (line 4, column 12)"}, {5, "d@x.com", ""}}, comma: ','},
		{name: "quoted cell over lines then a stray quote", in: "email,notes,name\na@x.com,\"two\nlines\",\"Ann\nb@x.com,x,Bob\n",
			want: []got{{2, "a@x.com", "row 2: a quote (\") at line 3, column 8 opens a cell that is never closed"}, {4, "b@x.com", ""}}, comma: ','},
		{name: "line break in a name", in: "email,name\na@x.com,\"Ann\nLee\"\n",
			want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "line break in an email", in: "email,name\n\"a@x.com\nb\",\"Ann\nLee\"\n",
			want: []got{{2, "a@x.com\nb", "row 2: email: holds a line break"}}, comma: ','},
		{name: "CR-only line ends", in: "email,notes\ra@x.com,Ann\rb@x.com,\"Bob\rBo\"\r",
			want: []got{{2, "a@x.com", ""}, {3, "b@x.com", ""}}, comma: ','},
		{name: "CRLF, a CR in a quoted header cell", in: "\"E\rmail\",name\r\na@x.com,Ann\r\nb@x.com,Bob\r\n",
			want: []got{{2, "a@x.com", ""}, {3, "b@x.com", ""}}, comma: ','},
		{name: "CR-only, a CR in a quoted header cell", in: "\"E\rmail\",name\ra@x.com,Ann\rb@x.com,Bob\r",
			want: []got{{3, "a@x.com", ""}, {4, "b@x.com", ""}}, comma: ','}, // the header's cell is on two lines
		{name: "aliases", in: "E-Mail Address,Employee_ID,Full Name,Department,LANGUAGE,Photo\na@x.com,7,Ann,Ops,fr-fr,https://x.com/a.png\n",
			want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "unknown columns ignored", in: "Notes,mail,Start date\nhello,a@x.com,2024-01-01\n",
			want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "map", in: "Work Email,Full Name,Private Mail\na@x.com,Ann,ann@home.org\n",
			opts: Options{Map: map[string]string{"email": "work email"}}, want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "map wins over an alias", in: "email,Work_Email\nold@x.com,a@x.com\n",
			opts: Options{Map: map[string]string{"email": "Work Email"}}, want: []got{{2, "a@x.com", ""}}, comma: ','},
		{name: "row of spaces and separators is blank", in: "email,name,notes\n  , ,\na@x.com,Ann,\n",
			want: []got{{3, "a@x.com", ""}}, blank: 1, comma: ','},
		{name: "notes only is not blank", in: "email,name,notes\n,,call back\n",
			want: []got{{2, "", "row 2: email: empty"}}, comma: ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rows := readAll(t, tt.in, tt.opts)
			g := summary(rows)
			if len(g) != len(tt.want) {
				t.Fatalf("rows = %+v, want %+v", g, tt.want)
			}
			for i := range g {
				w := tt.want[i]
				if g[i].Line != w.Line || g[i].Email != w.Email || (w.Err == "") != (g[i].Err == "") || !strings.Contains(g[i].Err, w.Err) {
					t.Errorf("row %d = %+v, want %+v", i, g[i], w)
				}
			}
			if r.Blank() != tt.blank {
				t.Errorf("Blank = %d, want %d", r.Blank(), tt.blank)
			}
			if r.comma != tt.comma {
				t.Errorf("comma = %q, want %q", r.comma, tt.comma)
			}
		})
	}
}

func TestReaderFields(t *testing.T) {
	in := "\ufeffE-mail; Employee ID ;full_name;DEPARTMENT;Language;Avatar URL;Notes\r\n" +
		" A@X.com ; 7 ; Ann Lee ;;EN-us; https://x.com/a.png ;=1+1\r\n"
	r, rows := readAll(t, in, Options{Defaults: Defaults{Team: "Ops", Locale: "fr"}})
	want := provision.User{Email: "A@X.com", Sub: "7", Name: "Ann Lee", Team: "Ops", Locale: "en-US", AvatarURL: "https://x.com/a.png"}
	if len(rows) != 1 || rows[0].Err != nil || rows[0].User != want {
		t.Fatalf("rows = %+v, want one valid row %+v", rows, want)
	}
	for field, col := range map[string]string{"email": "E-mail", "sub": " Employee ID ", "name": "full_name", "avatar": "Avatar URL"} {
		if r.Columns()[field] != col {
			t.Errorf("Columns()[%s] = %q, want %q", field, r.Columns()[field], col)
		}
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want string
	}{
		{"empty", "", Options{}, "the input is empty"},
		{"only a BOM", "\ufeff", Options{}, "the input is empty"},
		{"no email column", "Name,Team,Notes\nAnn,Ops,x\n", Options{}, "no email column (found: Name, Team, Notes)"},
		{"duplicate header", "email,name,Name\na@x.com,A,B\n", Options{}, `names column "name" twice`},
		{"two aliases for one field", "email,mail\na@x.com,b@x.com\n", Options{}, `columns "email" and "mail" both mean email`},
		{"map to a missing column", "email\na@x.com\n", Options{Map: map[string]string{"name": "Full Name"}}, `no column "Full Name"`},
		{"UTF-16 LE with BOM, decoded", "\xff\xfen\x00a\x00m\x00e\x00", Options{}, "no email column (found: name)"},
		{"UTF-16 BE with BOM, decoded", "\xfe\xff\x00n\x00a\x00m\x00e", Options{}, "no email column (found: name)"},
		{"UTF-16 without BOM", "e\x00m\x00a\x00i\x00l\x00\n\x00", Options{}, "looks like UTF-16LE without a byte-order mark. Give the encoding utf-16le"},
		{"Latin-1 header", "email,Pr\xe9nom\na@x.com,Ren\xe9e\n", Options{}, `not UTF-8 (line 1 holds the byte 0xE9, in "Prénom" as windows-1252): it looks like windows-1252. Give the encoding windows-1252`},
		{"Latin-1 cell", "email,name\na@x.com,Ann\nb@x.com,Ren\xe9e\n", Options{}, `line 3 holds the byte 0xE9, in "Renée"`},
		{"unknown encoding", "email\n", Options{Encoding: "klingon"}, `the encoding "klingon": not an encoding`},
		{"broken header quote", "email,\"name\n", Options{}, "cannot read the header row"},
		{"header longer than 16 MiB", "email," + strings.Repeat("x", maxScanBytes+1), Options{}, "a line of the header is longer than 16 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCSV(strings.NewReader(tt.in), tt.opts)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FileError", err)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "--") {
				t.Errorf("err = %q, want it to contain %q and name no flag", err, tt.want)
			}
		})
	}
}

// TestFileErrorText checks that Error names the options in words and Text as its caller
// spells them, in the same sentence.
func TestFileErrorText(t *testing.T) {
	flag := func(option string) string { return "--" + strings.ToLower(option) }
	tests := []struct {
		err         FileError
		words, flag string
	}{
		{FileError{Msg: "the input is empty"}, "the input is empty", "the input is empty"},
		{FileError{Msg: "it looks like windows-1252", Fix: []Setting{{"Encoding", "windows-1252"}}},
			"it looks like windows-1252. Give the encoding windows-1252", "it looks like windows-1252. Give --encoding windows-1252"},
		{FileError{Msg: "no email column: name it email", Fix: []Setting{{"Map", "email=COLUMN"}, {"HeaderRow", "N"}}},
			"no email column: name it email, or use the column mapping email=COLUMN or the header row N",
			"no email column: name it email, or use --map email=COLUMN or --headerrow N"},
		{FileError{Given: &Setting{"Sheet", "Staf"}, Msg: "no such sheet"}, "the sheet Staf: no such sheet", "--sheet Staf: no such sheet"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.words {
			t.Errorf("Error() = %q, want %q", got, tt.words)
		}
		if got := tt.err.Text(flag); got != tt.flag {
			t.Errorf("Text(flag) = %q, want %q", got, tt.flag)
		}
	}
}

// TestMessagesNameNoFlag checks that no string of the package spells a command-line flag: the
// package says what is wrong with the input, and the command line which of its flags fixes it
// (FileError.Text). The refusals themselves are checked for it in TestReaderHeaderErrors and
// TestXLSXOpen.
func TestMessagesNameNoFlag(t *testing.T) {
	flagLike := regexp.MustCompile(`(^|[^-\w])--[a-z]`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && flagLike.MatchString(s) {
					t.Errorf("%s: %q spells a flag", fset.Position(lit.Pos()), s)
				}
			}
			return true
		})
	}
}

// rowSource produces a header and then n rows, lazily, counting the bytes handed out.
type rowSource struct {
	n, i int
	buf  []byte
	read int64
	row  func(i int) string
}

func (s *rowSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.i > s.n {
			return 0, io.EOF
		}
		if s.i == 0 {
			s.buf = []byte("email,sub,name\n")
		} else {
			s.buf = []byte(s.row(s.i))
		}
		s.i++
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	s.read += int64(n)
	return n, nil
}

func TestReaderUnclosedQuoteLosesNoRow(t *testing.T) {
	// A quote left open on row 2 would make the rest of a 20 MiB file one cell: past 16 MiB the
	// quote is taken for a stray one, row 2 is invalid, and the lines after it are rows again.
	const n = 400000
	src := &rowSource{n: n, row: func(i int) string {
		if i == 1 {
			return "a@x.com,1,\"Ann\n"
		}
		return fmt.Sprintf("user%d@x.com,%d,Somebody with a longish name\n", i, i)
	}}
	r, err := NewCSV(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	row, err := r.Read()
	if err != nil || row.Err == nil || row.User.Email != "a@x.com" || !strings.Contains(row.Err.Error(), "never closed") {
		t.Fatalf("first row %+v, %v: want a@x.com invalid for its quote", row, err)
	}
	if src.read > maxScanBytes+MaxRecordBytes {
		t.Errorf("read %d bytes before giving up on the quote, want at most %d", src.read, maxScanBytes+MaxRecordBytes)
	}
	rows := 1
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || row.Err != nil {
			t.Fatalf("row %d: %v %v", row.Line, err, row.Err)
		}
		if rows++; row.Line != rows+1 {
			t.Fatalf("row on line %d, want %d", row.Line, rows+1)
		}
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
}

// A stray quote at the start of a cell and another at the end of a cell lines later make one
// well-formed cell of the rows between, which a name or team would take as text: the row is
// invalid, naming the lines inside it that look like rows. A cell over lines that are no rows
// (an address) is read as before.
func TestReaderSwallowedRowsNamed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string // line, email and error of each row
	}{
		{"name", "email,name,team\na@x.com,\"Ann,Sales\nb@x.com,Bob,Sales\nc@x.com,Cy,Sales\"\nd@x.com,Di,Ops\n", []string{
			`2 a@x.com row 2: this row runs to line 4 inside a quoted cell, and lines 3 to 4 look like rows of their own ("b@x.com" on line 3, "c@x.com" on line 4): is a quote (") left open? Close it, or remove it`,
			"5 d@x.com <nil>",
		}},
		{"semicolons, one line", "Team;E-Mail\n\"Sales;a@x.com\nOps;b@x.com\";c@x.com\n", []string{
			`2 c@x.com row 2: this row runs to line 3 inside a quoted cell, and line 3 looks like a row of its own ("b@x.com" on line 3): is a quote (") left open? Close it, or remove it`,
		}},
		{"many", "email,name\na@x.com,\"Ann\nb@x.com,B\nc@x.com,C\nd@x.com,D\ne@x.com,E\"\n", []string{
			`2 a@x.com row 2: this row runs to line 6 inside a quoted cell, and lines 3 to 6 look like rows of their own ("b@x.com" on line 3, "c@x.com" on line 4, "d@x.com" on line 5, and 1 more): is a quote (") left open? Close it, or remove it`,
		}},
		{"an address", "email,name,address\na@x.com,Ann,\"1 Main St\nSpringfield, IL\"\nb@x.com,Bob,\"PO Box 2\ncontact: b@y.com, or call\"\n", []string{
			"2 a@x.com <nil>", "4 b@x.com <nil>",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, rows := readAll(t, tt.in, Options{})
			var got []string
			for _, row := range rows {
				got = append(got, fmt.Sprint(row.Line, " ", row.User.Email, " ", row.Err))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestTooManyStrayQuotes: past its budget of lines read again, the parser ends the input
// rather than reading on.
func TestTooManyStrayQuotes(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "open%d@x.com,\"Ann\n", i)
		b.WriteString(strings.Repeat("user@x.com,Somebody\n", 20))
	}
	p := newCSVRecords(bufioReader([]byte(b.String())), ',')
	p.reread = 20 << 10
	records := 0
	for {
		_, _, _, err := p.next()
		if errors.Is(err, errTooManyQuotes) {
			break
		}
		if err != nil {
			t.Fatalf("after %d records: %v, want errTooManyQuotes", records, err)
		}
		records++
	}
	if records == 0 || records >= 2100 {
		t.Errorf("%d records read before the end", records)
	}
}

// TestReaderMemory streams 200,000 rows and checks what stays on the heap per row: the
// 12-byte digests of email and sub and their line numbers, not the rows.
func TestReaderMemory(t *testing.T) {
	const n = 200000
	src := &rowSource{n: n, row: func(i int) string {
		return fmt.Sprintf("user%07d@example.com,EMP-%07d,%s\n", i, i, strings.Repeat("n", 200))
	}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewCSV(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || row.Err != nil {
			t.Fatalf("row %d: %v %v", rows, err, row.Err)
		}
		rows++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if rows != n {
		t.Fatalf("read %d rows, want %d", rows, n)
	}
	perRow := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%d rows, %d MiB of input: %.0f bytes of heap kept per row", n, src.read>>20, perRow)
	// Two 16-byte entries plus slack; a row kept whole would be over 250.
	if perRow > 100 {
		t.Errorf("%.0f bytes of heap kept per row, want under 100", perRow)
	}
	runtime.KeepAlive(r)
}

// TestReaderCorpus reads the third-party CSV corpus when it is present: no panic, and every
// file either refused as a whole or read to the end.
func TestReaderCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "csv-corpus")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.csv"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*", "*.csv"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no CSV corpus at", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			b := []byte(testfile.Read(t, f))
			checkInput(t, b, 0, Options{})
			// Most files have no email column: read them again with their first column as one.
			first, _, _ := strings.Cut(strings.TrimPrefix(string(b), "\ufeff"), "\n")
			first, _, _ = strings.Cut(first, ",")
			if first = strings.Trim(first, "\"\r"); normHeader(first) != "" && utf8.ValidString(first) {
				checkInput(t, b, 0, Options{Map: map[string]string{"email": first}})
			}
		})
	}
}

// TestCorpusSpectrum reads csv-spectrum's files, when present, and compares the records with
// the parse its JSON files give.
func TestCorpusSpectrum(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "csv-corpus", "csv-spectrum")
	files, _ := filepath.Glob(filepath.Join(dir, "csvs", "*.csv"))
	if len(files) == 0 {
		t.Skip("no csv-spectrum at", dir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".csv")
		t.Run(name, func(t *testing.T) {
			data := []byte(testfile.Read(t, f))
			js, err := os.ReadFile(filepath.Join(dir, "json", name+".json"))
			if err != nil {
				t.Skip("no JSON parse for", name)
			}
			var want []map[string]string
			if err := json.Unmarshal(js, &want); err != nil {
				t.Fatal(err)
			}
			p := newCSVRecords(bufioReader(data), ',')
			var header []string
			var got []map[string]string
			for {
				rec, _, bad, err := p.next()
				if err == io.EOF {
					break
				}
				if err != nil || bad != "" {
					t.Fatalf("%v %s", err, bad)
				}
				if header == nil {
					header = slices.Clone(rec)
					continue
				}
				m := make(map[string]string)
				for i, h := range header {
					m[h] = rec[i]
				}
				got = append(got, m)
			}
			// csv-spectrum's JSON keeps CRLF inside quoted cells; encoding/csv, and so this
			// parser, makes it LF.
			for _, m := range want {
				for k, v := range m {
					m[k] = strings.ReplaceAll(v, "\r\n", "\n")
				}
			}
			if !slices.EqualFunc(got, want, maps.Equal) {
				t.Errorf("records %q, want %q", got, want)
			}
		})
	}
}
