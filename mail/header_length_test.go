package mail

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
)

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
