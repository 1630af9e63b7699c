package provision_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// testPool returns a pool on srv whose backoff waits go to a clock that does not wait, and
// whose pacer never waits and records what it hears.
func testPool(t *testing.T, srv *provisiontest.Server) (p *provision.Pool, backoff *provision.FakeClock, pacer *recordingPacer) {
	t.Helper()
	backoff, pacer = provision.NewFakeClock(), &recordingPacer{}
	p = &provision.Pool{
		Endpoint:    &ideanote.Client{BaseURL: srv.URL, SpaceID: srv.SpaceID, APIToken: srv.APIToken, HTTPClient: srv.Client()},
		Pacer:       pacer,
		Concurrency: 1,
		MaxAttempts: 4,
		Timeout:     5 * time.Second,
		Backoff:     provision.Backoff{Base: time.Millisecond, Max: 4 * time.Millisecond},
	}
	provision.SetPoolSleep(p, backoff.Sleep)
	return p, backoff, pacer
}

// recordingPacer is a provision.Pacer that never waits and records the answers it hears.
type recordingPacer struct {
	mu      sync.Mutex
	answers []provision.Answer
}

func (r *recordingPacer) Wait(ctx context.Context) (time.Time, error) { return time.Now(), ctx.Err() }

func (r *recordingPacer) Observe(a provision.Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, a)
}

func (r *recordingPacer) Answers() []provision.Answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.answers)
}

func testRows(n int) []provision.Row {
	rows := make([]provision.Row, n)
	for i := range rows {
		rows[i] = provision.Row{Line: i + 2, User: provision.User{Email: fmt.Sprintf("user%d@example.com", i), Name: "User"}}
	}
	return rows
}

// runPool sends rows through p and returns the results in input order and Run's error.
func runPool(t *testing.T, ctx context.Context, p *provision.Pool, rows []provision.Row) ([]provision.Result, error) {
	t.Helper()
	in := make(chan provision.Row)
	out := make(chan provision.Result, len(rows))
	go func() {
		defer close(in)
		for _, r := range rows {
			in <- r
		}
	}()
	err := p.Run(ctx, in, out)
	close(out)
	var res []provision.Result
	for r := range out {
		res = append(res, r)
	}
	if len(res) != len(rows) {
		t.Fatalf("%d results for %d rows", len(res), len(rows))
	}
	slices.SortFunc(res, func(a, b provision.Result) int { return a.Row.Line - b.Row.Line })
	return res, err
}

