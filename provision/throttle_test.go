package provision_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// scriptedEndpoint answers in memory: request n (from 1) is accepted when accept(n), else
// answered 429 with retryAfter. It runs in a synctest bubble, where time is fake.
type scriptedEndpoint struct {
	accept     func(n int) bool
	retryAfter time.Duration

	mu sync.Mutex
	n  int
}

var errTooMany = errors.New("HTTP 429 Too Many Requests")

func (e *scriptedEndpoint) Upsert(ctx context.Context, u provision.User) (provision.Session, error) {
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	if e.accept(n) {
		return provision.Session{UserID: "usr_1", Token: "token_1"}, nil
	}
	return provision.Session{}, errTooMany
}

func (e *scriptedEndpoint) Decide(ctx context.Context, err error) provision.Verdict {
	if err == nil {
		return provision.Verdict{Action: provision.Done}
	}
	return provision.Verdict{Action: provision.Throttled, RetryAfter: e.retryAfter, HTTPStatus: 429}
}

func TestPoolThrottled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		accept   func(n int) bool
		rows     int
		status   provision.Status
		attempts int    // of the first row
		errHas   string // of every row that failed
	}{
		// 429s do not use up --max-attempts (2 here): the row waits through them.
		{"ten 429s, then ok", func(n int) bool { return n > 10 }, 1, provision.StatusOK, 11, ""},
		// A server that accepts nothing stops the run: see TestPoolStopsWhenNothingIsAccepted.
		// The server accepts one request in five: every row waits longer than --max-wait in
		// all, and none fails, since the server accepts something all the while.
		{"others accepted", func(n int) bool { return n%5 == 0 }, 4, provision.StatusOK, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := &provision.Pool{
					Endpoint:    &scriptedEndpoint{accept: tt.accept, retryAfter: time.Minute},
					Pacer:       pace.New(0, 1),
					Concurrency: 2,
					MaxAttempts: 2,
					MaxWait:     10 * time.Minute,
				}
				start := time.Now()
				res, err := runPool(t, context.Background(), p, testRows(tt.rows))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					if r.Status != tt.status {
						t.Errorf("row %d: %s after %d attempts (%v), want %s", r.Row.Line, r.Status, r.Attempts, r.Err, tt.status)
					}
					if tt.errHas != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.errHas)) {
						t.Errorf("row %d: error %v, want one saying %q", r.Row.Line, r.Err, tt.errHas)
					}
				}
				if tt.attempts > 0 && res[0].Attempts != tt.attempts {
					t.Errorf("first row: %d attempts, want %d", res[0].Attempts, tt.attempts)
				}
				if tt.name == "others accepted" && time.Since(start) < 10*time.Minute {
					t.Errorf("the run took %v: the rows did not wait longer than --max-wait", time.Since(start))
				}
				if got, want := p.Throttles(), countThrottled(res); got != want {
					t.Errorf("Throttles() = %d, want %d", got, want)
				}
			})
		})
	}
}

// countThrottled is the 429s of a run whose endpoint answers only 200 or 429.
func countThrottled(res []provision.Result) int {
	n := 0
	for _, r := range res {
		n += r.Attempts
		if r.Status == provision.StatusOK {
			n--
		}
	}
	return n
}

// A pool without a pacer still waits out a 429's Retry-After in the row itself.
func TestPoolThrottledWithoutPacer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := &provision.Pool{
			Endpoint: &scriptedEndpoint{accept: func(n int) bool { return n > 3 }, retryAfter: 20 * time.Second},
			MaxWait:  time.Hour,
		}
		start := time.Now()
		res, err := runPool(t, context.Background(), p, testRows(1))
		if err != nil || res[0].Status != provision.StatusOK || res[0].Attempts != 4 {
			t.Fatalf("got %+v, %v; want ok after 4 attempts", res[0], err)
		}
		if d := time.Since(start); d < 60*time.Second {
			t.Errorf("three 429s of Retry-After 20s waited %v in all, want at least 60s", d)
		}
	})
}
