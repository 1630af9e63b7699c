package provision_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

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
