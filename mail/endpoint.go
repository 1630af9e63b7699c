package mail

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/redact"
)

// endpoint is the SMTP server of --smtp-url and how to speak to it.
type endpoint struct {
	implicitTLS bool // smtps://: TLS from the first byte
	host        string
	port        int
	user        string
	password    string
	// loopback hosts may be spoken to without TLS when they offer none; every other host
	// must take STARTTLS, or the run stops before the password or a link is sent.
	loopback bool
	// dial replaces the network dial in tests (to reach a fake under another host's name).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// parseEndpoint reads an --smtp-url. Its errors never hold the password: a URL that carries
// one is shown redacted. needPassword says whether a user without a password is a mistake.
func parseEndpoint(raw, password string, needPassword bool) (*endpoint, error) {
	const example = "smtp://user@smtp.example.com:587 or smtps://user@smtp.example.com:465"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url's error quotes the whole URL, and with it any password pasted into it.
		return nil, configf("%s is not a URL: expected %s", opt("SMTPURL"), example)
	}
	if _, has := u.User.Password(); has {
		return nil, configf("%s %s holds a password: put it in %s instead", opt("SMTPURL"), redact.URL(raw), opt("Password"))
	}
	e := &endpoint{host: u.Hostname(), password: password}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		e.port = 587
	case "smtps":
		e.implicitTLS, e.port = true, 465
	default:
		return nil, configf("%s %s: expected %s", opt("SMTPURL"), redact.URL(raw), example)
	}
	if e.host == "" || u.Opaque != "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return nil, configf("%s %s: expected %s", opt("SMTPURL"), redact.URL(raw), example)
	}
	if p := u.Port(); p != "" {
		if e.port, err = strconv.Atoi(p); err != nil || e.port < 1 || e.port > 65535 {
			return nil, configf("%s %s: the port is not a number from 1 to 65535", opt("SMTPURL"), redact.URL(raw))
		}
	}
	if ip := net.ParseIP(e.host); strings.EqualFold(e.host, "localhost") || (ip != nil && ip.IsLoopback()) {
		e.loopback = true
	}
	e.user = u.User.Username()
	switch {
	case e.user == "" && password != "":
		return nil, configf("an SMTP password is set but %s names no user: put it before the host, as in smtp://user@%s", opt("SMTPURL"), u.Host)
	case e.user != "" && password == "" && needPassword:
		return nil, configf("%s names the user %s but no password is set: set %s", opt("SMTPURL"), e.user, opt("Password"))
	}
	return e, nil
}

// addr is host:port, with brackets around an IPv6 address.
func (e *endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// String describes the endpoint for the log, without its user or password.
func (e *endpoint) String() string {
	switch {
	case e.implicitTLS:
		return e.addr() + " (TLS)"
	case e.loopback:
		return e.addr() + " (STARTTLS when offered: loopback)"
	}
	return e.addr() + " (STARTTLS required)"
}
