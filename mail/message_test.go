package mail

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestBuildKeepsHeadersWhole(t *testing.T) {
	t.Parallel()
	o := Options{Report: "r.csv", From: "IT <it@Acme.example>", OutDir: t.TempDir(), Concurrency: 1,
		Subject: "Hi {{.Name}}", Now: func() time.Time { return time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) }}
	s, err := prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	evil := "Eve\r\nBcc: victim@example.com"
	j := &job{row: 2, email: "eve@example.com", fields: Fields{Email: "eve@example.com", Name: evil, FirstName: "Eve", Link: "https://x.invalid/l"}}
	out, err := s.build(j)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := out.msg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	m := parseMessage(t, b.Bytes())
	if m.header.Get("Bcc") != "" {
		t.Errorf("a name made a Bcc header:\n%s", b.String())
	}
	to, err := m.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != evil || to[0].Address != "eve@example.com" {
		t.Errorf("To = %v, %v", to, err)
	}
	if got := m.header.Get("Date"); got != "Mon, 23 Nov 2026 03:00:00 +0000" {
		t.Errorf("Date = %q", got)
	}
	if id := m.header.Get("Message-ID"); id != out.id || !strings.HasSuffix(id, "@Acme.example>") || len(id) < 30 {
		t.Errorf("Message-ID = %q (%q)", id, out.id)
	}
	if out.from != "<it@Acme.example>" || out.to != "<eve@example.com>" {
		t.Errorf("envelope %s -> %s", out.from, out.to)
	}
}

// Every header line of a message is at most 998 characters (RFC 5322), whatever the name, the
// subject or the sender: a 1,000-character name without a space made a To: line of 1,017 that
// servers refuse. The name and the subject read back as they were.
func TestHeaderLinesFold(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 1000)
	names := []string{long, strings.Repeat("é", 600), strings.Repeat("ab ", 400), strings.Repeat(`a"b\`, 300),
		strings.Repeat("x", 80) + " Smith", "O'Brien (IT) " + strings.Repeat("z", 200), "Ana López", "Bob"}
	for i, name := range names {
		for _, subject := range []string{"", "Welcome to {{.Team}}", "Bienvenue, {{.Name}} — {{.Team}}"} {
			o, _ := testOptions(t, nil, nil)
			o.Report, o.SMTPURL, o.Subject = "unused.csv", "smtp://127.0.0.1:1", subject
			o.From = "IT " + strings.Repeat("D", 300) + " <it@acme.example>"
			s, err := prepare(o)
			if err != nil {
				t.Fatal(err)
			}
			team := strings.Repeat("T", 1000)
			out, err := s.build(&job{row: 2, email: "p@example.com", fields: Fields{Email: "p@example.com", Name: name,
				FirstName: firstName(name), Team: team, Locale: "en", Link: "https://x.example/l", LoginURL: "https://x.example/l"}})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if _, err := out.msg.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			head, _, _ := bytes.Cut(b.Bytes(), []byte("\r\n\r\n"))
			for l := range strings.SplitSeq(string(head), "\r\n") {
				if len(l) > 998 {
					t.Errorf("name %d, subject %q: a header line of %d characters: %.60s...", i, subject, len(l), l)
				}
			}
			m, err := mail.ReadMessage(&b)
			if err != nil {
				t.Fatalf("name %d: %v", i, err)
			}
			to, err := mail.ParseAddress(m.Header.Get("To"))
			if err != nil || to.Name != name || to.Address != "p@example.com" {
				t.Errorf("name %d: To reads back as %+v (%v)", i, to, err)
			}
			from, err := mail.ParseAddress(m.Header.Get("From"))
			if err != nil || from.Name != s.from.Name {
				t.Errorf("name %d: From reads back as %+v (%v)", i, from, err)
			}
			got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if err != nil || (subject == "Welcome to {{.Team}}" && got != "Welcome to "+team) {
				t.Errorf("name %d: Subject reads back as %.80q (%v)", i, got, err)
			}
		}
	}
}

func TestEncodedWords(t *testing.T) {
	t.Parallel()
	dec := new(mime.WordDecoder)
	for _, s := range []string{"", "a", "a_b=c?d e", strings.Repeat("é€😀", 40), strings.Repeat("x", 200)} {
		words := encodedWords(s)
		for _, w := range words {
			if len(w) > 75 {
				t.Errorf("%q: a word of %d characters", s, len(w))
			}
		}
		if got, err := dec.DecodeHeader(strings.Join(words, "\r\n ")); err != nil || got != s {
			t.Errorf("%.20q reads back as %.20q (%v)", s, got, err)
		}
	}
}
