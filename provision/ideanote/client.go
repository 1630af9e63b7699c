package ideanote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/redact"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// DefaultBaseURL is the root of Ideanote's public API.
const DefaultBaseURL = "https://api.ideanote.io"

// MaxResponseBytes bounds what is read of one response body.
const MaxResponseBytes = 1 << 20

// Client makes one call to the custom-login session endpoint. Its zero value is not useful:
// SpaceID and APIToken must be set; BaseURL, HTTPClient and UserAgent have defaults.
// A Client is safe for concurrent use once its fields are set.
type Client struct {
	BaseURL    string       // API root, DefaultBaseURL when empty
	SpaceID    string       // workspace id
	APIToken   string       // owner API token; never logged nor returned in an error
	HTTPClient *http.Client // http.DefaultClient when nil
	UserAgent  string       // "ideanote-provision" when empty

	noFollow atomic.Pointer[noFollowClient] // HTTPClient with redirects refused, made once
}

// noFollowClient is a copy of an http.Client that returns a 3xx as it is.
type noFollowClient struct {
	from *http.Client
	c    http.Client
}

// StatusError is a non-2xx answer from the endpoint. A 3xx is one too: it is never followed.
type StatusError struct {
	Code       int
	Message    string           // the server's message, one line, shortened, without the API token or control characters
	RetryAfter time.Duration    // from the Retry-After header; 0 when absent
	Quota      *provision.Quota // the rate-limit headers, nil when absent
}

func (e *StatusError) Error() string {
	text := http.StatusText(e.Code)
	if e.Message == "" || strings.EqualFold(e.Message, text) {
		return fmt.Sprintf("HTTP %d %s", e.Code, text)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Code, text, e.Message)
}

// ResponseError is a 2xx answer that cannot be used: not JSON, too large, without a session
// token, or with a token or user id that cannot be one. The upsert is idempotent, so Decide
// retries it.
type ResponseError struct {
	Msg  string
	Code int // the 2xx status that came with it
}

func (e *ResponseError) Error() string { return e.Msg }

type sessionRequest struct {
	SpaceID string      `json:"spaceId"`
	Kind    string      `json:"kind"`
	Data    sessionData `json:"data"`
}

// sessionData is the request's data object: the user's fields, under their JSON names, and the
// owner's token.
type sessionData struct {
	provision.User
	APIToken string `json:"apiToken"`
}

type sessionResponse struct {
	Kind         string `json:"kind"`
	SessionToken string `json:"sessionToken"`
	User         struct {
		ID string `json:"id"`
	} `json:"user"`
}

// Encode returns the request body for u. Empty optional fields are left out, so that an
// upsert never blanks what the workspace already holds.
func (c *Client) Encode(u provision.User) ([]byte, error) {
	return json.Marshal(sessionRequest{SpaceID: c.SpaceID, Kind: "CUSTOM", Data: sessionData{User: u, APIToken: c.APIToken}})
}

// Upsert creates or updates u and returns its session.
func (c *Client) Upsert(ctx context.Context, u provision.User) (provision.Session, error) {
	body, err := c.Encode(u)
	if err != nil {
		return provision.Session{}, err
	}
	return c.Post(ctx, body)
}

// Decide is the package's Decide, so that a *Client is a provision.Endpoint.
func (c *Client) Decide(ctx context.Context, err error) provision.Verdict { return Decide(ctx, err) }

// Post sends a body made by Encode. The error is a *StatusError for a non-2xx answer, a
// *ResponseError for an unusable 2xx, or the transport's error.
func (c *Client) Post(ctx context.Context, body []byte) (provision.Session, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		strings.TrimRight(base, "/")+"/v1/session?fields=kind,user.id,sessionToken", bytes.NewReader(body))
	if err != nil {
		// Not err: url.Parse's error quotes the whole URL, password included.
		return provision.Session{}, fmt.Errorf("the base URL %s is not a valid URL", Redact(base))
	}
	ua := defaultUA
	if c.UserAgent != "" {
		ua = []string{c.UserAgent}
	}
	// One map per request, with value slices shared read-only: three Header.Set calls cost a
	// slice each. Nothing appends to them in place (Header.Add copies a full slice).
	req.Header = http.Header{"Content-Type": jsonType, "Accept": jsonType, "User-Agent": ua}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			ue.URL = Redact(ue.URL) // the client strips a password only from a URL with a host
		}
		return provision.Session{}, err
	}
	defer resp.Body.Close()
	buf := bodyBufs.Get().(*bytes.Buffer)
	defer putBodyBuf(buf)
	buf.Reset()
	lr := &io.LimitedReader{R: resp.Body, N: MaxResponseBytes + 1}
	if _, err := buf.ReadFrom(lr); err != nil {
		return provision.Session{}, err
	}
	data := buf.Bytes() // only valid until buf goes back to the pool: every use below copies
	if lr.N <= 0 {
		// Drain a little more so that the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return provision.Session{}, &StatusError{Code: resp.StatusCode, Message: redirectMessage(resp.Header.Get("Location"), req.URL)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return provision.Session{}, &StatusError{
			Code:       resp.StatusCode,
			Message:    summarize(data, resp.Header.Get("Content-Type"), c.scrub),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Quota:      quota(resp.Header, time.Now()),
		}
	}
	if len(data) > MaxResponseBytes {
		return provision.Session{}, &ResponseError{Msg: fmt.Sprintf("HTTP %d with a response larger than 1 MiB", resp.StatusCode), Code: resp.StatusCode}
	}
	var sr sessionResponse
	if err := json.Unmarshal(data, &sr); err != nil {
		// Not a word of a 2xx body: it may hold a working session token. The json error names
		// a type and a field, or at most one character, never a value.
		return provision.Session{}, &ResponseError{Msg: fmt.Sprintf("HTTP %d with a body that is not the expected JSON (%s)", resp.StatusCode, clean(err.Error())), Code: resp.StatusCode}
	}
	if sr.SessionToken == "" {
		return provision.Session{}, &ResponseError{Msg: fmt.Sprintf("HTTP %d without a sessionToken", resp.StatusCode), Code: resp.StatusCode}
	}
	if err := checkSession(resp.StatusCode, sr.SessionToken, sr.User.ID); err != nil {
		return provision.Session{}, err
	}
	return provision.Session{UserID: sr.User.ID, Token: sr.SessionToken, Quota: quota(resp.Header, time.Now())}, nil
}

