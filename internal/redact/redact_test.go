package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.ideanote.io", "https://api.ideanote.io"},
		{"https://u:p@h/x", "https://u:xxxxx@h/x"},
		{"http://u:p@h/%zz", "http://u:xxxxx@h/%zz"},
		{"http://u:p/q@h/%zz", "http://u:xxxxx@h/%zz"},
		{"http://a/b:p@h/%zz", "http://xxxxx@h/%zz"},
		{"u:p@h/%zz", "xxxxx@h/%zz"},
		{"user:p@smtp.example.com:587", "xxxxx@smtp.example.com:587"}, // parses, as the scheme "user"
		{"smtp:user:p@h", "xxxxx@h"},
		{"mailto:u:p@h", "xxxxx@h"},
		{"http://h/%zz", "http://h/%zz"},
		{"http://h/\x1b[2J%zz", `"http://h/\x1b[2J%zz"`},
		{"http://h/a\u202eb", "http://h/a%E2%80%AEb"}, // re-escaped by url.URL
		{"http://h/a\u202eb%zz", `"http://h/a\u202eb%zz"`},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
