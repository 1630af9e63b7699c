package report

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// DefaultWidgetHost is the host of Ideanote's full-page widget links.
const DefaultWidgetHost = "https://idea-widget.ideanote.io/idea-confirmation"

// Links builds the login links of a session token. The zero value builds none.
type Links struct {
	webApp       string // "https://acme.ideanote.io/login/session/", or ""
	widgetPrefix string // the widget URL up to and including "auth.sessionToken=", or ""
	widgetSuffix string // "#fragment" of the widget URL, or ""
}

// The settings of NewLinks, as a LinkError names them.
const (
	SettingSubdomain = "subdomain"
	SettingWebAppURL = "web-app URL"
	SettingWidgetURL = "widget URL"
	SettingWidgetID  = "widget id"
)

// LinkError is a link setting that cannot make links; Setting says which.
type LinkError struct {
	Setting string
	Err     error
}

func (e *LinkError) Error() string { return e.Err.Error() }
func (e *LinkError) Unwrap() error { return e.Err }

var subdomainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NewLinks checks the link settings and returns the builder. subdomain and webAppURL are
// alternatives for the web-app link, widgetURL and widgetID for the widget link.
func NewLinks(subdomain, webAppURL, widgetURL, widgetID string) (Links, error) {
	var l Links
	switch {
	case subdomain != "" && webAppURL != "":
		return l, &LinkError{SettingWebAppURL, errors.New("a subdomain and a web-app URL were both given: the web-app link takes one or the other")}
	case subdomain != "":
		s := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(subdomain), ".ideanote.io"))
		if !subdomainRE.MatchString(s) {
			return l, &LinkError{SettingSubdomain, fmt.Errorf("subdomain %q: expected the first part of your workspace host, as in acme for acme.ideanote.io", subdomain)}
		}
		l.webApp = "https://" + s + ".ideanote.io/login/session/"
	case webAppURL != "":
		u, err := absURL(SettingWebAppURL, webAppURL)
		if err != nil {
			return l, err
		}
		u.RawQuery, u.Fragment = "", ""
		l.webApp = strings.TrimRight(u.String(), "/") + "/login/session/"
	}
	switch {
	case widgetURL != "" && widgetID != "":
		return l, &LinkError{SettingWidgetID, errors.New("a widget URL and a widget id were both given: the widget link takes one or the other")}
	case widgetID != "":
		widgetURL = DefaultWidgetHost + "?config=" + url.QueryEscape(strings.TrimSpace(widgetID))
		fallthrough
	case widgetURL != "":
		u, err := absURL(SettingWidgetURL, widgetURL)
		if err != nil {
			return l, err
		}
		// Keep the link's own parameters as they are, in their order; drop a token already there.
		var keep []string
		for _, p := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(p, "=")
			if uk, err := url.QueryUnescape(k); p == "" || (err == nil && strings.EqualFold(uk, "auth.sessionToken")) {
				continue
			}
			keep = append(keep, p)
		}
		keep = append(keep, "auth.sessionToken=")
		u.RawQuery = strings.Join(keep, "&")
		if u.Fragment != "" {
			l.widgetSuffix = "#" + u.EscapedFragment()
			u.Fragment, u.RawFragment = "", ""
		}
		l.widgetPrefix = u.String()
	}
	return l, nil
}

func absURL(what, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &LinkError{what, fmt.Errorf("%s %q: expected an absolute https:// URL", what, s)}
	}
	return u, nil
}

// WebApp returns the web-app login link for token, or "" when no web-app target is set.
func (l Links) WebApp(token string) string {
	if l.webApp == "" || token == "" {
		return ""
	}
	return l.webApp + url.PathEscape(token)
}

// Widget returns the widget login link for token, or "" when no widget target is set.
func (l Links) Widget(token string) string {
	if l.widgetPrefix == "" || token == "" {
		return ""
	}
	return l.widgetPrefix + url.QueryEscape(token) + l.widgetSuffix
}
