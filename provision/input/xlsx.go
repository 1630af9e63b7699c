package input

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// xlsxOptions keep a large workbook out of memory: a sheet or shared-string table over 4 MiB
// unzipped is extracted to a temporary file and streamed from there (excelize's default is
// 16 MiB), and no workbook may unzip to more than 1 GiB, so that a zip bomb stops early.
var xlsxOptions = excelize.Options{UnzipXMLSizeLimit: 4 << 20, UnzipSizeLimit: 1 << 30}

// maxStreamXLSX bounds an .xlsx read from standard input, which is held in memory.
const maxStreamXLSX = 256 << 20

// Excelize indexes every shared string of a workbook before it gives the first row, in memory
// and a write to a temporary file each: a few kilobytes of zip can hold millions of empty
// ones. These bound the table to about 120 MiB of memory and a few seconds (BENCHMARKS.md);
// a million strings are three for each person of a 300,000-person export.
const (
	maxSharedStrings      = 1_000_000
	maxSharedStringsBytes = 256 << 20
)

// sharedStringsPart is where excelize reads a workbook's shared strings.
const sharedStringsPart = "xl/sharedStrings.xml"

// maxSheetCells bounds the cells of a sheet, counting, in each row, the empty ones excelize
// gives before its last cell with a value: a row with a value in column XFD is 16,384 cells
// (40,000 such rows, a 426 KiB workbook, took 26 s). 50 million, about 2 s, are 50 columns
// of a million rows.
const maxSheetCells = 50_000_000

// checkWorkbook refuses a workbook whose shared strings or sheets are past the bounds, before
// excelize reads them: it unzips those parts once, counting, and keeps none of it.
func checkWorkbook(z *zip.Reader) error {
	for _, f := range z.File {
		name := strings.TrimPrefix(f.Name, "/")
		if name != sharedStringsPart {
			// Every part: excelize finds the sheets wherever the workbook's relationships say,
			// and reads rows even outside sheetData. Other parts hold few rows or cells, if any
			// (a drawing's anchors).
			if err := checkSheet(f); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil // excelize says what is wrong with the workbook
		}
		defer rc.Close()
		n, size, err := countSharedStrings(io.LimitReader(rc, maxSharedStringsBytes+1))
		switch {
		case size > maxSharedStringsBytes:
			return &FileError{Msg: fmt.Sprintf("the workbook's table of shared strings is over %d MiB unzipped, the most this program reads: save the sheet as CSV UTF-8", maxSharedStringsBytes>>20)}
		case n > maxSharedStrings:
			return &FileError{Msg: fmt.Sprintf("the workbook holds over %d shared strings, the most this program reads: save the sheet as CSV UTF-8", maxSharedStrings)}
		case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
			return nil // the same
		}
	}
	return nil
}

// checkSheet refuses a worksheet part of over maxSheetCells cells, or with rows out of order.
func checkSheet(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return nil // excelize says what is wrong with the workbook
	}
	defer rc.Close()
	n, disorder, _ := countSheetCells(rc)
	if n > maxSheetCells {
		return &FileError{Msg: fmt.Sprintf("a sheet of the workbook holds over %d cells, counting in each row the empty ones before its last: the most this program reads; delete the columns right of the table, or save the sheet as CSV UTF-8", maxSheetCells)}
	}
	if disorder != "" {
		// excelize would add the cells of such a row to the row before: a person lost unseen.
		return &FileError{Msg: fmt.Sprintf("a sheet of the workbook has its rows out of order (%s), which Excel never writes and this program cannot read without losing rows: save the sheet as CSV UTF-8 from Excel", disorder)}
	}
	return nil
}

// maxTag bounds the start tag kept by readTag; a cell's longer than that counts as the widest.
const maxTag = 4096

