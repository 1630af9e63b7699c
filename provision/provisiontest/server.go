// Package provisiontest provides a fake Ideanote session endpoint for tests and the demo,
// in the manner of net/http/httptest.
package provisiontest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default credentials of a Server.
const (
	DefaultSpaceID  = "b06f0a9a-4813-4515-81a0-29e8f2d193ec"
	DefaultAPIToken = "test-api-token-f2dacce1fe557c7f140a3f7e85"
)

// Request is one request as the server received it, and what it answered.
type Request struct {
	Time        time.Time
	Method      string
	Path        string
	Query       url.Values
	Header      http.Header
	Body        []byte
	Data        map[string]any // the "data" object as sent, when the body parsed
	Status      int            // status the server answered
	UserID      string         // user upserted, when Status is 200
	Token       string         // session token issued, when Status is 200
	Intercepted bool           // answered by Intercept rather than by the endpoint
}

// Email returns the data.email of the request, or "".
func (r Request) Email() string { s, _ := r.Data["email"].(string); return s }

// User is a user as the fake workspace holds it.
type User struct {
	ID, Email, Sub, Name, AvatarURL, Team, Locale string
	Upserts                                       int // how many times it was created or updated
}

// Reply is a scripted answer. Reset closes the connection without an answer; Delay holds the
// answer back (a slow server, or a hung one when longer than the client's timeout).
type Reply struct {
	Status int
	Header http.Header
	Body   string
	Delay  time.Duration
	Reset  bool
}

// Server is a fake Ideanote API serving POST /v1/session as strictly as the real one is
// documented: it checks the content type, the body's shape, the space and the token, upserts
// users by sub or else email, issues fresh session tokens, and records every request.
// Its exported fields may be changed before Start; the methods are safe for concurrent use.
type Server struct {
	URL string // base URL, http://127.0.0.1:port, once started

	SpaceID  string // the workspace that exists
	APIToken string // the owner token that is accepted
	// Latency delays every answer.
	Latency time.Duration
	// Intercept, when set, is asked first for every request (n counts requests from 1); a
	// non-nil Reply is sent instead of the endpoint's answer.
	Intercept func(n int, r *Request) *Reply
	// TokenFunc, when set, makes the session tokens (to test unusual characters in links, or
	// a hostile server's tokens).
	TokenFunc func(n int) string
	// UserIDFunc, when set, makes the user id answered for request n in place of the
	// workspace's id (a hostile or broken server); the workspace keeps its own.
	UserIDFunc func(n int) string
	// MaxRecorded, when positive, bounds the requests that Requests keeps to the first
	// MaxRecorded, so that a run of millions does not hold them all; Count counts them all.
	MaxRecorded int

	ts       *httptest.Server
	mu       sync.Mutex
	n        int
	requests []Request
	counts   map[int]int      // requests by status answered
	users    map[string]*User // by "sub:" + sub and "email:" + lower(email)
	nextID   int
	limiter  *Limiter // nil: no rate limit
	failures []Reply
}

// NewServer starts and returns a new Server on a loopback port. The caller should Close it.
func NewServer() *Server {
	s := NewUnstartedServer()
	s.Start()
	return s
}

// NewUnstartedServer returns a new Server that is not started yet.
func NewUnstartedServer() *Server {
	s := &Server{SpaceID: DefaultSpaceID, APIToken: DefaultAPIToken, users: make(map[string]*User), counts: make(map[int]int)}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Start starts the server.
func (s *Server) Start() {
	s.ts.Start()
	s.URL = s.ts.URL
}

// Close shuts the server down, blocking until all outstanding requests have completed.
func (s *Server) Close() { s.ts.Close() }

// CloseClientConnections closes any open connections to the server, as a network fault would.
func (s *Server) CloseClientConnections() { s.ts.CloseClientConnections() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// SetLimit puts a rate limiter of the given kind in front of the endpoint: beyond it the server
// answers 429. A zero Limit removes it.
func (s *Server) SetLimit(l Limit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limiter = nil
	if l.Kind != 0 {
		s.limiter = NewLimiter(l)
	}
}

// SetRateLimit makes the server answer 429, with a Retry-After in whole seconds, beyond
// perSecond requests a second (token bucket of the given burst). perSecond <= 0 removes it.
func (s *Server) SetRateLimit(perSecond float64, burst int) {
	if perSecond <= 0 {
		s.SetLimit(Limit{})
		return
	}
	s.SetLimit(Limit{Kind: TokenBucket, Rate: perSecond, Burst: burst})
}

// SetWindowLimit makes the server accept at most n requests in any window of length per (a
// sliding window: "60 requests a minute" as an API usually means it), and answer 429 beyond,
// with a Retry-After of the whole seconds until the oldest request leaves the window.
// n <= 0 removes it.
func (s *Server) SetWindowLimit(n int, per time.Duration) {
	if n <= 0 {
		s.SetLimit(Limit{})
		return
	}
	s.SetLimit(Limit{Kind: SlidingWindow, N: n, Per: per})
}

// SetLatency changes Latency while the server runs.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Latency = d
}

// FailNext makes the next n requests answer status, with the Retry-After header when
// retryAfter is not empty. Failures queue after the ones already scripted.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		r := Reply{Status: status, Body: fmt.Sprintf(`{"message":"scripted %d"}`, status)}
		if retryAfter != "" {
			r.Header = http.Header{"Retry-After": {retryAfter}}
		}
		s.failures = append(s.failures, r)
	}
}

