package ideanote_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

func newClient(t *testing.T, srv *provisiontest.Server) *ideanote.Client {
	t.Helper()
	return &ideanote.Client{BaseURL: srv.URL, SpaceID: srv.SpaceID, APIToken: srv.APIToken,
		HTTPClient: srv.Client(), UserAgent: "ideanote-provision/test"}
}

func TestClientRequestShape(t *testing.T) {
	tests := []struct {
		name string
		user provision.User
		want map[string]any // data object as sent, apiToken aside
	}{
		{"email only", provision.User{Email: "a@example.com"},
			map[string]any{"email": "a@example.com"}},
		{"every field", provision.User{Email: "b@example.com", Sub: "E1", Name: "Bé Ø", Team: "Sales", Locale: "fr-FR", AvatarURL: "https://x.example/b.png"},
			map[string]any{"email": "b@example.com", "sub": "E1", "name": "Bé Ø", "team": "Sales", "locale": "fr-FR", "avatarUrl": "https://x.example/b.png"}},
		{"empty optional fields omitted", provision.User{Email: "c@example.com", Name: "C", Team: ""},
			map[string]any{"email": "c@example.com", "name": "C"}},
		{"sub and locale only", provision.User{Email: "d@example.com", Sub: "42", Locale: "de"},
			map[string]any{"email": "d@example.com", "sub": "42", "locale": "de"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := provisiontest.NewServer()
			defer srv.Close()
			sess, err := newClient(t, srv).Upsert(context.Background(), tt.user)
			if err != nil {
				t.Fatalf("Upsert: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Token != sess.Token || sess.Token == "" || r.UserID != sess.UserID {
				t.Errorf("session = %+v, server issued token %q user %q", sess, r.Token, r.UserID)
			}
			if got := r.Data["apiToken"]; got != srv.APIToken {
				t.Errorf("apiToken = %v, want the server's token", got)
			}
			delete(r.Data, "apiToken")
			if !reflect.DeepEqual(r.Data, tt.want) {
				t.Errorf("data = %v, want %v", r.Data, tt.want)
			}
			if got := r.Header.Get("User-Agent"); got != "ideanote-provision/test" {
				t.Errorf("User-Agent = %q", got)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := r.Query.Get("fields"); got != "kind,user.id,sessionToken" {
				t.Errorf("fields = %q", got)
			}
			if r.Method != http.MethodPost || r.Path != "/v1/session" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name     string
		reply    *provisiontest.Reply
		client   func(*ideanote.Client)
		wantCode int    // StatusError code, 0 for another error
		wantText string // in the error
	}{
		{"2xx without sessionToken", &provisiontest.Reply{Status: 200, Body: `{"kind":"CUSTOM","user":{"id":"u1"}}`}, nil, 0, "without a sessionToken"},
		{"2xx not JSON", &provisiontest.Reply{Status: 200, Body: "OK\nmore"}, nil, 0, "not the expected JSON"},
		{"422 with message", &provisiontest.Reply{Status: 422, Body: `{"message":"email is invalid"}`}, nil, 422, "email is invalid"},
		{"wrong token", nil, func(c *ideanote.Client) { c.APIToken = "wrong-token" }, 401, "invalid apiToken"},
		{"wrong space", nil, func(c *ideanote.Client) { c.SpaceID = "other" }, 403, "no access"},
		{"wrong base path", nil, func(c *ideanote.Client) { c.BaseURL += "/api" }, 404, "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := provisiontest.NewServer()
			defer srv.Close()
			if tt.reply != nil {
				srv.Intercept = func(int, *provisiontest.Request) *provisiontest.Reply { return tt.reply }
			}
			c := newClient(t, srv)
			if tt.client != nil {
				tt.client(c)
			}
			_, err := c.Upsert(context.Background(), provision.User{Email: "a@example.com"})
			if err == nil {
				t.Fatal("Upsert succeeded, want an error")
			}
			var se *ideanote.StatusError
			if got := 0; errors.As(err, &se) {
				got = se.Code
				if got != tt.wantCode {
					t.Errorf("status = %d, want %d", got, tt.wantCode)
				}
			} else if tt.wantCode != 0 {
				t.Errorf("error %v is not a StatusError", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
		})
	}
}

// The rate-limit headers reach the pool with the session of a 2xx and the verdict of a 429.
func TestClientQuota(t *testing.T) {
	srv := provisiontest.NewServer()
	defer srv.Close()
	srv.SetLimit(provisiontest.Limit{Kind: provisiontest.FixedWindow, N: 1, Per: time.Hour, Headers: provisiontest.IETFHeaders})
	c := newClient(t, srv)
	sess, err := c.Upsert(context.Background(), provision.User{Email: "a@example.com"})
	if err != nil || sess.Quota == nil || sess.Quota.Limit != 1 || sess.Quota.Remaining != 0 || sess.Quota.Window != time.Hour {
		t.Fatalf("first: %+v, %v; want a session with the quota 1 per hour, none left", sess.Quota, err)
	}
	_, err = c.Upsert(context.Background(), provision.User{Email: "b@example.com"})
	v := c.Decide(context.Background(), err)
	if v.Action != provision.Throttled || v.Quota == nil || v.Quota.Remaining != 0 || v.Quota.Reset <= 0 {
		t.Errorf("second: %+v (quota %+v); want throttled with the quota", v, v.Quota)
	}
}
