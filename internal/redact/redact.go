// Package redact shows URLs in messages without the secrets they may hold.
package redact

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// URL returns rawURL fit for a message: the password of its user info replaced by "xxxxx"
// (as url.URL.Redacted does), also when rawURL does not parse or has no host (url.Parse reads
// "user:pass@host" as the scheme "user", and Redacted then shows it whole), and quoted when it
// holds spaces or characters a terminal would act on. When the user info cannot be told apart
// from the rest of a malformed URL, everything up to the last '@' after "//" is replaced.
func URL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && (u.Host != "" || !strings.Contains(rawURL, "@")) {
		return quoteIfNeeded(u.Redacted())
	}
	i := strings.Index(rawURL, "//")
	at := strings.LastIndex(rawURL, "@")
	if i < 0 || at < i {
		if at >= 0 {
			// No "//" before the '@': no authority to tell, so nothing before the '@' is shown.
			return quoteIfNeeded("xxxxx" + rawURL[at:])
		}
		return quoteIfNeeded(rawURL)
	}
	userinfo := rawURL[i+2 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok && !strings.ContainsAny(user, "/?#") {
		return quoteIfNeeded(rawURL[:i+2] + user + ":xxxxx" + rawURL[at:])
	}
	return quoteIfNeeded(rawURL[:i+2] + "xxxxx" + rawURL[at:])
}

// quoteIfNeeded quotes s (Go syntax, which escapes what is not printable) when it holds a
// space, a quote or a character that is not printable (controls, bidirectional overrides).
func quoteIfNeeded(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' || r == '"' }) < 0 {
		return s
	}
	return fmt.Sprintf("%q", s)
}
