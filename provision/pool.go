package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrAborted is returned when the endpoint refused enough requests in a row that every other
// row would be refused too: the token, the space id or the base URL is wrong.
var ErrAborted = errors.New("aborted")

// AbortError tells why a run was aborted and what to check.
type AbortError struct {
	Code int   // HTTP status of the last refusal, 0 for a network-level refusal
	Last error // the last refusal
}

func (e *AbortError) Error() string {
	hint := "check --base-url"
	switch e.Code {
	case http.StatusUnauthorized:
		hint = "check the API token (IDEANOTE_API_TOKEN or --api-token-file): it must be an owner's token of this workspace"
	case http.StatusForbidden:
		hint = "check the space id (--space-id or IDEANOTE_SPACE_ID) and that custom login via API is enabled for the workspace"
	case http.StatusNotFound:
		hint = "check --base-url (IDEANOTE_BASE_URL) and the space id"
	}
	return fmt.Sprintf("aborted after %d refusals in a row (last: %v): %s", AbortAfter, e.Last, hint)
}

func (e *AbortError) Unwrap() error { return ErrAborted }

// AbortAfter is how many refusals in a row abort a run.
const AbortAfter = 3

// Pool sends rows to the endpoint, Concurrency at a time, every attempt paced by Pacer.
// The zero values of its fields are usable defaults except Endpoint, which must be set.
type Pool struct {
	Endpoint    Endpoint
	Pacer       Pacer         // nil: no pacing, and a 429 holds back only its own row
	Concurrency int           // requests in flight at most; default 4
	MaxAttempts int           // attempts per row, not counting 429s; default 6
	MaxWait     time.Duration // a row answered 429 fails once nothing was accepted for this long; default 15m
	Timeout     time.Duration // one attempt; default 30s
	Backoff     Backoff

	// sleep waits between attempts; tests replace it so that no test waits for real.
	sleep func(context.Context, time.Duration) error

	throttled  atomic.Int64 // 429 answers
	lastAccept atomic.Int64 // when the server last accepted a request (or the run started), Unix ns

	mu      sync.Mutex
	refused int   // refusals in a row, over the whole pool
	abort   error // set once the run is aborted
	cancel  context.CancelFunc
}

// DefaultMaxWait is how long a row waits through 429s while the server accepts nothing.
const DefaultMaxWait = 15 * time.Minute

// Run sends every row received on rows and delivers exactly one Result per row on results.
// When ctx is done, or the run is aborted, it stops sending: rows not yet sent come back as
// not_attempted, and requests in flight finish within Timeout. It returns an *AbortError when
// the run was aborted, nil otherwise; a failed row is a Result, never an error.
func (p *Pool) Run(ctx context.Context, rows <-chan Row, results chan<- Result) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.mu.Lock()
	p.cancel, p.refused, p.abort = cancel, 0, nil
	p.mu.Unlock()
	p.throttled.Store(0)
	p.lastAccept.Store(time.Now().UnixNano())

	g := new(errgroup.Group) // not WithContext: a failed row is data and cancels nothing
	g.SetLimit(p.concurrency())
	for row := range rows {
		if ctx.Err() != nil {
			results <- Result{Row: row, Status: StatusNotAttempted, Err: p.stopReason(), Finished: time.Now()}
			continue
		}
		g.Go(func() error {
			results <- p.send(ctx, row)
			return nil
		})
	}
	g.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.abort
}

func (p *Pool) concurrency() int {
	if p.Concurrency < 1 {
		return 4
	}
	return p.Concurrency
}

func (p *Pool) stopReason() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.abort != nil {
		return errors.New("not sent: the run was aborted")
	}
	return errors.New("not sent: the run was interrupted")
}

// Throttles is the number of 429 answers of the last or current Run.
func (p *Pool) Throttles() int { return int(p.throttled.Load()) }

