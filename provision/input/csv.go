package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxRecordBytes bounds the text of one row kept in memory, unknown columns included: a cell
// past it is cut, and its row is invalid, for its size.
const MaxRecordBytes = 1 << 20

// maxScanBytes bounds the lines of one record: a quoted cell still open past it is taken for a
// quote left open (see csvRecords), and a single line longer than this ends the input. It is
// larger than MaxRecordBytes so that a huge cell that is closed properly is one invalid row,
// and the rows after it are read as they are.
const maxScanBytes = 16 << 20

// maxRereadBytes bounds the lines read a second time after stray quotes, over the whole input.
// Each quote scans at most maxScanBytes of lines without a quote before it is found stray, so
// the lines read again add up to about the size of the input; the bound makes sure of it.
const maxRereadBytes = 256 << 20

// errTooManyQuotes ends an input that is past maxRereadBytes.
var errTooManyQuotes = errors.New("too many quotes left open: over 256 MiB of lines had to be read again; fix the quotes in the file")

// ErrRecordTooLong ends the input when a line is longer than 16 MiB.
var ErrRecordTooLong = errors.New("a line longer than 16 MiB: is this a CSV file?")

// csvRecords reads the records of CSV text in UTF-8 whose delimiter is an ASCII byte.
//
// A well-formed file reads exactly as with encoding/csv (FieldsPerRecord -1, strict quotes):
// the same records, starting on the same lines; FuzzCSVRecords holds it to that. This type
// exists for the files that are not well-formed, where encoding/csv returns a ParseError and
// no cells, so that the report could not say whose row it was. Here a malformed record comes
// back with the cells read as well as they can be and a message:
//   - a quote inside an unquoted cell is kept as a character;
//   - a quoted cell whose closing quote is followed by more text goes on, unquoted, to the
//     next delimiter;
//   - a quote that opens a cell which is never closed properly (by the end of the input, by
//     maxScanBytes, or by a quote followed by text on a later line) is taken for a stray
//     quote: it is read as a character, the rest of its line as plain cells, and the lines
//     after it are read again as records of their own, so that none of them is lost.
type csvRecords struct {
	r       *bufio.Reader
	closer  io.Closer // the file under r, if any
	comma   byte
	line    int    // physical lines read
	pending []byte // lines given back by a stray quote, read before r
	reread  int    // bytes that may still be given back

	raw     []byte // the physical lines of the record being read, CRLF made LF
	ends    []int  // where each of those lines ends in raw
	buf     []byte // the cells' text, at most MaxRecordBytes of it
	cells   []int  // where each cell ends in buf
	cellLen int    // bytes of the cell being read, those past MaxRecordBytes included
	clipped []clippedCell
	rec     []string
}

// clippedCell is a cell of the record whose text was cut at MaxRecordBytes.
type clippedCell struct {
	cell  int // its index in the record
	bytes int // its size
}

// addText appends b to the cell being read, as far as MaxRecordBytes allows.
func (p *csvRecords) addText(b []byte) {
	p.cellLen += len(b)
	if room := MaxRecordBytes - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(len(b), room)]...)
	}
}

// endCell ends the cell being read.
func (p *csvRecords) endCell() {
	start := 0
	if n := len(p.cells); n > 0 {
		start = p.cells[n-1]
	}
	if p.cellLen > len(p.buf)-start {
		p.clipped = append(p.clipped, clippedCell{cell: len(p.cells), bytes: p.cellLen})
	}
	p.cells = append(p.cells, len(p.buf))
	p.cellLen = 0
}

func newCSVRecords(r *bufio.Reader, comma byte) *csvRecords {
	return &csvRecords{r: r, comma: comma, reread: maxRereadBytes}
}

