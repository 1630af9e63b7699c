package ideanote

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckBaseURL allows https anywhere and plain http only on a loopback host, where nobody can
// listen in: the API token travels in every request body. Its errors show the URL redacted.
func CheckBaseURL(s string) error {
	_, err := ParseBaseURL(s)
	return err
}

// ParseBaseURL parses an API root as CheckBaseURL checks it. Unlike url.Parse's, its errors
// never hold the URL as given: they show it through Redact.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not an absolute URL", Redact(s))
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return u, nil
		}
		return nil, fmt.Errorf("%s: plain http would send the API token in clear; use https (http is allowed only for loopback test servers)", Redact(s))
	}
	return nil, fmt.Errorf("%s: expected https://", Redact(s))
}

// Redact returns rawURL fit for a message: the password of its user info replaced by "xxxxx"
// (as url.URL.Redacted does), also when rawURL does not parse, and quoted when it holds
// characters a terminal would act on. When the user info cannot be told apart from the rest
// of a malformed URL, everything between "//" and the last '@' is replaced.
func Redact(rawURL string) string {
	// A URL without a host ("user:pass@host" has the scheme "user") keeps its '@' in parts
	// that Redacted shows as they are.
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

// quoteIfNeeded quotes s (Go syntax) when it holds spaces, control or non-printing characters.
func quoteIfNeeded(s string) string {
	if s == clean(s) && !strings.ContainsAny(s, " \"") {
		return s
	}
	return fmt.Sprintf("%q", s)
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
