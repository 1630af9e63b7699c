package input

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// MaxFieldBytes is the longest cell the reader accepts, in bytes.
const MaxFieldBytes = 1024

// Defaults fill cells left empty in the input.
type Defaults struct {
	Team   string
	Locale string
}

// normalize trims every field, applies defaults, checks the row and returns the first problem
// as a *provision.RowError. u is updated in place: the locale is put in canonical form. Whatever the
// verdict, u leaves valid UTF-8 and no cell longer than MaxFieldBytes (plus an ellipsis), so
// that an invalid row can be shown in the report and the log as it was, without its bad bytes.
func normalize(line int, u *provision.User, d Defaults) error {
	var first error
	for _, f := range provision.Fields {
		v := f.Of(u)
		if !utf8.ValidString(*v) {
			if first == nil {
				first = &provision.RowError{Line: line, Field: f.Name, Msg: notUTF8(*v)}
			}
			*v = strings.ToValidUTF8(*v, "\uFFFD")
		}
		if f.Name == "name" || f.Name == "team" {
			// A name or team typed on two lines in a cell (Alt+Enter in Excel, a line break
			// in a quoted CSV cell) means one line: "Vertrieb\nNord" is "Vertrieb Nord".
			*v = foldLines(*v)
		}
		*v = strings.TrimSpace(*v)
		switch {
		case first != nil:
		case strings.ContainsRune(*v, utf8.RuneError):
			first = &provision.RowError{Line: line, Field: f.Name, Msg: fmt.Sprintf("%s holds U+FFFD, the mark of text decoded from the wrong encoding", quote(*v))}
		case strings.IndexFunc(*v, isControl) >= 0:
			first = &provision.RowError{Line: line, Field: f.Name, Msg: "holds a control character (a NUL or similar): the cell is corrupt"}
		case strings.ContainsAny(*v, "\r\n"):
			// No address, locale or link spans lines; in a CSV this is most often a quote
			// left open that made the following lines part of the cell.
			first = &provision.RowError{Line: line, Field: f.Name, Msg: "holds a line break (in a CSV file, is a quote left open?)"}
		}
		if len(*v) > MaxFieldBytes {
			n := len(*v)
			*v = clip(*v, MaxFieldBytes)
			if first == nil {
				first = &provision.RowError{Line: line, Field: f.Name, Msg: tooLong(n)}
			}
		}
	}
	if first != nil {
		return first
	}
	if u.Team == "" {
		u.Team = d.Team
	}
	if u.Locale == "" {
		u.Locale = d.Locale
	}
	if msg := checkEmail(u.Email); msg != "" {
		return &provision.RowError{Line: line, Field: "email", Msg: msg}
	}
	if msg := invisible(u.Sub); msg != "" {
		return &provision.RowError{Line: line, Field: "sub", Msg: msg}
	}
	if u.Locale != "" {
		canon, err := CanonicalLocale(u.Locale)
		if err != nil {
			return &provision.RowError{Line: line, Field: "locale", Msg: quote(u.Locale) + " is " + err.Error()}
		}
		u.Locale = canon
	}
	if u.AvatarURL != "" {
		if msg := checkAvatar(u.AvatarURL); msg != "" {
			return &provision.RowError{Line: line, Field: "avatar", Msg: msg}
		}
	}
	return nil
}

// tooLong says that a cell of n bytes is over MaxFieldBytes.
func tooLong(n int) string { return fmt.Sprintf("is %d bytes, at most %d", n, MaxFieldBytes) }

// notUTF8 names the bytes of s that are not UTF-8 and shows s with them marked: in a file that
// is UTF-8 elsewhere they are a cell damaged by hand or by a tool, and only its row is lost.
func notUTF8(s string) string {
	var bad []string
	for i := 0; i < len(s) && len(bad) < 4; {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			bad = append(bad, fmt.Sprintf("0x%02X", s[i]))
		}
		i += size
	}
	return fmt.Sprintf("holds bytes that are not UTF-8 (%s, in %s): correct the cell",
		strings.Join(bad, " "), quote(strings.ToValidUTF8(s, "\uFFFD")))
}

