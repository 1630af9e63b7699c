package input

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

// textEncoding is how the bytes of a CSV input become UTF-8 text.
type textEncoding struct {
	name string // as shown in the log: "utf-8", "utf-16le (BOM)", "windows-1252"
	// decoder returns a fresh decoder, nil for UTF-8 (read as it is). A decoder for a
	// byte-order mark drops it.
	decoder func() *encoding.Decoder
	// bom is the length of a UTF-8 byte-order mark to skip, 0 or 3.
	bom int
	// stateless is set when the delimiter, quote and line ends are the same bytes in the
	// encoded text as in ASCII, and never part of another character, so that the text can be
	// counted without decoding it: UTF-8, single-byte and the multi-byte legacy encodings.
	stateless bool
}

// reader returns the text of in, which starts at the beginning of the input.
func (e textEncoding) reader(in *bufio.Reader) (io.Reader, error) {
	if e.bom > 0 {
		if _, err := in.Discard(e.bom); err != nil {
			return nil, err
		}
	}
	if e.decoder == nil {
		return in, nil
	}
	return transform.NewReader(in, e.decoder()), nil
}

// chooseEncoding decides the encoding of a CSV input from its first bytes (head) and
// --encoding (label): a byte-order mark wins over the label, as in browsers. check, when not
// nil, reports where the input stops being UTF-8; without it only head is checked (standard
// input cannot be read twice).
func chooseEncoding(label string, head []byte, check func() (*utf8Fault, error)) (textEncoding, error) {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe\x00\x00")):
		return textEncoding{name: "utf-32le (BOM)", decoder: utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM).NewDecoder}, nil
	case bytes.HasPrefix(head, []byte("\x00\x00\xfe\xff")):
		return textEncoding{name: "utf-32be (BOM)", decoder: utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM).NewDecoder}, nil
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		return textEncoding{name: "utf-16le (BOM)", decoder: xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder}, nil
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		return textEncoding{name: "utf-16be (BOM)", decoder: xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM).NewDecoder}, nil
	}
	enc := textEncoding{name: "utf-8", stateless: true}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		enc.name, enc.bom = "utf-8 (BOM)", 3
	} else if label != "" {
		e, err := htmlindex.Get(label)
		if err != nil || e == encoding.Replacement {
			return enc, &FileError{Msg: fmt.Sprintf("--encoding %q: not an encoding this program knows; give a WHATWG label such as utf-8, windows-1252, iso-8859-15, utf-16le or shift_jis", label), Err: err}
		}
		if name, _ := htmlindex.Name(e); name != "utf-8" {
			return textEncoding{name: name, decoder: e.NewDecoder,
				stateless: !strings.HasPrefix(name, "utf-16") && name != "iso-2022-jp"}, nil
		}
	}
	firstLine := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		firstLine = head[:i]
	}
	if bytes.IndexByte(firstLine, 0) >= 0 {
		return enc, &FileError{Msg: nulMessage(head)}
	}
	var fault *utf8Fault
	if check != nil {
		var err error
		if fault, err = check(); err != nil {
			return enc, err
		}
	} else {
		fault = findUTF8Fault(bytes.NewReader(head), len(head) < bufSniff)
	}
	if fault != nil {
		return enc, &FileError{Msg: fault.message()}
	}
	return enc, nil
}

