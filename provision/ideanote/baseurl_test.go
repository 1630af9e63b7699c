package ideanote

import (
	"strings"
	"testing"
)

func TestCheckBaseURL(t *testing.T) {
	const secret = "pa55-SECRET-w0rd"
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://api.ideanote.io", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://api.ideanote.io", false},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.example.com", false},
		{"http://10.0.0.1", false},
		{"ftp://api.ideanote.io", false},
		{"api.ideanote.io", false},
		{"http://user:" + secret + "@api.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckBaseURL(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckBaseURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
			}
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows the password: %v", err)
				}
			}
		})
	}
}

// A URL that does not parse shows no password either: url.Parse's own error quotes the URL
// whole, password included.
func TestBaseURLErrorsRedactPassword(t *testing.T) {
	const secret = "pa55SECRET"
	for _, raw := range []string{
		"http://user:" + secret + "@host/%zz",
		"https://user:" + secret + "@host:badport/",
		"http://user:" + secret + "/x@host/", // a '/' in the password: no authority url.Parse can read
		"http://user:" + secret + "@host/\x7f",
		"user:" + secret + "@host/%zz",
		"http://user:" + secret + "@api.example.com", // parses: refused for plain http
		"ftp://user:" + secret + "@api.example.com",
	} {
		err := CheckBaseURL(raw)
		if err == nil || strings.Contains(err.Error(), secret) || strings.ContainsRune(err.Error(), 0x7f) {
			t.Errorf("CheckBaseURL(%q) = %v, want an error without the password", raw, err)
		}
		c := &Client{BaseURL: raw}
		if _, err := c.Post(t.Context(), nil); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Post to %q: %v, want an error without the password", raw, err)
		}
	}
}