// readTag reads the rest of a tag whose '<' was read, up to its '>', and returns its text (at
// most maxTag bytes of it; long says it was longer). In an element's tag a '>' inside a quoted
// attribute value ends nothing, as XML reads it.
func readTag(br *bufio.Reader, buf []byte) (tag []byte, long bool, err error) {
	var q byte // the quote of the attribute value being read, or 0
	element, size := true, 0
	for {
		s, err := br.ReadSlice('>')
		if err != nil && err != bufio.ErrBufferFull {
			return buf, long, err
		}
		if size == 0 && len(s) > 0 {
			element = s[0] != '!' && s[0] != '?' && s[0] != '/' // no quotes in comments and the like
		}
		for _, b := range s {
			switch {
			case q != 0:
				if b == q {
					q = 0
				}
			case element && (b == '"' || b == '\''):
				q = b
			}
		}
		done := err == nil && q == 0
		n := len(s)
		if done {
			n-- // the '>'
		}
		buf = append(buf, s[:min(n, max(maxTag-len(buf), 0))]...)
		if size += n; size > maxTag {
			long = true
		}
		if done {
			return buf, long, nil
		}
	}
}

// isXMLSpace reports whether b is white space between XML attributes.
func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// attr returns the value of the last attribute of a start tag (as readTag gives it) whose local
// name is name, the one encoding/xml leaves excelize with; nil when none.
func attr(tag []byte, name string) []byte {
	var val []byte
	i := bytes.IndexFunc(tag, func(r rune) bool { return r < utf8.RuneSelf && isXMLSpace(byte(r)) })
	for i >= 0 && i < len(tag) {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		start := i
		for i < len(tag) && tag[i] != '=' && !isXMLSpace(tag[i]) {
			i++
		}
		key := tag[start:i]
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] != '=' {
			return val // the '/' of "/>", or no attribute XML would read
		}
		for i++; i < len(tag) && isXMLSpace(tag[i]); i++ {
		}
		if i >= len(tag) || (tag[i] != '"' && tag[i] != '\'') {
			return val
		}
		end := bytes.IndexByte(tag[i+1:], tag[i])
		if end < 0 {
			return val
		}
		if string(key[bytes.LastIndexByte(key, ':')+1:]) == name {
			val = tag[i+1 : i+1+end]
		}
		i += end + 2
	}
	return val
}

// refColumn returns the column of a cell reference ("XFD7" is 16384), ok false when it has
// none; a reference that XML would decode from character references counts as the widest.
func refColumn(ref []byte) (col int, ok bool) {
	if bytes.IndexByte(ref, '&') >= 0 {
		return excelize.MaxColumns, true
	}
	for _, c := range ref {
		switch {
		case c >= 'A' && c <= 'Z':
			col = min(col*26+int(c-'A'+1), excelize.MaxColumns+1)
		case c >= 'a' && c <= 'z':
			col = min(col*26+int(c-'a'+1), excelize.MaxColumns+1)
		default:
			return col, col > 0
		}
	}
	return col, col > 0
}

// countSheetCells adds up, over the rows of a worksheet's XML, the cells excelize gives of each
// row: up to its last cell with a value, from the column of each cell's reference (r="XFD7",
// wherever the attribute stands in the tag), a cell without one being the next. It stops past
// maxSheetCells. disorder says where a row's number is not past the one before ("row 2 after
// row 3"), a row without one being the next, as excelize reads them.
func countSheetCells(r io.Reader) (cells int, disorder string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	total, last, col := 0, 0, 0 // last: the cells of the row being read; col: its last cell's column
	lastRow := 0                // the number of the last row start tag
	var tag []byte
	for {
		if _, err := br.ReadSlice('<'); err == bufio.ErrBufferFull {
			continue
		} else if err != nil {
			return total + last, disorder, err
		}
		var long bool
		if tag, long, err = readTag(br, tag[:0]); err != nil {
			return total + last, disorder, err
		}
		name := tag
		if i := bytes.IndexAny(tag, " \t\n\r/"); i >= 0 {
			name = tag[:i]
		}
		// Perhaps with a namespace prefix: <x:row>, <x:c>.
		switch string(name[bytes.LastIndexByte(name, ':')+1:]) {
		case "sheetData":
			// An external link's cache holds one sheetData a linked sheet, each numbered
			// from its own first row.
			lastRow = 0
		case "row":
			total, last, col = total+last, 0, 0
			n, err := strconv.Atoi(string(attr(tag, "r")))
			switch {
			case disorder != "":
			case err != nil || n <= 0:
				lastRow++
			case n <= lastRow:
				disorder = fmt.Sprintf("row %d after row %d", n, lastRow)
			default:
				lastRow = n
			}
		case "c":
			if c, ok := refColumn(attr(tag, "r")); ok {
				col = c
			} else {
				col++
			}
			if long {
				col = excelize.MaxColumns
			}
			if !long && len(tag) > 0 && tag[len(tag)-1] == '/' {
				continue // excelize gives nothing for a cell without a value: it costs nothing
			}
			last = max(last, col)
			if total+last > maxSheetCells {
				return total + last, disorder, nil
			}
		}
	}
}