// httpClient returns HTTPClient (or http.DefaultClient) with redirects refused, whatever the
// caller's client does with them: for a 307 or 308 it would send the body, API token included,
// to wherever the Location points. The copy is made once, not per request.
func (c *Client) httpClient() *http.Client {
	hc := http.DefaultClient
	if c.HTTPClient != nil {
		hc = c.HTTPClient
	}
	if nf := c.noFollow.Load(); nf != nil && nf.from == hc {
		return &nf.c
	}
	nf := &noFollowClient{from: hc, c: *hc}
	nf.c.CheckRedirect = refuseRedirect
	c.noFollow.Store(nf)
	return &nf.c
}

// refuseRedirect makes the client return a 3xx as it is, unfollowed.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// bodyBufs holds response buffers: one per request in flight instead of one per response.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBodyBuf returns buf to the pool, unless an unusually large response grew it.
func putBodyBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		bodyBufs.Put(buf)
	}
}

// scrub removes the API token from text that came from the server: a proxy or a verbose
// error page may echo the request body, as it was sent (JSON-escaped) or HTML-escaped, and
// perhaps cut short: the token is the body's last field, so any part of it is removed too.
func (c *Client) scrub(s string) string {
	if len(c.APIToken) < 4 {
		return s
	}
	forms := []string{c.APIToken, html.EscapeString(c.APIToken), url.QueryEscape(c.APIToken), url.PathEscape(c.APIToken)}
	if b, err := json.Marshal(c.APIToken); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	for _, f := range forms {
		s = redact.Secret(s, f, "[redacted]")
	}
	return s
}

var (
	titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// summarize turns an error body into one short line: the message of a JSON error, the title of
// an HTML page, or the first line of text. redact runs on the whole text before it is cut, so
// that a cut cannot leave the start of a secret behind.
func summarize(body []byte, contentType string, redact func(string) string) string {
	const max = 200
	if len(body) > MaxResponseBytes {
		body = body[:MaxResponseBytes]
	}
	var s string
	var j struct {
		Message string `json:"message"`
		Error   any    `json:"error"`
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &j) == nil && (j.Message != "" || j.Error != nil):
		s = j.Message
		if s == "" {
			if e, ok := j.Error.(string); ok {
				s = e
			} else if b, err := json.Marshal(j.Error); err == nil {
				s = string(b)
			}
		}
	case strings.Contains(contentType, "html") || bytes.HasPrefix(trimmed, []byte("<")):
		if m := titleRE.FindSubmatch(trimmed); m != nil {
			s = string(m[1])
		} else {
			s = tagRE.ReplaceAllString(string(trimmed), " ")
		}
		s = html.UnescapeString(s)
	default:
		s = string(trimmed)
	}
	s = strings.TrimSpace(redact(s))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	// The message goes to the report, a log and a terminal: no ESC, NUL or bidi override.
	return cut(strings.Join(strings.Fields(clean(s)), " "), max)
}

// MaxRetryAfter bounds the wait a Retry-After header can impose. A longer one (a maintenance
// window, a misconfigured proxy) would keep a scheduled run silent for hours; after it, one
// more request asks again, which costs the server nothing.
const MaxRetryAfter = 10 * time.Minute

// retryAfter parses a Retry-After header given in seconds or as an HTTP date, bounded by
// MaxRetryAfter; 0 when absent, past or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if secs > 0 {
			d = time.Duration(min(secs, MaxRetryAfter.Seconds()) * float64(time.Second))
		}
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return max(min(d, MaxRetryAfter), 0)
}

var (
	jsonType  = []string{"application/json"}
	defaultUA = []string{"ideanote-provision"}
)

// statusCode is the HTTP status carried by err, 0 when no response arrived.
func statusCode(err error) int {
	// AsType, unlike As, needs no heap-allocated target: this runs once per attempt.
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Code
	}
	if re, ok := errors.AsType[*ResponseError](err); ok {
		return re.Code
	}
	return 0
}