func TestPoolRetries(t *testing.T) {
	scripted := func(replies ...provisiontest.Reply) func(n int, r *provisiontest.Request) *provisiontest.Reply {
		return func(n int, r *provisiontest.Request) *provisiontest.Reply {
			if n <= len(replies) {
				return &replies[n-1]
			}
			return nil
		}
	}
	tests := []struct {
		name      string
		intercept func(n int, r *provisiontest.Request) *provisiontest.Reply
		email     string
		timeout   time.Duration
		status    provision.Status
		attempts  int
		http      int
		errHas    string
	}{
		{name: "ok at once", status: provision.StatusOK, attempts: 1, http: 200},
		{name: "429 then ok", intercept: scripted(provisiontest.Reply{Status: 429}), status: provision.StatusOK, attempts: 2, http: 200},
		{name: "408 then ok", intercept: scripted(provisiontest.Reply{Status: 408}), status: provision.StatusOK, attempts: 2, http: 200},
		{name: "500 502 503 then ok", intercept: scripted(provisiontest.Reply{Status: 500}, provisiontest.Reply{Status: 502}, provisiontest.Reply{Status: 503}), status: provision.StatusOK, attempts: 4, http: 200},
		{name: "504 then ok", intercept: scripted(provisiontest.Reply{Status: 504}), status: provision.StatusOK, attempts: 2, http: 200},
		{name: "connection reset then ok", intercept: scripted(provisiontest.Reply{Reset: true}, provisiontest.Reply{Reset: true}), status: provision.StatusOK, attempts: 3, http: 200},
		{name: "timeout then ok", intercept: scripted(provisiontest.Reply{Status: 200, Delay: 5 * time.Second}), timeout: 50 * time.Millisecond, status: provision.StatusOK, attempts: 2, http: 200},
		{name: "503 every time", intercept: func(int, *provisiontest.Request) *provisiontest.Reply {
			return &provisiontest.Reply{Status: 503, Body: `{"message":"down for maintenance"}`}
		}, status: provision.StatusFailed, attempts: 4, http: 503, errHas: "giving up after 4 attempts: HTTP 503 Service Unavailable: down for maintenance"},
		{name: "reset every time", intercept: func(int, *provisiontest.Request) *provisiontest.Reply {
			return &provisiontest.Reply{Reset: true}
		}, status: provision.StatusFailed, attempts: 4, http: 0, errHas: "giving up after 4 attempts"},
		{name: "400 fails at once", intercept: scripted(provisiontest.Reply{Status: 400, Body: `{"message":"spaceId is required"}`}), status: provision.StatusFailed, attempts: 1, http: 400, errHas: "spaceId is required"},
		{name: "422 fails at once", email: "not an email", status: provision.StatusFailed, attempts: 1, http: 422, errHas: "data.email is not a valid email address"},
		{name: "501 fails at once", intercept: scripted(provisiontest.Reply{Status: 501}), status: provision.StatusFailed, attempts: 1, http: 501, errHas: "HTTP 501"},
		// A 2xx without a usable session is retried like a 5xx: the upsert is idempotent.
		{name: "200 without a token then ok", intercept: scripted(provisiontest.Reply{Status: 200, Body: provisiontest.NoTokenBody}), status: provision.StatusOK, attempts: 2, http: 200},
		{name: "200 with broken JSON then ok", intercept: scripted(provisiontest.Reply{Status: 200, Body: provisiontest.BrokenJSONBody}), status: provision.StatusOK, attempts: 2, http: 200},
		{name: "200 with a token of dots then ok", intercept: scripted(provisiontest.Reply{Status: 200, Body: `{"kind":"CUSTOM","sessionToken":"..","user":{"id":"u1"}}`}), status: provision.StatusOK, attempts: 2, http: 200},
		{name: "200 without a token every time", intercept: func(int, *provisiontest.Request) *provisiontest.Reply {
			return &provisiontest.Reply{Status: 200, Body: provisiontest.NoTokenBody}
		}, status: provision.StatusFailed, attempts: 4, http: 200, errHas: "giving up after 4 attempts: HTTP 200 without a sessionToken"},
		{name: "200 with a control character in the token every time", intercept: func(int, *provisiontest.Request) *provisiontest.Reply {
			return &provisiontest.Reply{Status: 200, Body: `{"kind":"CUSTOM","sessionToken":"x\r\nSet-Cookie: y","user":{"id":"u1"}}`}
		}, status: provision.StatusFailed, attempts: 4, http: 200, errHas: "giving up after 4 attempts: HTTP 200 with a sessionToken that cannot be one"},
		// A redirect is not followed: the row fails at once, saying where it pointed.
		{name: "307 fails at once", intercept: scripted(*provisiontest.Redirect(307, "https://elsewhere.example/v1/session?fields=sessionToken")), status: provision.StatusFailed, attempts: 1, http: 307, errHas: "redirected to https://elsewhere.example/v1/session, not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := provisiontest.NewUnstartedServer()
			srv.Intercept = tt.intercept
			srv.Start()
			defer srv.Close()
			p, _, _ := testPool(t, srv)
			if tt.timeout > 0 {
				p.Timeout = tt.timeout
			}
			rows := testRows(1)
			if tt.email != "" {
				rows[0].User.Email = tt.email
			}
			res, err := runPool(t, context.Background(), p, rows)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			r := res[0]
			if r.Status != tt.status || r.Attempts != tt.attempts || r.HTTPStatus != tt.http {
				t.Errorf("status %s, attempts %d, http %d (err %v); want %s, %d, %d", r.Status, r.Attempts, r.HTTPStatus, r.Err, tt.status, tt.attempts, tt.http)
			}
			if got := len(srv.Requests()); got != tt.attempts {
				t.Errorf("server got %d requests, want %d", got, tt.attempts)
			}
			if tt.errHas == "" && r.Err != nil || tt.errHas != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.errHas)) {
				t.Errorf("error %v, want one containing %q", r.Err, tt.errHas)
			}
			if r.Status == provision.StatusOK && (r.Token == "" || r.UserID == "") {
				t.Errorf("ok without token or user id: %+v", r)
			}
		})
	}
}