// Requests returns a copy of the requests received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Users returns a copy of the users of the fake workspace, keyed by lower-cased email.
func (s *Server) Users() map[string]User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]User)
	for k, u := range s.users {
		if strings.HasPrefix(k, "email:") {
			out[strings.ToLower(u.Email)] = *u
		}
	}
	return out
}

// Count returns how many requests got each status.
func (s *Server) Count() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	var env struct {
		Data map[string]any `json:"data"`
	}
	if json.Unmarshal(body, &env) == nil {
		req.Data = env.Data
	}

	s.mu.Lock()
	s.n++
	n := s.n
	intercept, latency := s.Intercept, s.Latency
	s.mu.Unlock()
	var reply *Reply
	if intercept != nil {
		reply = intercept(n, &req)
	}
	s.mu.Lock()
	if reply == nil && len(s.failures) > 0 {
		reply = &s.failures[0]
		s.failures = s.failures[1:]
	}
	var limitHeader http.Header // the limiter's headers, sent with any answer
	if reply == nil && s.limiter != nil {
		var ok bool
		ok, limitHeader = s.limiter.Admit(req.Time)
		if !ok {
			reply = &Reply{Status: http.StatusTooManyRequests, Body: `{"message":"Too many requests"}`, Header: limitHeader}
		}
	}
	if reply != nil {
		req.Intercepted = true
		req.Status = reply.Status
	} else {
		reply = s.endpoint(n, &req, r)
	}
	if s.MaxRecorded <= 0 || len(s.requests) < s.MaxRecorded {
		s.requests = append(s.requests, req)
	}
	s.counts[req.Status]++
	s.mu.Unlock()

	if d := latency + reply.Delay; d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if reply.Reset {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	for k, v := range limitHeader {
		w.Header()[k] = v
	}
	for k, v := range reply.Header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
}

// Redirect is a reply that sends the client to location with status (301, 302, 303, 307 or
// 308): a hostile or misconfigured server. A client that follows a 307 or 308 sends the same
// body, API token included, to location.
func Redirect(status int, location string) *Reply {
	return &Reply{Status: status, Header: http.Header{"Location": {location}}, Body: `{"message":"moved"}`}
}

// Always returns an Intercept that answers every request with r: a server that answers only
// 503, or only a 200 with broken JSON.
func Always(r Reply) func(int, *Request) *Reply {
	return func(int, *Request) *Reply { return &r }
}

// Broken 2xx answers: the body of a 200 that is not JSON, and one without a sessionToken.
const (
	BrokenJSONBody = `{"kind":"CUSTOM","sessionToken":"3f1c9a0b`
	NoTokenBody    = `{"kind":"CUSTOM","user":{"id":"usr_00000001"}}`
)

func fail(req *Request, status int, format string, args ...any) *Reply {
	req.Status = status
	msg, _ := json.Marshal(map[string]string{"message": fmt.Sprintf(format, args...)})
	return &Reply{Status: status, Body: string(msg)}
}