// readLine appends the next physical line to raw and returns it, with a CRLF ending turned into
// LF and a CR before the end of the input dropped, as encoding/csv does. It returns io.EOF
// when there is no line left.
func (p *csvRecords) readLine() ([]byte, error) {
	start := len(p.raw)
	var err error
	if len(p.pending) > 0 {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			i = len(p.pending) - 1
		}
		p.raw = append(p.raw, p.pending[:i+1]...)
		p.pending = p.pending[i+1:]
	}
	// A line given back whole ends in LF; otherwise the rest of it is still in r.
	for len(p.raw) == start || p.raw[len(p.raw)-1] != '\n' {
		var s []byte
		s, err = p.r.ReadSlice('\n')
		p.raw = append(p.raw, s...)
		if len(p.raw)-start > maxScanBytes {
			return nil, ErrRecordTooLong
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	line := p.raw[start:]
	switch {
	case len(line) == 0 && err != nil:
		return nil, err
	case err != nil && err != io.EOF:
		return nil, err
	case err == io.EOF && line[len(line)-1] == '\r':
		p.raw = p.raw[:len(p.raw)-1]
	}
	if n := len(p.raw); n-start >= 2 && p.raw[n-2] == '\r' && p.raw[n-1] == '\n' {
		p.raw[n-2] = '\n'
		p.raw = p.raw[:n-1]
	}
	p.line++
	p.ends = append(p.ends, len(p.raw))
	return p.raw[start:], nil
}

// lengthNL is 1 when b ends with LF, else 0.
func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// next returns the cells of the next record (valid until the following call), the line it
// starts on, and, for a record that is not well-formed CSV, why. The error is io.EOF at the
// end, ErrRecordTooLong, or a read error.
func (p *csvRecords) next() ([]string, int, string, error) {
	line, bad, err := p.parse()
	if err != nil {
		return nil, 0, "", err
	}
	return p.record(), line, bad, nil
}

// clippedCells returns the cells of the last record that were cut at MaxRecordBytes.
func (p *csvRecords) clippedCells() []clippedCell { return p.clipped }

func (p *csvRecords) close() error {
	if p.closer == nil {
		return nil
	}
	return p.closer.Close()
}

// parse reads the next record into buf and cells: next without making strings of the cells.
func (p *csvRecords) parse() (int, string, error) {
	p.raw, p.ends = p.raw[:0], p.ends[:0]
	var line []byte
	for {
		l, err := p.readLine()
		if err != nil {
			return 0, "", err
		}
		if len(l) > lengthNL(l) {
			line = l
			break
		}
		p.raw, p.ends = p.raw[:0], p.ends[:0] // an empty line is no record
	}
	recLine := p.line
	p.buf, p.cells, p.clipped, p.cellLen = p.buf[:0], p.cells[:0], p.clipped[:0], 0
	bad := ""
	off := 0 // where line starts in raw
	pos := 0 // position in line
	for {
		if pos == len(line) || line[pos] != '"' {
			pos = p.plainCell(line, pos, true, &bad)
			if pos < 0 {
				break
			}
			continue
		}
		// A quoted cell.
		qLine, qOff := p.line, off+pos
		cellStart := len(p.buf)
		pos++
		for {
			i := bytes.IndexByte(line[pos:], '"')
			if i >= 0 {
				p.addText(line[pos : pos+i])
				pos += i + 1
				switch {
				case pos < len(line) && line[pos] == '"':
					p.addText(line[pos : pos+1])
					pos++
					continue
				case pos < len(line) && line[pos] == p.comma:
					p.endCell()
					pos++
				case len(line)-pos == lengthNL(line[pos:]):
					p.endCell()
					pos = -1
				case p.line == qLine:
					// `"Ann"x`: the text after the closing quote belongs to the cell.
					if bad == "" {
						bad = fmt.Sprintf("a quoted cell is not closed properly (line %d, column %d)", p.line, column(line, pos-1))
					}
					p.addText([]byte{'"'})
					pos = p.plainCell(line, pos, false, &bad)
				default:
					if err := p.strayQuote(qLine, qOff, cellStart, &bad); err != nil {
						return 0, "", err
					}
					pos = p.lazyCells(qOff)
				}
				break
			}
			// The cell goes on past the end of the line.
			p.addText(line[pos:])
			next, err := p.readLine()
			if err == io.EOF || err == ErrRecordTooLong || (err == nil && len(p.raw) > maxScanBytes) {
				if err := p.strayQuote(qLine, qOff, cellStart, &bad); err != nil {
					return 0, "", err
				}
				pos = p.lazyCells(qOff)
				break
			}
			if err != nil {
				return 0, "", err
			}
			line, off, pos = next, len(p.raw)-len(next), 0
		}
		if pos < 0 {
			break
		}
	}
	return recLine, bad, nil
}

// plainCell reads the unquoted cell at line[pos:] and returns where the next cell starts, or -1
// at the end of the record. A quote in it is kept as a character, and makes the record
// malformed when strict is set.
func (p *csvRecords) plainCell(line []byte, pos int, strict bool, bad *string) int {
	rest := line[pos:]
	i := bytes.IndexByte(rest, p.comma)
	cell := rest
	if i >= 0 {
		cell = rest[:i]
	} else {
		cell = rest[:len(rest)-lengthNL(rest)]
	}
	if j := bytes.IndexByte(cell, '"'); j >= 0 && strict && *bad == "" {
		*bad = fmt.Sprintf("a quote (\") inside an unquoted cell at line %d, column %d: quote the whole cell", p.line, column(line, pos+j))
	}
	p.addText(cell)
	p.endCell()
	if i < 0 {
		return -1
	}
	return pos + i + 1
}

// strayQuote handles a quote, at raw[qOff] on line qLine, that opened a cell never closed
// properly: the cell is dropped, and the lines after qLine are given back to be read again.
func (p *csvRecords) strayQuote(qLine, qOff, cellStart int, bad *string) error {
	k := qLine - (p.line - len(p.ends) + 1) // index of line qLine in ends
	keep := p.ends[k]
	if *bad == "" {
		lineStart := 0
		if i := bytes.LastIndexByte(p.raw[:qOff], '\n'); i >= 0 {
			lineStart = i + 1
		}
		*bad = fmt.Sprintf("a quote (\") at line %d, column %d opens a cell that is never closed: remove it, or close the cell with a quote", qLine, column(p.raw[lineStart:], qOff-lineStart))
	}
	back := p.raw[keep:]
	if p.reread -= len(back); p.reread < 0 {
		return errTooManyQuotes
	}
	p.pending = append(append([]byte(nil), back...), p.pending...)
	p.line = qLine
	p.raw = p.raw[:keep]
	p.ends = p.ends[:k+1]
	p.buf, p.cellLen = p.buf[:cellStart], 0
	return nil
}

// lazyCells reads the rest of the record's last line from raw[from:] as plain cells, quotes
// kept as characters, and returns -1 (the record ends there).
func (p *csvRecords) lazyCells(from int) int {
	for pos := from; pos >= 0; {
		pos = p.plainCell(p.raw, pos, false, nil)
	}
	return -1
}

// record turns the cells into strings, all in one allocation.
func (p *csvRecords) record() []string {
	str := string(p.buf)
	p.rec = p.rec[:0]
	prev := 0
	for _, end := range p.cells {
		p.rec = append(p.rec, str[prev:end])
		prev = end
	}
	return p.rec
}

// column is the 1-based position, in characters, of byte i of line.
func column(line []byte, i int) int {
	return utf8.RuneCount(line[:min(i, len(line))]) + 1
}