// countSharedStrings counts the string items (<si>, with any namespace prefix) of a shared
// strings part, and its bytes, stopping past maxSharedStrings.
func countSharedStrings(r io.Reader) (n, size int, err error) {
	buf := make([]byte, 64<<10)
	carry := 0
	for {
		m, err := r.Read(buf[carry:])
		size += m
		data := buf[:carry+m]
		for i := 0; i+3 < len(data); i++ {
			if data[i+1] == 's' && data[i+2] == 'i' && (data[i] == '<' || data[i] == ':') {
				if c := data[i+3]; c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
					if n++; n > maxSharedStrings {
						return n, size, nil
					}
				}
			}
		}
		carry = copy(buf, data[max(len(data)-3, 0):])
		if err == io.EOF {
			return n, size, nil
		}
		if err != nil {
			return n, size, err
		}
	}
}

// tempPrefix begins the name of each folder of temporary files, followed by the process id.
const tempPrefix = "ideanote-provision-xlsx-"

// tempDirs are the folders of temporary files of the workbooks open in this process.
var tempDirs = struct {
	sync.Mutex
	m map[string]bool
}{m: make(map[string]bool)}

// xlsxTempDir makes a folder of the user's alone (0700) for excelize's temporary files: the
// sheets and shared strings it unzips are HR data. Close removes it; so does RemoveTempFiles,
// and the next workbook opened after this process was killed.
func xlsxTempDir() (string, excelize.Options, error) {
	removeStaleTempDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid()))
	if err != nil {
		return "", excelize.Options{}, fmt.Errorf("a folder for the workbook's temporary files: %w", err)
	}
	tempDirs.Lock()
	tempDirs.m[dir] = true
	tempDirs.Unlock()
	opts := xlsxOptions
	opts.TmpDir = dir
	return dir, opts, nil
}

// removeTempDir removes a folder made by xlsxTempDir.
func removeTempDir(dir string) error {
	tempDirs.Lock()
	delete(tempDirs.m, dir)
	tempDirs.Unlock()
	return os.RemoveAll(dir)
}

// RemoveTempFiles removes the temporary files of every workbook open in this process, for a
// program that exits without closing its Readers (a second signal): they hold HR data. No
// Reader of a workbook may be read after it.
func RemoveTempFiles() {
	tempDirs.Lock()
	defer tempDirs.Unlock()
	for dir := range tempDirs.m {
		os.RemoveAll(dir)
		delete(tempDirs.m, dir)
	}
}

// xlsxRecords reads the rows of one worksheet with excelize's streaming row iterator, cell
// values formatted as Excel shows them (an employee number typed as a number is "4711"), but
// for the long numbers that exact keeps whole.
type xlsxRecords struct {
	f      *excelize.File
	rows   *excelize.Rows
	raw    *excelize.Rows // the same rows unformatted, from the first that needs them (exact); or nil
	sheet  string
	row    int    // sheet row of the last record
	tmpDir string // excelize's temporary files, removed by close
}

