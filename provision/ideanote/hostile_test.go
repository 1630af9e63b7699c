package ideanote_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// A redirect is never followed: the API token goes to the base URL and nowhere else, the
// answer fails the row (and, every row being redirected, the run), saying where it pointed.
func TestClientRefusesRedirect(t *testing.T) {
	elsewhere := provisiontest.NewServer() // accepts the same token: a follower would get "ok"
	defer elsewhere.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, loc := range []string{
			elsewhere.URL + "/v1/session?fields=kind,user.id,sessionToken&leak=Q-SECRET",
			strings.Replace(elsewhere.URL, "http://", "http://user:P-SECRET@", 1) + "/v1/session#F-SECRET",
			"/v2/session?x=Q-SECRET", // relative: the same host, another path
		} {
			t.Run(fmt.Sprintf("%d %s", code, loc), func(t *testing.T) {
				srv := provisiontest.NewServer()
				defer srv.Close()
				srv.Intercept = func(n int, r *provisiontest.Request) *provisiontest.Reply {
					if r.Path != "/v1/session" {
						return nil // the relative redirect's target: answer as the endpoint
					}
					return provisiontest.Redirect(code, loc)
				}
				before := len(elsewhere.Requests())
				_, err := newClient(t, srv).Upsert(context.Background(), provision.User{Email: "a@example.com"})
				if n := len(elsewhere.Requests()) - before; n != 0 {
					t.Fatalf("the client followed the redirect: the other server got %d requests", n)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Fatalf("the server got %d requests, want 1", n)
				}
				se, ok := errors.AsType[*ideanote.StatusError](err)
				if !ok || se.Code != code {
					t.Fatalf("err = %v, want a StatusError %d", err, code)
				}
				msg := err.Error()
				want := "redirected to " + elsewhere.URL + "/v1/session,"
				if strings.HasPrefix(loc, "/") {
					want = "redirected to " + srv.URL + "/v2/session,"
				}
				if !strings.Contains(msg, want) || strings.Contains(msg, "SECRET") || strings.Contains(msg, srv.APIToken) {
					t.Errorf("error %q: want it to say %q, and no query, user info or fragment", msg, want)
				}
				if v := ideanote.Decide(context.Background(), err); v.Action != provision.Refused || v.HTTPStatus != code {
					t.Errorf("Decide = %+v, want refused with status %d", v, code)
				}
			})
		}
	}
}

// A caller's http.Client that follows redirects (its own CheckRedirect) is not followed either.
func TestClientRefusesRedirectWhateverTheHTTPClient(t *testing.T) {
	elsewhere := provisiontest.NewServer()
	defer elsewhere.Close()
	srv := provisiontest.NewServer()
	defer srv.Close()
	srv.Intercept = provisiontest.Always(*provisiontest.Redirect(http.StatusPermanentRedirect, elsewhere.URL+"/v1/session?fields=sessionToken"))
	c := newClient(t, srv)
	c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	if _, err := c.Upsert(context.Background(), provision.User{Email: "a@example.com"}); err == nil {
		t.Fatal("Upsert succeeded through a redirect")
	}
	if n := len(elsewhere.Requests()); n != 0 {
		t.Fatalf("the other server got %d requests", n)
	}
}

// A 2xx whose token or user id cannot be one is a ResponseError, retried like a 5xx; the
// value itself is not in the message.
func TestClientImplausibleSession(t *testing.T) {
	const good = "41b0d309e0e4a341eccf611f9a70cbb91a6a_164864564232"
	tests := []struct {
		name, token, userID string
		ok                  bool
	}{
		{"documented token", good, "usr_00000001", true},
		{"dots inside", "a.b-c_D9", "u.1", true},
		{"longest", strings.Repeat("a", ideanote.MaxIDLen), "u1", true},
		{"header injection", "x\r\nSet-Cookie: y", "u1", false},
		{"dot-dot", "..", "u1", false},
		{"dot", ".", "u1", false},
		{"leading dot", ".a", "u1", false},
		{"leading dash", "-x", "u1", false},
		{"leading underscore", "_x", "u1", false},
		{"dots inside only", "a..b", "u1", true},
		{"script", "<script>alert(1)</script>", "u1", false},
		{"slash", "a/../b", "u1", false},
		{"percent", "a%2F..", "u1", false},
		{"space", "a b", "u1", false},
		{"non-ASCII", "tök", "u1", false},
		{"NUL", "a\x00b", "u1", false},
		{"too long", strings.Repeat("a", ideanote.MaxIDLen+1), "u1", false},
		{"user id with a newline", good, "u1\nu2", false},
		{"user id with ESC", good, "u\x1b[31m", false},
		{"user id dot-dot", good, "..", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := provisiontest.NewServer()
			defer srv.Close()
			srv.TokenFunc = func(int) string { return tt.token }
			srv.UserIDFunc = func(int) string { return tt.userID }
			sess, err := newClient(t, srv).Upsert(context.Background(), provision.User{Email: "a@example.com"})
			if tt.ok {
				if err != nil || sess.Token != tt.token || sess.UserID != tt.userID {
					t.Fatalf("Upsert = %+v, %v; want the session", sess, err)
				}
				return
			}
			if _, ok := errors.AsType[*ideanote.ResponseError](err); !ok {
				t.Fatalf("Upsert = %+v, %v; want a ResponseError", sess, err)
			}
			if v := ideanote.Decide(context.Background(), err); v.Action != provision.Retry {
				t.Errorf("Decide = %v, want retry", v.Action)
			}
			msg := err.Error()
			if strings.Contains(msg, tt.token) || (tt.userID != "u1" && strings.Contains(msg, tt.userID)) || hasControl(msg) {
				t.Errorf("error %q shows the value", msg)
			}
		})
	}
}

