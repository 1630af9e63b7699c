package input

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Open opens the input called name, or stdin for "-", and reads its header. An Excel workbook
// is told from a CSV by its content (a zip), whatever its name; a file named .xlsx or .xlsm that
// is not a zip is refused. A *FileError means the input cannot be used at all: nothing is to
// be sent. The caller closes the Reader.
func Open(name string, stdin io.Reader, opts Options) (*Reader, error) {
	if name == "-" {
		return openStream(stdin, nil, opts)
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{Msg: "no such file", Err: err}
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, &FileError{Msg: "cannot open the input: " + pe.Err.Error(), Err: err}
		}
		return nil, &FileError{Msg: "cannot open the input: " + err.Error(), Err: err}
	}
	r, err := openFile(f, name, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func openFile(f *os.File, name string, opts Options) (*Reader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &FileError{Msg: "a directory, not a file"}
	}
	if !st.Mode().IsRegular() {
		// A pipe, as from <(iconv ...): read once, from the front, like standard input.
		return openStream(f, f, opts)
	}
	head := make([]byte, 128)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	head = head[:n]
	ext := strings.ToLower(filepath.Ext(name))
	if msg := notSpreadsheet(head); msg != "" {
		return nil, &FileError{Msg: msg}
	}
	if isZip(head) {
		f.Close()
		return openXLSXFile(name, opts)
	}
	if ext == ".xlsx" || ext == ".xlsm" || ext == ".xltx" || ext == ".xltm" {
		return nil, &FileError{Msg: fmt.Sprintf("not an .xlsx file: it does not start as a workbook does (a zip); if it is a CSV file, name it %s", strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))+".csv")}
	}
	if opts.Sheet != "" {
		return nil, &FileError{Given: &Setting{"Sheet", opts.Sheet}, Msg: "the input is a CSV file, which has no sheets"}
	}
	// The whole file is checked before anything is sent: a file that turns out not to be in
	// its encoding on row 20,000 would otherwise be half sent, and then invalid row after row.
	enc, err := chooseEncoding(opts.Encoding, head, textSample{
		open:     func() io.Reader { return io.NewSectionReader(f, 0, st.Size()) },
		complete: true,
	})
	if err != nil {
		return nil, err
	}
	r, err := newCSV(bufio.NewReaderSize(f, 64<<10), enc, f, opts)
	if err != nil {
		return nil, err
	}
	r.count = func(ctx context.Context) (int64, error) { return countCSV(ctx, name, enc, r.comma, r.headerLine) }
	return r, nil
}

// openStream reads standard input or a pipe: CSV, or an .xlsx workbook, which is read whole
// first (a zip cannot be read from the front). closer, if not nil, is closed with the Reader.
func openStream(in io.Reader, closer io.Closer, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(in, bufSniff)
	head, err := br.Peek(bufSniff)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	if msg := notSpreadsheet(head); msg != "" {
		return nil, &FileError{Msg: msg}
	}
	if isZip(head) {
		r, err := openXLSXStream(br, opts)
		if closer != nil {
			closer.Close() // read whole
		}
		return r, err
	}
	if opts.Sheet != "" {
		return nil, &FileError{Given: &Setting{"Sheet", opts.Sheet}, Msg: "the input is CSV text, which has no sheets"}
	}
	enc, err := chooseEncoding(opts.Encoding, head, headSample(head))
	if err != nil {
		return nil, err
	}
	return newCSV(br, enc, closer, opts)
}

// NewCSV reads CSV text from in, in the encoding of opts (detected as by Open when not given),
// and reads its header. Only the first megabyte is checked for UTF-8 up front.
func NewCSV(in io.Reader, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(in, bufSniff)
	head, err := br.Peek(bufSniff)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	enc, err := chooseEncoding(opts.Encoding, head, headSample(head))
	if err != nil {
		return nil, err
	}
	return newCSV(br, enc, nil, opts)
}