func openXLSXFile(name string, opts Options) (*Reader, error) {
	if z, err := zip.OpenReader(name); err == nil {
		err = checkWorkbook(&z.Reader)
		z.Close()
		if err != nil {
			return nil, err
		}
	}
	return openXLSX(func(o excelize.Options) (*excelize.File, error) { return excelize.OpenFile(name, o) }, opts)
}

func openXLSXStream(in io.Reader, opts Options) (*Reader, error) {
	data, err := io.ReadAll(io.LimitReader(in, maxStreamXLSX))
	if err != nil {
		return nil, err
	}
	if z, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
		if err := checkWorkbook(z); err != nil {
			return nil, err
		}
	}
	return openXLSX(func(o excelize.Options) (*excelize.File, error) {
		return excelize.OpenReader(bytes.NewReader(data), o)
	}, opts)
}

// openXLSX opens a workbook, chooses the sheet and reads its header. A file that excelize
// cannot open, or that makes it panic, is "not an .xlsx file".
func openXLSX(open func(excelize.Options) (*excelize.File, error), opts Options) (r *Reader, err error) {
	dir, xopts, err := xlsxTempDir()
	if err != nil {
		return nil, err
	}
	var f *excelize.File
	err = safely(func() error {
		var err error
		f, err = open(xopts)
		return err
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		removeTempDir(dir)
		return nil, &FileError{Msg: fmt.Sprintf("not an .xlsx file, or a damaged one (%v)", err), Err: err}
	}
	src := &xlsxRecords{f: f, tmpDir: dir}
	defer func() {
		if err != nil {
			src.close()
		}
	}()
	var sheet string
	err = safely(func() error {
		var err error
		if sheet, err = chooseSheet(f, opts.Sheet); err != nil {
			return err
		}
		src.rows, err = f.Rows(sheet)
		src.sheet = sheet
		return err
	})
	if err != nil {
		if _, ok := err.(*FileError); ok {
			return nil, err
		}
		return nil, &FileError{Msg: fmt.Sprintf("not an .xlsx file, or a damaged one (%v)", err), Err: err}
	}
	r, err = newReader(src, fmt.Sprintf("xlsx (sheet %q)", sheet), opts)
	if fe, ok := err.(*FileError); ok && opts.Sheet == "" {
		if sheets := f.GetSheetList(); len(sheets) > 1 {
			// The first sheet of many workbooks is a cover page: say where else to look.
			fe.Msg += fmt.Sprintf(" on the first sheet, %q, of %s", sheet, strings.Join(sheets, ", "))
			fe.Fix = append(fe.Fix, Setting{"Sheet", "NAME"})
		}
	}
	if err != nil {
		return nil, err
	}
	header := src.row
	r.count = func(ctx context.Context) (int64, error) { return countSheet(ctx, f, sheet, header) }
	return r, nil
}

// countSheet returns the number of rows after the header: from the sheet's dimension, or,
// when the workbook does not keep it (excelize writes "A1"), by reading the rows' numbers
// with a second iterator, which is safe beside the first.
func countSheet(ctx context.Context, f *excelize.File, sheet string, header int) (int64, error) {
	if last := lastRow(f, sheet); last > header {
		return int64(last - header), nil
	}
	var last int
	err := safely(func() error {
		rows, err := f.Rows(sheet)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if last++; last%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return rows.Error()
	})
	if err != nil {
		return 0, err
	}
	return int64(max(last-header, 0)), nil
}

// chooseSheet returns the sheet called name (exactly, else ignoring case), or the first visible
// sheet when name is "".
func chooseSheet(f *excelize.File, name string) (string, error) {
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return "", &FileError{Msg: "the workbook has no sheets"}
	}
	if name == "" {
		for _, s := range sheets {
			if visible, err := f.GetSheetVisible(s); err == nil && visible {
				return s, nil
			}
		}
		return sheets[0], nil
	}
	for _, s := range sheets {
		if s == name {
			return s, nil
		}
	}
	for _, s := range sheets {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(name)) {
			return s, nil
		}
	}
	return "", &FileError{Given: &Setting{"Sheet", name}, Msg: "no such sheet in the workbook (sheets: " + strings.Join(sheets, ", ") + ")"}
}