func TestPoolConnectionRefused(t *testing.T) {
	srv := provisiontest.NewServer()
	defer srv.Close()
	p, backoff, _ := testPool(t, srv)
	// Every dial is refused, as by a host where nothing listens: a closed port of 127.0.0.1
	// could be taken by another test's server before the pool dials it.
	refuse := func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	c := p.Endpoint.(*ideanote.Client)
	c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: refuse}}
	c.BaseURL = "http://127.0.0.1:9"
	res, err := runPool(t, context.Background(), p, testRows(1))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := res[0]
	if r.Status != provision.StatusFailed || r.Attempts != 4 || r.HTTPStatus != 0 || !strings.Contains(r.Err.Error(), "refused") {
		t.Errorf("got %s after %d attempts, http %d, err %v; want failed after 4, no status, connection refused", r.Status, r.Attempts, r.HTTPStatus, r.Err)
	}
	if n := len(backoff.Sleeps()); n != 3 {
		t.Errorf("%d backoff waits, want 3 between 4 attempts", n)
	}
}

func TestPoolHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header func() string
		min    time.Duration // the wait before the retry is at least this
	}{
		// A 429's row keeps the Retry-After itself, besides the pacer's pause of every row,
		// which may be shorter (a probe).
		{"429 seconds", 429, func() string { return "30" }, 30 * time.Second},
		{"503 seconds", 503, func() string { return "12" }, 12 * time.Second},
		{"429 HTTP date", 429, func() string { return time.Now().Add(45 * time.Second).UTC().Format(http.TimeFormat) }, 43 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := provisiontest.NewServer()
			defer srv.Close()
			srv.FailNext(1, tt.status, tt.header())
			p, backoff, pacer := testPool(t, srv)
			res, err := runPool(t, context.Background(), p, testRows(1))
			if err != nil || res[0].Status != provision.StatusOK || res[0].Attempts != 2 {
				t.Fatalf("got %+v, %v; want ok after 2 attempts", res[0], err)
			}
			if waits := backoff.Sleeps(); len(waits) != 1 || waits[0] < tt.min || waits[0] > tt.min+3*time.Second {
				t.Errorf("the row waits %v before its retry, want one wait of about %v", waits, tt.min)
			}
			// The pacer hears both answers, the first with its Retry-After, so that it can pause
			// every worker on a 429.
			answers := pacer.Answers()
			want := provision.Retry
			if tt.status == 429 {
				want = provision.Throttled
			}
			if len(answers) != 2 || answers[0].Action != want || answers[0].HTTPStatus != tt.status ||
				answers[0].RetryAfter < tt.min || answers[1].Action != provision.Done || answers[1].HTTPStatus != 200 {
				t.Errorf("pacer heard %+v, want %v (%d, Retry-After %v) then done", answers, want, tt.status, tt.min)
			}
		})
	}
}

func TestPoolAbort(t *testing.T) {
	tests := []struct {
		name  string
		setup func(srv *provisiontest.Server, p *provision.Pool)
		code  int
		cause provision.AbortCause
		hint  string
	}{
		{"401 wrong token", func(_ *provisiontest.Server, p *provision.Pool) {
			p.Endpoint.(*ideanote.Client).APIToken = "wrong-token-123456"
		}, 401, provision.CauseToken, "check the API token"},
		{"403 wrong space", func(_ *provisiontest.Server, p *provision.Pool) {
			p.Endpoint.(*ideanote.Client).SpaceID = "another-space"
		}, 403, provision.CauseSpace, "check the space id"},
		{"404 wrong base URL", func(srv *provisiontest.Server, p *provision.Pool) {
			p.Endpoint.(*ideanote.Client).BaseURL = srv.URL + "/api"
		}, 404, provision.CauseBaseURL, "check the base URL"},
		{"every row redirected", func(srv *provisiontest.Server, p *provision.Pool) {
			srv.Intercept = provisiontest.Always(*provisiontest.Redirect(308, "https://elsewhere.example/v1/session"))
		}, 308, provision.CauseBaseURL, "check the base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := provisiontest.NewServer()
			defer srv.Close()
			p, _, _ := testPool(t, srv)
			tt.setup(srv, p)
			res, err := runPool(t, context.Background(), p, testRows(10))
			var ae *provision.AbortError
			if !errors.As(err, &ae) || !errors.Is(err, provision.ErrAborted) || ae.Code != tt.code || ae.Cause != tt.cause {
				t.Fatalf("Run = %v, want an *provision.AbortError for %d, cause %d", err, tt.code, tt.cause)
			}
			// The message names the problem; the command line adds its flag.
			if msg := err.Error(); !strings.Contains(msg, tt.hint) || strings.Contains(msg, "wrong-token") || strings.Contains(msg, "--") {
				t.Errorf("message %q does not say to check %q, or holds the token", err, tt.hint)
			}
			for i, r := range res {
				want := provision.StatusNotAttempted
				if i < provision.AbortAfter {
					want = provision.StatusFailed
				}
				if r.Status != want {
					t.Errorf("row %d: %s (%v), want %s", r.Row.Line, r.Status, r.Err, want)
				}
			}
			if n := len(srv.Requests()); n != provision.AbortAfter {
				t.Errorf("server got %d requests, want %d", n, provision.AbortAfter)
			}
		})
	}
}

