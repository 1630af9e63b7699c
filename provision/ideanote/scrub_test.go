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
