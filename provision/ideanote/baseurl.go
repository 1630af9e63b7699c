package ideanote

import (
	"fmt"
	"net"
	"net/url"

	"github.com/ideanote-provision/ideanote-provision/internal/redact"
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

// Redact returns rawURL fit for a message: its password replaced by "xxxxx", also when it
// does not parse, and quoted when it holds characters a terminal would act on.
func Redact(rawURL string) string { return redact.URL(rawURL) }

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
