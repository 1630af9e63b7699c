package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
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

// textSample gives the bytes of a CSV input from its start, to check an encoding on: the whole
// file, or the first bytes of standard input (complete when they are all of it).
type textSample struct {
	open     func() io.Reader
	complete bool
}

// chooseEncoding decides the encoding of a CSV input from its first bytes (head), label (an
// Options.Encoding) and, for the checks, sample.
//
// A byte-order mark decides, whatever the label: the label is then only named in the format.
// Without one, a label is checked against the text: it is refused when the text is UTF-8 with
// letters outside ASCII, or when it would decode to U+FFFD or C1 control characters. Without a
// label (or with utf-8), text that is UTF-8 but for some bytes is read as UTF-8, and the rows
// with those bytes are invalid; text without a single UTF-8 character outside ASCII but with
// bytes that are not UTF-8 is refused, naming an encoding that reads it cleanly, if any.
func chooseEncoding(label string, head []byte, sample textSample) (textEncoding, error) {
	var named encoding.Encoding
	var name string
	if label != "" {
		e, err := htmlindex.Get(label)
		if err != nil || e == encoding.Replacement {
			return textEncoding{}, &FileError{Given: &Setting{"Encoding", strconv.Quote(label)},
				Msg: "not an encoding this program knows; give a WHATWG label such as utf-8, windows-1252, iso-8859-15, utf-16le or shift_jis", Err: err}
		}
		named = e
		name, _ = htmlindex.Name(e)
	}
	var bomEnc *textEncoding
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe\x00\x00")):
		bomEnc = &textEncoding{name: "utf-32le", decoder: utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM).NewDecoder}
	case bytes.HasPrefix(head, []byte("\x00\x00\xfe\xff")):
		bomEnc = &textEncoding{name: "utf-32be", decoder: utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM).NewDecoder}
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		bomEnc = &textEncoding{name: "utf-16le", decoder: xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder}
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		bomEnc = &textEncoding{name: "utf-16be", decoder: xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM).NewDecoder}
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		bomEnc = &textEncoding{name: "utf-8", bom: 3, stateless: true}
	}
	if bomEnc != nil {
		// Bytes that are not UTF-8 in a file marked as UTF-8 make their rows invalid: the
		// mark says what the rest of the file is.
		if name != "" && name != bomEnc.name {
			bomEnc.name += " (byte-order mark, which decides over " + name + ")"
		} else {
			bomEnc.name += " (BOM)"
		}
		return *bomEnc, nil
	}
	if name != "" && name != "utf-8" {
		enc := textEncoding{name: name, decoder: named.NewDecoder,
			stateless: !strings.HasPrefix(name, "utf-16") && name != "iso-2022-jp"}
		if err := checkLabel(enc, sample); err != nil {
			return enc, err
		}
		return enc, nil
	}
	enc := textEncoding{name: "utf-8", stateless: true}
	firstLine := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		firstLine = head[:i]
	}
	if bytes.IndexByte(firstLine, 0) >= 0 {
		return enc, nulError(head)
	}
	st, err := scanText(sample, false, nil)
	if err != nil {
		return enc, err
	}
	if st.fault == nil || (st.multi > 0 && st.multi >= st.invalid) {
		return enc, nil
	}
	return enc, notUTF8Error(st.fault, sample)
}

// checkLabel refuses an encoding that does not fit the text of sample, naming a line and what
// it would become, and an encoding that fits, when there is one.
func checkLabel(enc textEncoding, sample textSample) error {
	// One read of the sample serves both checks: it is decoded as it is scanned for UTF-8.
	var fit misfitWriter
	tw := transform.NewWriter(&fit, enc.decoder())
	st, err := scanText(sample, true, tw)
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		return err
	}
	fit.end()
	if st.multi > 0 && st.multi >= st.invalid {
		// Read without a label, this text is UTF-8 (its bytes that are not make their rows
		// invalid): the label would turn its letters into others.
		line, word := st.firstMulti.line, st.firstMulti.word
		as, _ := enc.decoder().String(word)
		return &FileError{Msg: fmt.Sprintf("the input is UTF-8, not %s: line %d holds %q, which as %s would become %q",
			enc.name, line, word, enc.name, as), Fix: []Setting{{"Encoding", "utf-8"}}}
	}
	m := fit.misfit
	if m == nil {
		return nil
	}
	msg := fmt.Sprintf("the input is not in %s: line %d would hold %q as %s (%s)", enc.name, m.line, m.word, enc.name, m.what)
	if st.fault == nil {
		return &FileError{Msg: msg + "; the input is UTF-8", Fix: []Setting{{"Encoding", "utf-8"}}}
	}
	if guess := fittingEncoding(st.fault.text, sample, enc.name); guess != "" {
		return &FileError{Msg: msg + "; it looks like " + guess, Fix: []Setting{{"Encoding", guess}}}
	}
	return &FileError{Msg: msg + `; no encoding this program knows reads it cleanly: save the file as "CSV UTF-8"`}
}

