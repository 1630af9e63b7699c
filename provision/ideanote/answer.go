package ideanote

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLen bounds a session token and a user id. Ideanote's tokens are about 50 characters
// (hex, an underscore, milliseconds); anything near this long is not one.
const MaxIDLen = 512

// checkID says why s cannot be a session token or a user id, or returns "". The token becomes
// a path segment of a login link and both go into the report, a mail and a shell script: only
// letters, digits, '-', '_' and '.' pass, starting with a letter or a digit. So no "." or ".."
// (a browser resolves them: a link to the wrong page), no leading '-' (an option to a command,
// a formula to a spreadsheet).
func checkID(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > MaxIDLen:
		return fmt.Sprintf("is %d bytes long (at most %d)", len(s), MaxIDLen)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.':
			if i == 0 {
				return "does not start with a letter or a digit"
			}
		default:
			return "holds characters other than letters, digits, '-', '_' and '.'"
		}
	}
	return ""
}

// checkSession returns a *ResponseError for a 2xx whose session cannot be used. The values
// themselves never appear in the message: a token is a credential, and either may carry
// control characters. A missing user id is allowed (the report leaves it empty).
func checkSession(code int, token, userID string) error {
	if why := checkID(token); why != "" {
		return &ResponseError{Msg: fmt.Sprintf("HTTP %d with a sessionToken that cannot be one: it %s", code, why), Code: code}
	}
	if userID == "" {
		return nil
	}
	if why := checkID(userID); why != "" {
		return &ResponseError{Msg: fmt.Sprintf("HTTP %d with a user id that cannot be one: it %s", code, why), Code: code}
	}
	return nil
}

// redirectMessage says where a 3xx pointed: scheme, host and path of its Location, resolved
// against the request's URL; never its user info, query or fragment, which may hold secrets.
func redirectMessage(loc string, from *url.URL) string {
	if loc == "" {
		return "a redirect without a Location, not followed"
	}
	u, err := from.Parse(loc)
	if err != nil {
		return "a redirect to an unreadable Location, not followed"
	}
	where := clean(u.Scheme + "://" + u.Host + u.EscapedPath())
	if len(where) > 200 {
		where = cut(where, 200)
	}
	return "redirected to " + where + ", not followed: the API token goes only to the base URL"
}

// clean replaces the characters of text from the server that a terminal, a spreadsheet or a
// log would act on (C0 and C1 controls, DEL, bidirectional overrides) with a space, and invalid
// UTF-8 with '?', so that an error message is inert wherever it is written.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return ' '
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f', '\u202a' <= r && r <= '\u202e', '\u2066' <= r && r <= '\u2069':
		return true // bidirectional marks and overrides: they reorder what a reader sees
	case r == '\u2028', r == '\u2029':
		return true // line and paragraph separators
	}
	return false
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