// foldLines turns each line break of s, with the spaces around it, into one space.
func foldLines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	kept := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}

// isControl matches the control characters that no name, team or address holds: C0 but tabs
// and line breaks (left to the other checks), DEL, and C1, which is what a single-byte encoding
// that does not fit the file makes of its bytes 0x80-0x9F.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// invisible says which invisible formatting character (Unicode's Cf: zero-width spaces and
// joiners, a byte-order mark, a soft hyphen, bidirectional marks) s holds, or "" when none. An
// address or sub copied from a document or a chat may carry one, and with it would be another
// person's: a second account, a mail that bounces. A name may hold them (an emoji's joiner).
func invisible(s string) string {
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("holds an invisible character, U+%04X (copied from a document or a chat?): type it again", r)
	}
	return ""
}

// checkEmail returns why s is not one plain address, or "" when it is.
func checkEmail(s string) string {
	if s == "" {
		return "empty"
	}
	if msg := invisible(s); msg != "" {
		return msg
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		if strings.ContainsAny(s, ",;") {
			return quote(s) + " is not a single email address"
		}
		return quote(s) + " is not a valid email address"
	}
	if a.Name != "" || a.Address != s {
		return quote(s) + " must be a bare address, without a display name or angle brackets"
	}
	// Quoted local parts and address literals are legal but no HR system means them, and a quoted
	// local part could carry a spreadsheet formula into the report.
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if strings.ContainsAny(s, "\"[]") || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return quote(s) + " is not a valid email address"
	}
	return ""
}

func checkAvatar(s string) string {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return quote(s) + " is not an absolute http(s) URL"
	}
	if sc := strings.ToLower(u.Scheme); sc != "http" && sc != "https" {
		return quote(s) + " is not an absolute http(s) URL"
	}
	return ""
}

// quote shows a cell in a message, shortened so that one bad cell cannot flood a log line.
func quote(s string) string { return "\"" + clip(s, 80) + "\"" }

// clip shortens s to at most max bytes, on a rune boundary, marking the cut with an ellipsis.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// keyHash is a fixed-size digest of a normalised key: duplicate detection over a million rows
// then costs a few dozen bytes a row, whatever the length of the cells. 96 bits rather than
// 128 save a fifth of the memory (16-byte entries with the line number); the chance that two
// of two million keys collide, and a row is wrongly called a repeat, is about 2^-55.
type keyHash [12]byte

func hashKey(kind byte, key string) keyHash {
	h := sha256.New()
	h.Write([]byte{kind, 0})
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	var k keyHash
	copy(k[:], h.Sum(sum[:0]))
	return k
}

// seenKeys remembers, for each key digest, the row where it was first seen. It is 65,536
// buckets of plain slices rather than a map. Measured over a million rows with email and sub
// (two million keys): a map[[16]byte]int32 held 85 MiB and the process peaked at 155 MiB of
// RSS; these buckets of 16-byte entries hold 44 MiB, and the process peaks at 108 MiB.
type seenKeys struct{ buckets [][]seenEntry }

type seenEntry struct {
	key  keyHash
	line int32
}

func (s *seenKeys) bucket(k keyHash) *[]seenEntry {
	if s.buckets == nil {
		s.buckets = make([][]seenEntry, 1<<16)
	}
	return &s.buckets[binary.LittleEndian.Uint16(k[:2])] // digests are uniform: any bits do
}

// first returns the row where k was first seen.
func (s *seenKeys) first(k keyHash) (int, bool) {
	for _, e := range *s.bucket(k) {
		if e.key == k {
			return int(e.line), true
		}
	}
	return 0, false
}

func (s *seenKeys) add(k keyHash, line int) {
	b := s.bucket(k)
	*b = append(*b, seenEntry{k, int32(line)})
}