// notUTF8Error refuses text that is not UTF-8, naming an encoding that reads it cleanly if any.
func notUTF8Error(f *utf8Fault, sample textSample) error {
	msg := fmt.Sprintf("the input is not UTF-8 (line %d holds the byte 0x%02X", f.line, f.b)
	guess := fittingEncoding(f.text, sample, "")
	if guess == "" {
		return &FileError{Msg: msg + `), and no encoding this program knows reads it cleanly: save the file as "CSV UTF-8"`}
	}
	if w := wordAround(f.sample, f.at, guess); w != "" {
		msg += fmt.Sprintf(", in %q as %s", w, guess)
	}
	return &FileError{Msg: msg + "): it looks like " + guess, Fix: []Setting{{"Encoding", guess}}}
}

// fittingEncoding returns the first encoding, the one guessed from text and then the common
// single-byte ones, that decodes all of sample without U+FFFD or C1 control characters, or "".
// It never returns not, so that its advice never leads back to the message that gave it.
func fittingEncoding(text []byte, sample textSample, not string) string {
	for _, name := range []string{guessEncoding(text), "windows-1252", "windows-1251", "windows-1250"} {
		if name == not {
			continue
		}
		e, err := htmlindex.Get(name)
		if err != nil {
			continue
		}
		if m, err := misfit(textEncoding{name: name, decoder: e.NewDecoder}, sample); err == nil && m == nil {
			return name
		}
	}
	return ""
}

// misdecode is the first place where an encoding does not fit a text.
type misdecode struct {
	line int
	word string // the decoded word that holds the character
	what string // what the character is
}

// misfit decodes sample with enc and returns where it first yields U+FFFD or a C1 control
// character, or nil.
func misfit(enc textEncoding, sample textSample) (*misdecode, error) {
	fit := misfitWriter{stop: true}
	tw := transform.NewWriter(&fit, enc.decoder())
	_, err := io.Copy(tw, sample.open())
	if err == nil {
		err = tw.Close()
	}
	if fit.misfit != nil {
		return fit.misfit, nil
	}
	if err != nil {
		return nil, err
	}
	fit.end()
	return fit.misfit, nil
}

// errMisfit stops the copy into a misfitWriter that has found what it looks for.
var errMisfit = errors.New("misfit found")

// misfitWriter finds, in the decoded text written to it, the first U+FFFD or C1 control
// character: its line and the word that holds it. It looks at a line once it is whole, or at
// its first 64 KiB; end looks at the last line.
type misfitWriter struct {
	misfit *misdecode
	stop   bool   // Write fails with errMisfit once misfit is found, to end the copy
	line   int    // the lines looked at
	buf    []byte // the line being written
}

func (w *misfitWriter) Write(p []byte) (int, error) {
	if w.misfit != nil {
		if w.stop {
			return 0, errMisfit
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	done := 0
	for w.misfit == nil {
		rest := w.buf[done:]
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			w.look(rest[:nl+1], true)
			done += nl + 1
			continue
		}
		if len(rest) >= 64<<10 {
			n := completeRunes(rest)
			w.look(rest[:n], false)
			done += n
		}
		break
	}
	w.buf = append(w.buf[:0], w.buf[done:]...)
	return len(p), nil
}

// end looks at the last line, which has no line end.
func (w *misfitWriter) end() {
	if w.misfit == nil && len(w.buf) > 0 {
		w.look(w.buf, true)
	}
	w.buf = nil
}

// look looks at l, a line (whole when it ends the line) or the first part of one.
func (w *misfitWriter) look(l []byte, ends bool) {
	for i := 0; i < len(l); {
		r, size := utf8.DecodeRune(l[i:])
		if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) {
			what := fmt.Sprintf("U+%04X, a control character", r)
			if r == utf8.RuneError {
				what = "U+FFFD, a byte it has no character for"
			}
			w.misfit = &misdecode{line: w.line + 1, word: wordAt(l, i), what: what}
			return
		}
		i += size
	}
	if ends {
		w.line++
	}
}