// endpoint answers as the real endpoint does. s.mu is held.
func (s *Server) endpoint(n int, req *Request, r *http.Request) *Reply {
	if r.URL.Path != "/v1/session" {
		return fail(req, http.StatusNotFound, "no route %s", r.URL.Path)
	}
	if r.Method != http.MethodPost {
		return fail(req, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fail(req, http.StatusBadRequest, "Content-Type must be application/json")
	}
	var in struct {
		SpaceID string          `json:"spaceId"`
		Kind    string          `json:"kind"`
		Data    json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fail(req, http.StatusBadRequest, "invalid JSON body: %v", err)
	}
	var d struct {
		Email     *string `json:"email"`
		APIToken  *string `json:"apiToken"`
		Sub       *string `json:"sub"`
		Name      *string `json:"name"`
		AvatarURL *string `json:"avatarUrl"`
		Team      *string `json:"team"`
		Locale    *string `json:"locale"`
	}
	dec = json.NewDecoder(bytes.NewReader(in.Data))
	dec.DisallowUnknownFields()
	if len(in.Data) == 0 || dec.Decode(&d) != nil {
		return fail(req, http.StatusBadRequest, "data must be an object with email and apiToken")
	}
	switch {
	case in.SpaceID == "":
		return fail(req, http.StatusBadRequest, "spaceId is required")
	case in.Kind != "CUSTOM":
		return fail(req, http.StatusBadRequest, "kind must be CUSTOM")
	case d.APIToken == nil || *d.APIToken == "":
		return fail(req, http.StatusUnauthorized, "apiToken is required")
	case *d.APIToken != s.APIToken:
		return fail(req, http.StatusUnauthorized, "invalid apiToken")
	case in.SpaceID != s.SpaceID:
		return fail(req, http.StatusForbidden, "no access to space %s", in.SpaceID)
	case d.Email == nil || *d.Email == "":
		return fail(req, http.StatusBadRequest, "data.email is required")
	}
	// Optional fields present but empty would blank what the workspace holds: a client bug.
	for _, f := range [...]struct {
		name string
		v    *string
	}{{"sub", d.Sub}, {"name", d.Name}, {"avatarUrl", d.AvatarURL}, {"team", d.Team}, {"locale", d.Locale}} {
		if f.v != nil && *f.v == "" {
			return fail(req, http.StatusBadRequest, "data.%s is empty", f.name)
		}
	}
	if a, err := mail.ParseAddress(*d.Email); err != nil || a.Address != *d.Email {
		return fail(req, http.StatusUnprocessableEntity, "data.email is not a valid email address")
	}
	if d.AvatarURL != nil {
		if u, err := url.Parse(*d.AvatarURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail(req, http.StatusUnprocessableEntity, "data.avatarUrl is not a URL")
		}
	}

	u := s.upsert(d.Email, d.Sub, d.Name, d.AvatarURL, d.Team, d.Locale)
	token, id := s.token(n), u.ID
	if s.UserIDFunc != nil {
		id = s.UserIDFunc(n)
	}
	req.Status, req.UserID, req.Token = http.StatusOK, id, token

	// A struct in key order encodes as the map it replaces did, at a fraction of the cost:
	// the fake must not be what limits a benchmark of the client.
	var out struct {
		Kind         string  `json:"kind"`
		SessionToken *string `json:"sessionToken,omitempty"`
		User         *struct {
			ID string `json:"id"`
		} `json:"user,omitempty"`
	}
	out.Kind = "CUSTOM"
	for f := range strings.SplitSeq(req.Query.Get("fields"), ",") {
		switch strings.TrimSpace(f) {
		case "sessionToken":
			out.SessionToken = &token
		case "user.id", "user":
			out.User = &struct {
				ID string `json:"id"`
			}{id}
		}
	}
	b, _ := json.Marshal(out)
	return &Reply{Status: http.StatusOK, Body: string(b)}
}

func (s *Server) upsert(email, sub, name, avatar, team, locale *string) *User {
	var u *User
	if sub != nil {
		u = s.users["sub:"+*sub]
	} else {
		u = s.users["email:"+strings.ToLower(*email)]
	}
	if u == nil {
		s.nextID++
		u = &User{ID: fmt.Sprintf("usr_%08d", s.nextID)}
	}
	if old := s.users["email:"+strings.ToLower(u.Email)]; old == u {
		delete(s.users, "email:"+strings.ToLower(u.Email))
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Email, email)
	set(&u.Sub, sub)
	set(&u.Name, name)
	set(&u.AvatarURL, avatar)
	set(&u.Team, team)
	set(&u.Locale, locale)
	u.Upserts++
	s.users["email:"+strings.ToLower(u.Email)] = u
	if u.Sub != "" {
		s.users["sub:"+u.Sub] = u
	}
	return u
}

// token makes a session token of the documented shape: hex, an underscore, milliseconds.
func (s *Server) token(n int) string {
	if s.TokenFunc != nil {
		return s.TokenFunc(n)
	}
	b := make([]byte, 18)
	rand.Read(b)
	return hex.EncodeToString(b) + "_" + strconv.FormatInt(time.Now().UnixMilli(), 10)
}
