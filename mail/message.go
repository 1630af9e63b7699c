package mail

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/mail"
	"strings"

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
	m.FromMailAddress(s.from)
	// net/mail writes a display name with accents as an RFC 2047 encoded word.
	m.ToMailAddress(&mail.Address{Name: j.fields.Name, Address: j.email})
	if s.replyTo != nil {
		m.ReplyToMailAddress(s.replyTo)
	}
	m.Subject(r.subject)
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