// wordAt returns the word of text around byte i, bounded by delimiters, quotes and spaces.
func wordAt(text []byte, i int) string {
	sep := func(b byte) bool { return b <= ' ' || b == ',' || b == ';' || b == '"' }
	s, e := i, i
	for s > 0 && i-s < 40 && !sep(text[s-1]) {
		s--
	}
	for e < len(text) && e-i < 40 && !sep(text[e]) {
		e++
	}
	return strings.ToValidUTF8(string(text[s:e]), "\uFFFD")
}

// nulError explains a first line that holds NUL bytes: UTF-16 without a byte-order mark, or
// not text at all.
func nulError(head []byte) error {
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
		return &FileError{Msg: "the input looks like UTF-16LE without a byte-order mark", Fix: []Setting{{"Encoding", "utf-16le"}}}
	case even > len(head)/4 && odd == 0:
		return &FileError{Msg: "the input looks like UTF-16BE without a byte-order mark", Fix: []Setting{{"Encoding", "utf-16be"}}}
	}
	return &FileError{Msg: "the first line holds NUL bytes: this is not a CSV text file"}
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

// textStats says how much of a text is UTF-8.
type textStats struct {
	fault      *utf8Fault // where it first is not, or nil
	multi      int        // UTF-8 characters of more than one byte
	invalid    int        // bytes that are not UTF-8
	firstMulti struct {   // the first of those characters: its line, and the word that holds it
		line int
		word string
	}
}

// scanText reads the sample to its end and says where it first is not UTF-8. It counts its
// characters when count is set, else only when it is not all UTF-8, by a second read. When tee
// is not nil, the sample is written to it as it is read.
func scanText(sample textSample, count bool, tee io.Writer) (textStats, error) {
	var st textStats
	r := sample.open()
	if tee != nil {
		r = io.TeeReader(r, tee)
	}
	err := st.scan(r, sample.complete, count)
	if err != nil || count || st.fault == nil {
		return st, err
	}
	st = textStats{}
	return st, st.scan(sample.open(), sample.complete, true)
}

// scan reads r to the end and sets st.fault where it is first not UTF-8 (nil when nowhere);
// with count, it counts the characters of all of r, else it stops at the fault. It returns
// the read error. When complete is false, the input goes on past what r holds, and a
// character cut at the end of r is not a fault. It reads 256 KiB at a time, so that it runs
// over a large file at the speed of utf8.Valid.
func (st *textStats) scan(r io.Reader, complete, count bool) error {
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
		if st.fault == nil && !utf8.Valid(data[:end]) {
			st.fault = faultIn(data, end, lines, lineStart)
			if !count {
				return nil
			}
		}
		if count {
			st.count(data[:end], lines)
		}
		lines += bytes.Count(data[:end], []byte{'\n'})
		if nl := bytes.LastIndexByte(data[:end], '\n'); nl >= 0 {
			lineStart = append(lineStart[:0], data[nl+1:min(end, nl+1+256)]...)
		} else if len(lineStart) < 256 {
			lineStart = append(lineStart, data[:min(end, 256-len(lineStart))]...)
		}
		if !more {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			return err
		}
		carry = copy(buf, data[end:])
	}
}

// faultIn returns the first place in data[:end], which is not all UTF-8, where it is not:
// lines is the line data starts in, lineStart the start of that line when it began before
// data. The fault holds copies: data is read over.
func faultIn(data []byte, end, lines int, lineStart []byte) *utf8Fault {
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
	sample := append(bytes.Clone(prefix), data[from:min(end, i+256)]...)
	at := len(prefix) + i - from
	if j := bytes.IndexByte(sample[at:], '\n'); j >= 0 {
		sample = sample[:at+j]
	}
	if at > 256 {
		sample, at = sample[at-256:], 256
	}
	text := bytes.Clone(data[from:min(len(data), i+4<<10)])
	return &utf8Fault{line: lines, b: data[i], sample: sample, at: at, text: text}
}

// count counts the characters of text, which starts on line: the UTF-8 characters of more than
// one byte, the first of them, and the bytes that are not UTF-8.
func (st *textStats) count(text []byte, line int) {
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			st.invalid++
		case st.multi == 0:
			st.firstMulti.line, st.firstMulti.word = line+bytes.Count(text[:i], []byte{'\n'}), wordAt(text, i)
			st.multi++
		default:
			st.multi++
		}
		i += max(size, 1)
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
		if utf8.Valid(sample[i:j]) {
			i = j // UTF-8 in a file that is not all UTF-8: no sign of the other encoding
			continue
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
