package redact

import "testing"

func TestSecret(t *testing.T) {
	const tok = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
	tests := []struct{ name, in, secret, want string }{
		{"whole", "x " + tok + " y", tok, "x [r] y"},
		{"twice", tok + "," + tok, tok, "[r],[r]"},
		{"cut short", `"apiToken":"` + tok[:20], tok, `"apiToken":"[r]`},
		{"starts late", tok[10:] + `"}`, tok, `[r]"}`},
		{"a middle part", "a" + tok[5:15] + "b", tok, "a[r]b"},
		{"7 characters are left", "a" + tok[:7] + "b", tok, "a" + tok[:7] + "b"},
		{"none", "no secret here", tok, "no secret here"},
		{"short secret, whole only", "abc abcd", "abcd", "abc [r]"},
		{"empty secret", "abc", "", "abc"},
		{"a run starting inside a character", "x ¬ä€ab y", "€ä€ab", "x [r] y"}, // ¬ and € end in the same byte
		{"a run ending inside a character", "abcdefg₂ x", "abcdefg€", "[r] x"}, // ₂ and € start with the same two
	}
	for _, tt := range tests {
		if got := Secret(tt.in, tt.secret, "[r]"); got != tt.want {
			t.Errorf("%s: Secret(%q, %q) = %q, want %q", tt.name, tt.in, tt.secret, got, tt.want)
		}
	}
}
