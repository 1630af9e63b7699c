package ideanote

import (
	"html"
	"net/url"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	const tok = `Tok<&>"/ SECRET+value42`
	c := &Client{APIToken: tok}
	tests := []struct{ name, in string }{
		{"raw", "echo: " + tok},
		{"HTML-escaped", "<title>" + html.EscapeString(tok) + "</title>"},
		{"JSON-escaped", `{"apiToken":"Tok\u003c\u0026\u003e\"/ SECRET+value42"}`},
		{"query-escaped", "GET /?t=" + url.QueryEscape(tok)},
		{"path-escaped", "GET /" + url.PathEscape(tok)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize([]byte(tt.in), "text/plain", c.scrub)
			if strings.Contains(got, "SECRET") || !strings.Contains(got, "[redacted]") {
				t.Errorf("summarize(%q) = %q", tt.in, got)
			}
		})
	}
}

// A proxy may echo the request body cut short, or from some way in: the token is the body's
// last field, so a cut often falls inside it, and what is left of it is hidden too.
func TestScrubPartOfTheToken(t *testing.T) {
	const tok = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
	c := &Client{APIToken: tok}
	for _, in := range []string{
		`malformed request: {"spaceId":"s","data":{"email":"a@x.io"},"apiToken":"` + tok[:20],
		`...` + tok[12:] + `"}`,
	} {
		got := summarize([]byte(in), "text/plain", c.scrub)
		if strings.Contains(got, tok[:8]) || strings.Contains(got, tok[len(tok)-8:]) || !strings.Contains(got, "[redacted]") {
			t.Errorf("summarize(%q) = %q", in, got)
		}
	}
}
