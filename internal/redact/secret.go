package redact

import (
	"strings"
	"unicode/utf8"
)

// minPart is the shortest part of a secret that Secret hides: fewer characters say little of
// a token, and would match ordinary text by chance.
const minPart = 8

// Secret returns s with secret replaced by repl wherever s holds it, or a run of at least 8 of
// its characters: an echo cut short, or one that starts late, still shows that much of it. A
// secret of 8 characters or fewer is replaced only whole.
func Secret(s, secret, repl string) string {
	if len(secret) <= minPart {
		if secret == "" {
			return s
		}
		return strings.ReplaceAll(s, secret, repl)
	}
	// Every run of minPart or more characters of secret is covered by its windows of minPart.
	var hidden []bool
	for j := 0; j+minPart <= len(secret); j++ {
		w := secret[j : j+minPart]
		for off := 0; ; {
			i := strings.Index(s[off:], w)
			if i < 0 {
				break
			}
			if hidden == nil {
				hidden = make([]bool, len(s))
			}
			for k := off + i; k < off+i+minPart; k++ {
				hidden[k] = true
			}
			off += i + 1
		}
	}
	if hidden == nil {
		return s
	}
	// A run that starts or ends inside a character hides all of it.
	for i := range hidden {
		if hidden[i] {
			for a := i; a > 0 && !utf8.RuneStart(s[a]); a-- {
				hidden[a-1] = true
			}
			for z := i + 1; z < len(s) && !utf8.RuneStart(s[z]); z++ {
				hidden[z] = true
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case !hidden[i]:
			b.WriteByte(s[i])
		case i == 0 || !hidden[i-1]:
			b.WriteString(repl)
		}
	}
	return b.String()
}