func TestPoolAbortNeedsRefusalsInARow(t *testing.T) {
	srv := provisiontest.NewUnstartedServer()
	// Two refusals, a success, two refusals, a success...: never three in a row.
	srv.Intercept = func(n int, r *provisiontest.Request) *provisiontest.Reply {
		if n%3 != 0 {
			return &provisiontest.Reply{Status: 403, Body: `{"message":"no"}`}
		}
		return nil
	}
	srv.Start()
	defer srv.Close()
	p, _, _ := testPool(t, srv)
	res, err := runPool(t, context.Background(), p, testRows(9))
	if err != nil {
		t.Fatalf("Run = %v, want no abort", err)
	}
	for _, r := range res {
		if r.Status == provision.StatusNotAttempted {
			t.Errorf("row %d not attempted", r.Row.Line)
		}
	}
}

// firstThrottled answers its first request 429 with a Retry-After of a minute, and every other
// 403: a wrong space id, found while a row waits out a 429.
type firstThrottled struct{ n atomic.Int64 }

func (f *firstThrottled) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n.Add(1) == 1 {
		return answerAll{status: 429, header: http.Header{"Retry-After": {"60"}}}.RoundTrip(r)
	}
	return answerAll{status: 403, body: `{"message":"forbidden"}`}.RoundTrip(r)
}

// TestPoolAbortStopsAThrottledRow checks that a row the server answered only 429, stopped by an
// abort while it waits, is not_attempted with the abort's cause: it was "failed" with "stopped
// after 1 attempts: HTTP 429". The pool tells when the server's pause ends.
func TestPoolAbortStopsAThrottledRow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := stallPool(&firstThrottled{}, nil)
		start := time.Now()
		var pausedAt time.Time
		rows := testRows(5)
		in := make(chan provision.Row)
		out := make(chan provision.Result, len(rows))
		done := make(chan error, 1)
		go func() { done <- p.Run(context.Background(), in, out); close(out) }()
		in <- rows[0]
		synctest.Wait() // row 2 answered 429, waits a minute
		pausedAt = p.PausedUntil()
		go func() {
			for _, r := range rows[1:] {
				in <- r
			}
			close(in)
		}()
		err := <-done
		if !errors.Is(err, provision.ErrAborted) {
			t.Fatalf("Run = %v, want an abort", err)
		}
		if want := start.Add(time.Minute); !pausedAt.Equal(want) {
			t.Errorf("PausedUntil = %v, want %v", pausedAt, want)
		}
		throttled := 0
		for r := range out {
			if r.HTTPStatus == http.StatusTooManyRequests {
				throttled++
				if r.Status != provision.StatusNotAttempted || r.Err == nil || !strings.Contains(r.Err.Error(), "aborted") {
					t.Errorf("the throttled row: %s, %v; want not_attempted, the run was aborted", r.Status, r.Err)
				}
			}
		}
		if throttled != 1 {
			t.Errorf("%d rows answered 429, want 1", throttled)
		}
	})
}

func TestPoolInterrupt(t *testing.T) {
	tests := []struct {
		name    string
		latency time.Duration
		timeout time.Duration
		flight  provision.Status // what the rows in flight at the interrupt end as
	}{
		{"in flight finish", 300 * time.Millisecond, 5 * time.Second, provision.StatusOK},
		{"in flight bounded by the timeout", 10 * time.Second, 200 * time.Millisecond, provision.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := provisiontest.NewUnstartedServer()
			srv.Latency = tt.latency
			srv.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
				if n == 2 {
					cancel() // the interrupt comes while both workers' requests are in flight
				}
				return nil
			}
			srv.Start()
			defer srv.Close()
			p, _, _ := testPool(t, srv)
			p.Concurrency, p.Timeout = 2, tt.timeout
			start := time.Now()
			res, err := runPool(t, ctx, p, testRows(8))
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Run took %v after the interrupt", d)
			}
			count := map[provision.Status]int{}
			for _, r := range res {
				count[r.Status]++
			}
			if count[tt.flight] != 2 || count[provision.StatusNotAttempted] != 6 {
				t.Errorf("counts %v, want 2 %s and 6 not_attempted", count, tt.flight)
			}
		})
	}
}
