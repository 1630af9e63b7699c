package mail

import (
	"bytes"
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