// lastRow returns the last row of the sheet's dimension ("A1:F1001" gives 1001), or 0 when the
// workbook does not say.
func lastRow(f *excelize.File, sheet string) int {
	var last int
	safely(func() error {
		ref, err := f.GetSheetDimension(sheet)
		if _, end, ok := strings.Cut(ref, ":"); ok && err == nil {
			_, last, _ = excelize.CellNameToCoordinates(end)
		}
		return nil
	})
	return last
}

func (x *xlsxRecords) next() (cells []string, line int, bad string, err error) {
	err = safely(func() error {
		if !x.rows.Next() {
			if err := x.rows.Error(); err != nil {
				return err
			}
			return io.EOF
		}
		x.row++
		if x.raw != nil {
			x.raw.Next() // in step with rows
		}
		var cerr error
		cells, cerr = x.rows.Columns()
		if cerr != nil {
			bad = fmt.Sprintf("the workbook's row %d cannot be read: %v", x.row, cerr)
		}
		x.exact(cells)
		return nil
	})
	if err != nil && err != io.EOF {
		err = fmt.Errorf("the workbook is damaged at row %d: %w", x.row, err)
	}
	return cells, x.row, bad, err
}

// exact replaces in cells each number that excelize shows rounded to 15 digits
// (1.23456789012346E+15, or 1234567890123460 under a number format) with the integer the
// workbook holds: an employee number of 16 digits or more, written as a number by a tool other
// than Excel, must not give two people one sub. Other numbers, dates among them, stay as they
// show. The unformatted rows are read beside the formatted ones from the first that needs them.
func (x *xlsxRecords) exact(cells []string) {
	var raw []string
	read := false
	for i, c := range cells {
		if !strings.Contains(c, "E+") && !longDigits(c) {
			continue
		}
		if !read {
			read = true
			if x.raw == nil {
				rows, err := x.f.Rows(x.sheet)
				if err != nil {
					return
				}
				for range x.row {
					rows.Next()
				}
				x.raw = rows
			}
			raw, _ = x.raw.Columns(excelize.Options{RawCellValue: true})
		}
		if i < len(raw) && raw[i] != c {
			if n, ok := exactInteger(raw[i]); ok {
				cells[i] = n
			}
		}
	}
}

// longDigits reports whether s holds more than 15 digits in a row.
func longDigits(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if n = n + 1; s[i] < '0' || s[i] > '9' {
			n = 0
		}
		if n > 15 {
			return true
		}
	}
	return false
}

// decimalRE is a number as a worksheet holds it, with a small exponent: a larger one is no ID.
var decimalRE = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]{1,2})?$`)

// exactInteger returns the integer that the number s denotes, in digits, when it is one of more
// than 15 significant digits: those that excelize rounds.
func exactInteger(s string) (string, bool) {
	if len(s) > 64 || !decimalRE.MatchString(s) {
		return "", false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() {
		return "", false
	}
	n := r.Num().String()
	return n, len(strings.TrimRight(strings.TrimLeft(n, "-"), "0")) > 15
}

func (x *xlsxRecords) close() error {
	if x.raw != nil {
		x.raw.Close()
	}
	if x.rows != nil {
		x.rows.Close()
	}
	err := x.f.Close() // removes the temporary files it knows
	if x.tmpDir != "" {
		if rerr := removeTempDir(x.tmpDir); err == nil {
			err = rerr
		}
		x.tmpDir = ""
	}
	return err
}

// safely runs fn, turning a panic into an error: excelize is not hardened against damaged or
// hostile workbooks, and one must not bring the program down.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return fn()
}
