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