// newCSV reads CSV from in (positioned at the start of the input) in the encoding given.
func newCSV(in *bufio.Reader, enc textEncoding, closer io.Closer, opts Options) (*Reader, error) {
	br, head, err := csvText(in, enc)
	if err != nil {
		return nil, err
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(head, opts)
	}
	if comma >= 0x80 || comma == '"' || comma == '\r' || comma == '\n' {
		return nil, &FileError{Msg: fmt.Sprintf("the delimiter %q cannot be used", comma)}
	}
	src := newCSVRecords(br, byte(comma))
	src.closer = closer
	r, err := newReader(src, fmt.Sprintf("csv (%s, %s)", enc.name, commaName(comma)), opts)
	if err != nil {
		return nil, err
	}
	r.comma = comma
	return r, nil
}

// csvText returns the text of in, decoded, with line ends that the CSV parser reads, and its
// first 64 KiB.
func csvText(in *bufio.Reader, enc textEncoding) (*bufio.Reader, []byte, error) {
	text, err := enc.reader(in)
	if err != nil {
		return nil, nil, err
	}
	br, ok := text.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(text, 64<<10)
	}
	head, _ := br.Peek(min(br.Size(), 64<<10))
	firstLine := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		firstLine = head[:i]
	}
	if crOnly(firstLine) {
		// Classic Mac line ends ("CSV (Macintosh)" in old Excel): every CR becomes a line end.
		// A CR inside a quoted cell turns into LF, which is what it meant.
		br = bufio.NewReaderSize(crToLF{br}, 64<<10)
	}
	return br, head, nil
}

// headSample is the first bytes of an input that cannot be read twice: they are checked, the
// rows after them are checked one by one.
func headSample(head []byte) textSample {
	complete := len(head) < bufSniff
	if i := bytes.LastIndexByte(head, '\n'); !complete && i >= 0 {
		head = head[:i+1] // whole lines: a character cut at the end is no fault of the encoding
	}
	return textSample{open: func() io.Reader { return bytes.NewReader(head) }, complete: complete}
}

// isZip reports whether the input starts as a zip archive does: an .xlsx, .xlsm or .ods.
func isZip(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// notSpreadsheet explains a workbook format that cannot be read: "" when it is none of them.
func notSpreadsheet(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return "the input is an Excel 97-2003 workbook (.xls) or a password-protected one: save it as .xlsx (without a password) or as \"CSV UTF-8\""
	case isZip(head) && len(head) >= 38 && string(head[30:38]) == "mimetype" &&
		bytes.Contains(head, []byte("application/vnd.oasis.opendocument")):
		return "the input is an OpenDocument file (.ods): save it as .xlsx or as \"CSV UTF-8\""
	}
	return ""
}

func commaName(c rune) string {
	if c == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", c)
}

// detectComma picks the delimiter of the header line: the first line of head, among the
// first headerSearch (or line opts.HeaderRow), that the delimiter splits into cells of which
// one holds the email column, as newReader finds the header; when there is none, the
// delimiter that occurs most, outside quotes, in the first line.
func detectComma(head []byte, opts Options) rune {
	text := bytes.ReplaceAll(bytes.ReplaceAll(head, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	lines := bytes.Split(text, []byte("\n"))
	searched := 0
	for i, l := range lines {
		if opts.HeaderRow > 0 && i+1 != opts.HeaderRow || len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if searched++; searched > headerSearch {
			break
		}
		for _, c := range []byte{',', ';', '\t'} {
			cells := strings.Split(string(l), string(c))
			for j := range cells {
				cells[j] = strings.Trim(cells[j], "\" ")
			}
			if len(cells) > 1 && hasEmail(cells, opts.Map) {
				return rune(c)
			}
		}
	}
	return mostCommon(lines[0])
}

// mostCommon returns the delimiter that occurs most, outside quotes, in line.
func mostCommon(line []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
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
// first LF (or all of what was peeked). A CR inside a quoted cell ends no line: in a CRLF file
// it would make every CRLF two line ends, and every row number after it wrong.
func crOnly(head []byte) bool {
	quoted := false
	for i, b := range head {
		switch {
		case b == '"':
			quoted = !quoted
		case b == '\r' && !quoted:
			return i+1 < len(head) && head[i+1] != '\n'
		}
	}
	// A quote left open (a stray one, or a cell over lines): the first CR, as if none were quoted.
	i := bytes.IndexByte(head, '\r')
	return quoted && i >= 0 && i+1 < len(head) && head[i+1] != '\n'
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
