package mail

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// build renders a person's message: headers, a text part and, with an HTML template, an HTML
// alternative. The message holds that person's link and nobody else's.
func (s *setup) build(j *job) (*outgoing, error) {
	r, err := s.templates.render(&j.fields)
	if err != nil {
		return nil, fmt.Errorf("rendering the message: %w", err)
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	setAddress(m, gomail.HeaderFrom, s.from)
	// net/mail writes a display name with accents as RFC 2047 encoded words.
	setAddress(m, gomail.HeaderTo, &mail.Address{Name: j.fields.Name, Address: j.email})
	if s.replyTo != nil {
		setAddress(m, gomail.HeaderReplyTo, s.replyTo)
	}
	if subject := mime.QEncoding.Encode("UTF-8", r.subject); foldable(subject) {
		m.Subject(r.subject)
	} else {
		m.SetGenHeaderPreformatted(gomail.HeaderSubject, strings.Join(encodedWords(r.subject), "\r\n "))
	}
	m.SetDateWithValue(s.o.Now())
	id := newMessageID(s.from.Address)
	m.SetMessageIDWithValue(id)
	// Out-of-office and other robots should not answer a message that no one typed.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, r.text)
	if r.html != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, r.html)
	}
	return &outgoing{msg: m, from: "<" + s.from.Address + ">", to: "<" + j.email + ">", id: "<" + id + ">", job: j}, nil
}

// maxWord is the longest word of a header that go-mail's folding, at spaces, leaves on a line
// of at most 78 characters: the longest RFC 2047 encoded-word and its comma.
const maxWord = 76

// foldable reports whether the header value v folds into lines of at most 78 characters. A
// word longer than that (a name or a subject without a space in 1,000 characters) would stay
// on one line, over RFC 5322's limit of 998 for the longest: servers refuse the message ("500
// Line too long"), again on every resume.
func foldable(v string) bool {
	for _, w := range strings.Fields(v) {
		if len(w) > maxWord {
			return false
		}
	}
	return true
}

// setAddress sets the address header h to a, its display name as folded RFC 2047
// encoded-words when, as net/mail writes it, it would not fold.
func setAddress(m *gomail.Msg, h gomail.AddrHeader, a *mail.Address) {
	if a.Name == "" || foldable(a.String()) {
		m.SetAddrHeaderFromMailAddress(h, a)
		return
	}
	m.SetGenHeaderPreformatted(gomail.Header(h), strings.Join(append(encodedWords(a.Name), "<"+a.Address+">"), "\r\n "))
}

// encodedWords is s as RFC 2047 "Q" encoded-words of at most 75 characters, each holding
// whole characters, as a display name or an unstructured header may have them: folded
// between them, they read back as s.
func encodedWords(s string) []string {
	const prefix, suffix = "=?UTF-8?q?", "?="
	limit := 75 - len(prefix) - len(suffix)
	var words []string
	var w strings.Builder
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		default:
			var b strings.Builder
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, "=%02X", c)
			}
			enc = b.String()
		}
		if w.Len()+len(enc) > limit {
			words = append(words, prefix+w.String()+suffix)
			w.Reset()
		}
		w.WriteString(enc)
	}
	if w.Len() > 0 || len(words) == 0 {
		words = append(words, prefix+w.String()+suffix)
	}
	return words
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newMessageID makes a Message-ID (without its brackets) that is unique in the world: 128
// random bits at the sender's domain.
func newMessageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	b := make([]byte, 16)
	rand.Read(b)
	return strings.ToLower(idEncoding.EncodeToString(b)) + "@" + domain
}