// A 2xx with broken JSON or without a sessionToken is retried like a 5xx.
func TestClientBroken2xxIsRetried(t *testing.T) {
	for _, body := range []string{provisiontest.BrokenJSONBody, provisiontest.NoTokenBody, "OK"} {
		srv := provisiontest.NewServer()
		srv.Intercept = provisiontest.Always(provisiontest.Reply{Status: 200, Body: body})
		_, err := newClient(t, srv).Upsert(context.Background(), provision.User{Email: "a@example.com"})
		srv.Close()
		if v := ideanote.Decide(context.Background(), err); v.Action != provision.Retry || v.HTTPStatus != 200 {
			t.Errorf("%s: Decide(%v) = %+v, want retry", body, err, v)
		}
	}
}

// A 2xx that cannot be used may still hold a working session token (a numeric user id, a
// second JSON document after the first, a body cut short): no part of the body goes into the
// error, which reaches the report and the log.
func TestClientUnusable2xxBodyNotQuoted(t *testing.T) {
	const tok = "a1b2c3d4e5f6_1733600000000"
	for _, body := range []string{
		`{"kind":"CUSTOM","sessionToken":"` + tok + `","user":{"id":12345}}`,
		`{"kind":"CUSTOM","sessionToken":"` + tok + `","user":{"id":"u1"}}` + "\n" + `{"extra":1}`,
		"\ufeff" + `{"kind":"CUSTOM","sessionToken":"` + tok + `","user":{"id":"u1"}}`,
		`{"kind":"CUSTOM","sessionToken":"` + tok,
	} {
		srv := provisiontest.NewServer()
		srv.Intercept = provisiontest.Always(provisiontest.Reply{Status: 200, Body: body, Header: http.Header{"Content-Type": {"application/json"}}})
		_, err := newClient(t, srv).Upsert(context.Background(), provision.User{Email: "a@example.com"})
		srv.Close()
		if _, ok := errors.AsType[*ideanote.ResponseError](err); !ok {
			t.Fatalf("%s: err = %v, want a ResponseError", body, err)
		}
		if msg := err.Error(); strings.Contains(msg, tok[:6]) || !strings.Contains(msg, "not the expected JSON") {
			t.Errorf("error %q: want it to say the body is not the expected JSON, without quoting it", msg)
		}
		if v := ideanote.Decide(context.Background(), err); v.Action != provision.Retry {
			t.Errorf("Decide = %v, want retry", v.Action)
		}
	}
}

// Text from a server's answer reaches the report and a terminal: no control character, no
// bidirectional override, one line.
func TestClientErrorTextIsInert(t *testing.T) {
	bodies := []struct{ contentType, body string }{
		{"application/json", `{"message":"bad\u001b[2J\u0000 email\r\nSet-Cookie: x"}`},
		{"application/json", `{"message":"evil \u202egnp.exe\u2028second\u0085line"}`},
		{"text/plain", "plain \x1b]0;title\x07 \x00 \x7f text"},
		{"text/html", "<title>t\x1b[31m\x9b</title>"},
	}
	for _, b := range bodies {
		srv := provisiontest.NewServer()
		srv.Intercept = provisiontest.Always(provisiontest.Reply{Status: 400, Body: b.body, Header: http.Header{"Content-Type": {b.contentType}}})
		_, err := newClient(t, srv).Upsert(context.Background(), provision.User{Email: "a@example.com"})
		srv.Close()
		if err == nil || hasControl(err.Error()) {
			t.Errorf("%q: error %q holds control characters", b.body, err)
		}
	}
	// The error of a 2xx that is not JSON is as inert.
	srv := provisiontest.NewServer()
	defer srv.Close()
	srv.Intercept = provisiontest.Always(provisiontest.Reply{Status: 200, Body: "\x1b[2Jnot json\x00"})
	_, err := newClient(t, srv).Upsert(context.Background(), provision.User{Email: "a@example.com"})
	if err == nil || hasControl(err.Error()) {
		t.Errorf("error %q holds control characters", err)
	}
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u202e' || r == '\u2028' || r == '\ufffd'
	}) >= 0
}