// nulMessage explains a first line that holds NUL bytes: UTF-16 without a byte-order mark, or
// not text at all.
func nulMessage(head []byte) string {
	var even, odd int
	for i, b := range head {
		if b == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	switch {
	case odd > len(head)/4 && even == 0:
		return "the input looks like UTF-16LE without a byte-order mark: give --encoding utf-16le"
	case even > len(head)/4 && odd == 0:
		return "the input looks like UTF-16BE without a byte-order mark: give --encoding utf-16be"
	}
	return "the first line holds NUL bytes: this is not a CSV text file"
}

// bufSniff is how much of standard input is checked for UTF-8 before reading starts.
const bufSniff = 1 << 20

// utf8Fault is where an input stops being UTF-8.
type utf8Fault struct {
	line   int    // line number, from 1
	b      byte   // the first byte that is wrong
	sample []byte // the line, or a part of it around the byte
	at     int    // the byte's index in sample
	text   []byte // up to 4 KiB from the line on, to guess the encoding from
}

func (f *utf8Fault) message() string {
	guess := guessEncoding(f.text)
	msg := fmt.Sprintf("the input is not UTF-8 (line %d holds the byte 0x%02X", f.line, f.b)
	if w := wordAround(f.sample, f.at, guess); w != "" {
		msg += fmt.Sprintf(", in %q as %s", w, guess)
	}
	return msg + fmt.Sprintf("): it looks like %s. Give --encoding %s, or save the file as \"CSV UTF-8\"", guess, guess)
}

// wordAround returns the word of sample that holds byte at, decoded from the encoding named.
// Words end at bytes below 0x40 (spaces, digits, punctuation), which in the encodings guessed
// are never part of a character of two bytes.
func wordAround(sample []byte, at int, name string) string {
	sep := func(b byte) bool { return b < 0x40 }
	s, e := at, at
	for s > 0 && !sep(sample[s-1]) {
		s--
	}
	for e < len(sample) && !sep(sample[e]) {
		e++
	}
	enc, err := htmlindex.Get(name)
	if err != nil || e-s > 64 {
		return ""
	}
	w, err := enc.NewDecoder().Bytes(sample[s:e])
	if err != nil {
		return ""
	}
	return string(w)
}

// findUTF8Fault reads r to the end and returns where it is first not UTF-8, or nil. When
// complete is false, the input goes on past what r holds, and a character cut at the end of r
// is not a fault.
func findUTF8Fault(r io.Reader, complete bool) *utf8Fault {
	f, _ := scanUTF8(r, complete)
	return f
}

// scanUTF8 is findUTF8Fault with the read error. It reads 256 KiB at a time, so that it runs
// over a large file at the speed of utf8.Valid.
func scanUTF8(r io.Reader, complete bool) (*utf8Fault, error) {
	const chunk = 256 << 10
	buf := make([]byte, chunk+utf8.UTFMax)
	carry, lines := 0, 1
	var lineStart []byte // the start of the current line, kept when a chunk ends inside it
	for {
		n, err := io.ReadFull(r, buf[carry:carry+chunk])
		data := buf[:carry+n]
		end := len(data)
		more := err == nil
		if more || !complete {
			end = completeRunes(data)
		}
		if !utf8.Valid(data[:end]) {
			i := 0
			for i < end {
				r, size := utf8.DecodeRune(data[i:end])
				if r == utf8.RuneError && size <= 1 {
					break
				}
				i += size
			}
			lines += bytes.Count(data[:i], []byte{'\n'})
			prefix := lineStart // the line began in an earlier chunk
			from := bytes.LastIndexByte(data[:i], '\n') + 1
			if from > 0 {
				prefix = nil
			}
			sample := append(prefix, data[from:min(end, i+256)]...)
			at := len(prefix) + i - from
			if j := bytes.IndexByte(sample[at:], '\n'); j >= 0 {
				sample = sample[:at+j]
			}
			if at > 256 {
				sample, at = sample[at-256:], 256
			}
			text := data[from:min(len(data), i+4<<10)]
			return &utf8Fault{line: lines, b: data[i], sample: sample, at: at, text: text}, nil
		}
		lines += bytes.Count(data[:end], []byte{'\n'})
		if nl := bytes.LastIndexByte(data[:end], '\n'); nl >= 0 {
			lineStart = append(lineStart[:0], data[nl+1:min(end, nl+1+256)]...)
		} else if len(lineStart) < 256 {
			lineStart = append(lineStart, data[:min(end, 256-len(lineStart))]...)
		}
		if !more {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, nil
			}
			return nil, err
		}
		carry = copy(buf, data[end:])
	}
}

// completeRunes returns the length of data without a character cut at its end.
func completeRunes(data []byte) int {
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				return i
			}
			break
		}
	}
	return len(data)
}

// guessEncoding names the likely encoding of text that is not UTF-8, from a sample. Latin
// text in a single-byte encoding has its accented letters alone between ASCII letters;
// Cyrillic text in windows-1251 has words of high bytes, an upper-case letter (C0-DF) and then
// lower-case ones (E0-FF); other runs of high bytes are taken for a CJK encoding, the one whose
// decoding gives the most characters of its script and no errors.
func guessEncoding(sample []byte) string {
	runs, singles, cyrillic := 0, 0, 0
	for i := 0; i < len(sample); {
		if sample[i] < 0x80 {
			i++
			continue
		}
		j := i + 1
		for j < len(sample) && sample[j] >= 0x80 {
			j++
		}
		runs++
		if j-i == 1 {
			singles++
		}
		if cyrillicWord(sample[i:j]) {
			cyrillic++
		}
		i = j
	}
	switch {
	case runs == 0 || singles*10 >= runs*7:
		return "windows-1252"
	case cyrillic*10 >= runs*6:
		return "windows-1251"
	}
	best, bestScore := "windows-1252", 0
	for _, c := range cjkEncodings {
		e, _ := htmlindex.Get(c.name)
		text, err := e.NewDecoder().Bytes(sample)
		if err != nil {
			continue
		}
		score := 0
		for _, r := range string(text) {
			switch {
			case r < 0x80:
			case r == utf8.RuneError:
				score -= 10
			case unicode.In(r, c.scripts...) && (r < 0xff61 || r > 0xff9f): // not half-width kana
				score += 2
			default:
				score--
			}
		}
		if score > bestScore {
			best, bestScore = c.name, score
		}
	}
	return best
}

// cjkEncodings are tried in this order; on a tie the first wins (EUC-KR text decodes as GBK
// Han characters as well as it decodes as Hangul).
var cjkEncodings = []struct {
	name    string
	scripts []*unicode.RangeTable
}{
	{"shift_jis", []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana}},
	{"euc-kr", []*unicode.RangeTable{unicode.Hangul}},
	{"gbk", []*unicode.RangeTable{unicode.Han}},
	{"big5", []*unicode.RangeTable{unicode.Han}},
}

// cyrillicWord reports whether a run of high bytes reads as a Cyrillic word in windows-1251:
// lower-case letters, the first possibly upper-case.
func cyrillicWord(run []byte) bool {
	for i, b := range run {
		if b < 0xc0 || (i > 0 && b < 0xe0) {
			return false
		}
	}
	return len(run) > 1
}