// send makes the attempts for one row. A 429 does not count against MaxAttempts: it means
// "later", and the Pacer holds the row (and every other) until later.
func (p *Pool) send(ctx context.Context, row Row) Result {
	res := Result{Row: row}
	maxAttempts := p.MaxAttempts
	if maxAttempts < 1 {
		maxAttempts = 6
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	var last error
	tries, throttles := 0, 0
	for {
		sent, err := p.start(ctx)
		if err != nil {
			if res.Attempts == 0 {
				return p.finish(res, StatusNotAttempted, p.stopReason())
			}
			return p.finish(res, StatusFailed, fmt.Errorf("stopped after %d attempts: %w", res.Attempts, last))
		}
		// In flight, an attempt outlives an interrupt: it ends within its own timeout.
		actx, cancelAttempt := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		sess, err := p.Endpoint.Upsert(actx, row.User)
		cancelAttempt()
		res.Attempts++
		v := p.Endpoint.Decide(ctx, err)
		res.HTTPStatus = v.HTTPStatus
		if v.Action == Done {
			res.HTTPStatus, v.Quota = http.StatusOK, sess.Quota
			p.lastAccept.Store(time.Now().UnixNano())
		}
		if p.Pacer != nil {
			p.Pacer.Observe(Answer{Sent: sent, Action: v.Action, HTTPStatus: res.HTTPStatus, RetryAfter: v.RetryAfter, Quota: v.Quota})
		}
		if v.Action != Refused {
			p.resetRefusals()
		}
		switch v.Action {
		case Done:
			res.UserID, res.Token = sess.UserID, sess.Token
			return p.finish(res, StatusOK, nil)
		case Refused:
			p.refusal(err, v.HTTPStatus)
			return p.finish(res, StatusFailed, err)
		case Fail:
			if ctx.Err() != nil && err != nil && res.HTTPStatus == 0 {
				err = fmt.Errorf("interrupted: %w", err)
			}
			return p.finish(res, StatusFailed, err)
		}
		last = err
		var wait time.Duration
		if v.Action == Throttled {
			p.throttled.Add(1)
			if idle := time.Since(time.Unix(0, p.lastAccept.Load())); idle >= p.maxWait() {
				return p.finish(res, StatusFailed, fmt.Errorf("giving up: the server has accepted nothing for %v: %w", idle.Round(time.Second), err))
			}
			if p.Pacer != nil {
				// The pacer holds every row; this one also keeps the Retry-After itself, which
				// the pool's pause may be shorter than (see Pacer).
				wait = v.RetryAfter
			} else {
				throttles++
				wait = p.Backoff.Wait(throttles, v.RetryAfter)
			}
		} else {
			tries++
			if tries >= maxAttempts {
				return p.finish(res, StatusFailed, fmt.Errorf("giving up after %d attempts: %w", tries, err))
			}
			wait = p.Backoff.Wait(tries, v.RetryAfter)
		}
		if p.wait(ctx, wait) != nil {
			return p.finish(res, StatusFailed, fmt.Errorf("stopped after %d attempts: %w", res.Attempts, err))
		}
	}
}

// start waits for the pacer and returns when the attempt starts.
func (p *Pool) start(ctx context.Context) (time.Time, error) {
	if p.Pacer == nil {
		return time.Now(), ctx.Err()
	}
	return p.Pacer.Wait(ctx)
}

func (p *Pool) maxWait() time.Duration {
	if p.MaxWait <= 0 {
		return DefaultMaxWait
	}
	return p.MaxWait
}

func (p *Pool) wait(ctx context.Context, d time.Duration) error {
	if p.sleep != nil {
		return p.sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

func (p *Pool) finish(res Result, s Status, err error) Result {
	res.Status, res.Err, res.Finished = s, err, time.Now()
	return res
}

func (p *Pool) resetRefusals() {
	p.mu.Lock()
	p.refused = 0
	p.mu.Unlock()
}

// refusal counts one 401/403/404 (or unknown host, bad certificate) and aborts the run at
// the third in a row.
func (p *Pool) refusal(err error, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused++
	if p.refused >= AbortAfter && p.abort == nil {
		p.abort = &AbortError{Code: code, Last: err}
		p.cancel()
	}
}
