package ideanote

import (
	"fmt"
	"net"
	"net/url"
)

// CheckBaseURL allows https anywhere and plain http only on a loopback host, where nobody can
// listen in: the API token travels in every request body.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s: plain http would send the API token in clear; use https (http is allowed only for loopback test servers)", u.Redacted())
	}
	return fmt.Errorf("%s: expected https://", u.Redacted())
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
