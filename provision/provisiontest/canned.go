package provisiontest

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// CannedTransport is an http.RoundTripper that answers every request with the same session,
// without a network or a server: benchmarks use it to measure what the program itself costs.
type CannedTransport struct{}

// RoundTrip reads and discards the request and returns a 200 with a session.
func (CannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"kind":"CUSTOM","sessionToken":"3f1c9a0b2e4d5f60718293a4b5c6d7e8f901_1795459200000","user":{"id":"usr_00012345"}}`)),
		Request: r}, nil
}

// LimitedTransport is an http.RoundTripper that answers every request with a session, or with
// a 429 when Limiter refuses it, without a network or a server: a simulation of a rate-limited
// endpoint that runs in a testing/synctest bubble, where time is fake. The request reaches the
// limiter after Latency/2 plus Jitter (when set), and the answer the client after Latency/2.
type LimitedTransport struct {
	Limiter *Limiter
	Latency time.Duration
	Jitter  func() time.Duration
}

// RoundTrip reads and discards the request and returns the limiter's answer.
func (t *LimitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	d := t.Latency / 2
	if t.Jitter != nil {
		d += t.Jitter()
	}
	if err := provision.Sleep(r.Context(), d); err != nil {
		return nil, err
	}
	ok, h := t.Limiter.Admit(time.Now())
	if err := provision.Sleep(r.Context(), t.Latency/2); err != nil {
		return nil, err
	}
	if h == nil {
		h = make(http.Header)
	}
	h.Set("Content-Type", "application/json")
	resp := &http.Response{StatusCode: http.StatusOK, Header: h, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"kind":"CUSTOM","sessionToken":"3f1c9a0b2e4d5f60718293a4b5c6d7e8f901_1795459200000","user":{"id":"usr_00012345"}}`))}
	if !ok {
		resp.StatusCode = http.StatusTooManyRequests
		resp.Body = io.NopCloser(strings.NewReader(`{"message":"Too many requests"}`))
	}
	return resp, nil
}
