package provision_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// answerAll is an http.RoundTripper that gives every request the same answer, in memory, so
// that the client and its retry policy run in a synctest bubble. A zero status hangs until
// the attempt's timeout.
type answerAll struct {
	status int
	header http.Header
	body   string
}

func (a answerAll) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if a.status == 0 {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range a.header {
		h[k] = v
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), Request: r}, nil
}

func stallPool(rt http.RoundTripper, pacer provision.Pacer) *provision.Pool {
	return &provision.Pool{
		Endpoint: &ideanote.Client{BaseURL: "https://api.example.com", SpaceID: provisiontest.DefaultSpaceID,
			APIToken: provisiontest.DefaultAPIToken, HTTPClient: &http.Client{Transport: rt}},
		Pacer:       pacer,
		Concurrency: 4,
		MaxAttempts: 6,
		MaxWait:     10*time.Minute + 30*time.Second,
		Timeout:     30 * time.Second,
	}
}

// --max-wait bounds any stretch in which the server accepts nothing, whatever it answers:
// the run stops with an abort, the rows not sent are not_attempted, every row has a result.
func TestPoolStopsWhenNothingIsAccepted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rt    answerAll
		pacer bool
		code  int
	}{
		{"only 503", answerAll{status: 503, body: `{"message":"down"}`}, false, 503},
		{"only 503 with Retry-After", answerAll{status: 503, header: http.Header{"Retry-After": {"120"}}}, false, 503},
		{"only 429, paced", answerAll{status: 429, header: http.Header{"Retry-After": {"60"}}}, true, 429},
		{"only 429, unpaced", answerAll{status: 429, header: http.Header{"Retry-After": {"60"}}}, false, 429},
		{"only timeouts", answerAll{}, false, 0},
		{"only 200 without a token", answerAll{status: 200, body: provisiontest.NoTokenBody}, false, 200},
		{"only 200 with broken JSON", answerAll{status: 200, body: provisiontest.BrokenJSONBody}, true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var pacer provision.Pacer
				if tt.pacer {
					pacer = pace.New(10, 1)
				}
				p := stallPool(tt.rt, pacer)
				start := time.Now()
				res, err := runPool(t, context.Background(), p, testRows(500))
				took := time.Since(start)
				ae, ok := errors.AsType[*provision.AbortError](err)
				if !ok || !errors.Is(err, provision.ErrAborted) || ae.Cause != provision.CauseStalled || ae.Code != tt.code {
					t.Fatalf("Run = %v after %v, want an abort for a stall with status %d", err, took, tt.code)
				}
				if took < p.MaxWait || took > p.MaxWait+p.Timeout+time.Second {
					t.Errorf("the run took %v, want --max-wait (%v) plus at most one attempt", took, p.MaxWait)
				}
				if msg := err.Error(); !strings.Contains(msg, "accepted nothing for 10m30s") || strings.Contains(msg, provisiontest.DefaultAPIToken) {
					t.Errorf("message %q", msg)
				}
				if len(res) != 500 {
					t.Fatalf("%d results, want one per row", len(res))
				}
				count := map[provision.Status]int{}
				for _, r := range res {
					count[r.Status]++
					// A row answered only 429 was never taken in: not_attempted, whatever its attempts.
					if r.Status == provision.StatusNotAttempted && r.Attempts != 0 && r.HTTPStatus != http.StatusTooManyRequests ||
						r.Status == provision.StatusFailed && r.Attempts == 0 {
						t.Errorf("row %d: %s after %d attempts", r.Row.Line, r.Status, r.Attempts)
					}
				}
				if count[provision.StatusNotAttempted] == 0 || count[provision.StatusOK] != 0 || count[provision.StatusFailed]+count[provision.StatusNotAttempted] != 500 {
					t.Errorf("statuses %v, want failed and not_attempted only", count)
				}
			})
		})
	}
}

// The stall clock runs only while rows wait: an input that is slow to come (a long file, or
// rows skipped as already done) is not a server that accepts nothing.
func TestPoolStallClockIgnoresIdleInput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := stallPool(answerAll{status: 200, body: `{"kind":"CUSTOM","sessionToken":"abc_1","user":{"id":"u1"}}`}, nil)
		in := make(chan provision.Row)
		out := make(chan provision.Result, 3)
		go func() {
			defer close(in)
			for _, r := range testRows(3) {
				in <- r
				time.Sleep(3 * p.MaxWait)
			}
		}()
		if err := p.Run(context.Background(), in, out); err != nil {
			t.Fatalf("Run = %v, want no abort", err)
		}
		close(out)
		for r := range out {
			if r.Status != provision.StatusOK {
				t.Errorf("row %d: %s (%v)", r.Row.Line, r.Status, r.Err)
			}
		}
	})
}

// Rows that end with a definite answer (a 422 for each) show that the server works: a run
// longer than --max-wait of such rows is not stopped.
func TestPoolStallClockCountsDefiniteAnswers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := stallPool(answerAll{status: 422, body: `{"message":"data.email is not a valid email address"}`}, pace.New(1, 1))
		start := time.Now()
		res, err := runPool(t, context.Background(), p, testRows(1000))
		if err != nil {
			t.Fatalf("Run = %v, want no abort", err)
		}
		if d := time.Since(start); d < p.MaxWait+5*time.Minute {
			t.Fatalf("the run took %v: it does not cover --max-wait", d)
		}
		for _, r := range res {
			if r.Status != provision.StatusFailed || r.Attempts != 1 {
				t.Fatalf("row %d: %s after %d attempts", r.Row.Line, r.Status, r.Attempts)
			}
		}
	})
}

// sliceSource is a provision.Source over rows.
type sliceSource struct{ rows []provision.Row }

func (s *sliceSource) Read() (provision.Row, error) {
	if len(s.rows) == 0 {
		return provision.Row{}, io.EOF
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r, nil
}

// A job on a server that answers only 503 stops after --max-wait with the abort, and every row
// of the input still has its line: the report is complete.
func TestJobStopsWhenNothingIsAccepted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 2000
		var emitted []provision.Result
		job := &provision.Job{
			Source: &sliceSource{rows: testRows(n)},
			Pool:   stallPool(answerAll{status: 503}, pace.New(1, 1)),
			Emit:   func(r provision.Result) error { emitted = append(emitted, r); return nil },
		}
		sum, err := job.Run(context.Background())
		if !errors.Is(err, provision.ErrAborted) {
			t.Fatalf("Run = %v, want the abort", err)
		}
		if sum.Rows != n || len(emitted) != n || sum.Counts[provision.StatusFailed]+sum.Counts[provision.StatusNotAttempted] != n {
			t.Errorf("%d rows emitted (%v), want %d, failed or not_attempted", len(emitted), sum.Counts, n)
		}
		if sum.Elapsed > job.Pool.MaxWait+job.Pool.Timeout+time.Second {
			t.Errorf("the job took %v", sum.Elapsed)
		}
	})
}
