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

// ErrAborted is returned when a run stops because every other row would fail too: the
// endpoint refused enough requests in a row (the token, the space id or the base URL is
// wrong), or the server accepted nothing for MaxWait.
var ErrAborted = errors.New("aborted")

// AbortCause says what an aborted run points at, so that a command line can name the flag or
// setting to check.
type AbortCause int

// The causes of an abort.
const (
	CauseBaseURL AbortCause = iota // 404, unknown host, bad certificate, a redirect: the API root
	CauseToken                     // 401: the API token
	CauseSpace                     // 403: the space id, or custom login not enabled for it
	CauseStalled                   // the server accepted nothing for MaxWait, whatever it answered
)

// AbortError tells why a run was aborted and what to check. Its message names the problem,
// not a flag: the command line knows its flags (see Cause).
type AbortError struct {
	Cause  AbortCause
	Code   int           // HTTP status of the last refusal or answer, 0 when none arrived
	Last   error         // the last refusal, or the last answer before a stall (may be nil)
	Waited time.Duration // CauseStalled: how long nothing was accepted
}

func (e *AbortError) Error() string {
	if e.Cause == CauseStalled {
		msg := fmt.Sprintf("aborted: the server accepted nothing for %v", e.Waited.Round(time.Second))
		if e.Last != nil {
			msg += fmt.Sprintf(" (last: %v)", e.Last)
		}
		return msg + ": it is down or refuses this client; the rows not sent are not_attempted"
	}
	var hint string
	switch e.Cause {
	case CauseToken:
		hint = "check the API token: it must be an owner's token of this workspace"
	case CauseSpace:
		hint = "check the space id and that custom login via API is enabled for the workspace"
	default:
		hint = "check the base URL"
		if e.Code == http.StatusNotFound {
			hint = "check the base URL and the space id"
		}
	}
	return fmt.Sprintf("aborted after %d refusals in a row (last: %v): %s", AbortAfter, e.Last, hint)
}

func (e *AbortError) Unwrap() error { return ErrAborted }

// causeOf is the abort cause of a refusal with status code.
func causeOf(code int) AbortCause {
	switch code {
	case http.StatusUnauthorized:
		return CauseToken
	case http.StatusForbidden:
		return CauseSpace
	}
	return CauseBaseURL
}

// AbortAfter is how many refusals in a row abort a run.
const AbortAfter = 3

// Pool sends rows to the endpoint, Concurrency at a time, every attempt paced by Pacer.
// The zero values of its fields are usable defaults except Endpoint, which must be set.
type Pool struct {
	Endpoint    Endpoint
	Pacer       Pacer         // nil: no pacing, and a 429 holds back only its own row
	Concurrency int           // requests in flight at most; default 4
	MaxAttempts int           // attempts per row, not counting 429s; default 6
	MaxWait     time.Duration // the run stops once rows wait and nothing was accepted for this long; default 15m
	Timeout     time.Duration // one attempt; default 30s
	Backoff     Backoff

	// sleep waits between attempts; tests replace it so that no test waits for real.
	sleep func(context.Context, time.Duration) error

	throttled   atomic.Int64 // 429 answers
	pausedUntil atomic.Int64 // when the last Retry-After ends, in Unix nanoseconds; 0 for none

	mu       sync.Mutex
	refused  int   // refusals in a row, over the whole pool
	abort    error // set once the run is aborted
	cancel   context.CancelFunc
	busy     int       // rows being sent (waiting for the pacer, in flight or between attempts)
	since    time.Time // when the last row ended with an answer, or rows began to wait again
	lastErr  error     // the last attempt's error, for a stall's message
	lastCode int       // and its HTTP status
}

// DefaultMaxWait is how long rows may wait while the server accepts nothing before the run
// stops.
const DefaultMaxWait = 15 * time.Minute

// Run sends every row received on rows and delivers exactly one Result per row on results.
// When ctx is done, or the run is aborted, it stops sending: rows not yet sent come back as
// not_attempted, and requests in flight finish within Timeout. It returns an *AbortError when
// the run was aborted, nil otherwise; a failed row is a Result, never an error.
//
// The run is aborted after AbortAfter refusals in a row, and once rows have waited MaxWait
// without any row ending with an answer: whatever the server says meanwhile (429, 5xx, a 2xx
// without a session, nothing), another row would wait as long.
func (p *Pool) Run(ctx context.Context, rows <-chan Row, results chan<- Result) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.mu.Lock()
	p.cancel, p.refused, p.abort, p.busy, p.lastErr, p.lastCode = cancel, 0, nil, 0, nil, 0
	p.mu.Unlock()
	p.throttled.Store(0)
	p.pausedUntil.Store(0)
	var watch sync.WaitGroup
	watch.Go(func() { p.watch(ctx) })
	defer func() {
		cancel() // ends the watch
		watch.Wait()
	}()

	g := new(errgroup.Group) // not WithContext: a failed row is data and cancels nothing
	g.SetLimit(p.concurrency())
	for row := range rows {
		if ctx.Err() != nil {
			results <- Result{Row: row, Status: StatusNotAttempted, Err: p.stopReason(), Finished: time.Now()}
			continue
		}
		p.enter()
		g.Go(func() error {
			res := p.send(ctx, row)
			p.leave()
			results <- res
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
			return p.stopped(res, tries, last)
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
		}
		if p.Pacer != nil {
			p.Pacer.Observe(Answer{Sent: sent, Action: v.Action, HTTPStatus: res.HTTPStatus, RetryAfter: v.RetryAfter, Quota: v.Quota})
		}
		p.answered(v, err)
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
			// No limit on 429s here: the pool's watch stops the run once nothing is accepted.
			p.throttled.Add(1)
			p.notePause(time.Now(), v.RetryAfter)
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
				return p.finish(res, StatusFailed, fmt.Errorf("giving up after %s: %w", plural(tries, "attempt", "attempts"), err))
			}
			wait = p.Backoff.Wait(tries, v.RetryAfter)
		}
		if p.wait(ctx, wait) != nil {
			return p.stopped(res, tries, err)
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

// stopped ends a row that the end of the run (an interrupt, an abort) stopped between two
// attempts; tries counts its attempts answered other than 429 and last is the last one's error.
// A row the server answered only 429 was never taken in: it is not_attempted, as the rows not
// yet sent, and its error says why the run stopped, not "HTTP 429".
func (p *Pool) stopped(res Result, tries int, last error) Result {
	if tries == 0 {
		return p.finish(res, StatusNotAttempted, p.stopReason())
	}
	return p.finish(res, StatusFailed, fmt.Errorf("stopped after %s: %w", plural(res.Attempts, "attempt", "attempts"), last))
}

// plural is "1 attempt" or "2 attempts".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (p *Pool) finish(res Result, s Status, err error) Result {
	res.Status, res.Err, res.Finished = s, err, time.Now()
	return res
}

// answered notes the verdict on one attempt. Any other than a refusal ends a run of refusals.
// An answer that ends its row (ok, or a definite failure such as a 422) shows that the server
// works, and starts the stall clock again; 429s, 5xx, timeouts and unusable 2xx do not.
func (p *Pool) answered(v Verdict, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v.Action != Refused {
		p.refused = 0
	}
	if v.Action == Done || (v.Action == Fail && v.HTTPStatus != 0) {
		p.since = time.Now()
	}
	if err != nil {
		p.lastErr, p.lastCode = err, v.HTTPStatus
	}
}

// enter counts a row handed to a worker. The first of a busy stretch starts the stall clock:
// while no row waits (the input is slow, or every row is skipped), nothing can be accepted.
func (p *Pool) enter() {
	p.mu.Lock()
	if p.busy == 0 {
		p.since = time.Now()
	}
	p.busy++
	p.mu.Unlock()
}

func (p *Pool) leave() {
	p.mu.Lock()
	p.busy--
	p.mu.Unlock()
}

// watch aborts the run once rows have waited longer than MaxWait without a row ending with an
// answer. It looks a little after the limit, so that an answer due at the limit itself (the
// last Retry-After of a row) still counts.
func (p *Pool) watch(ctx context.Context) {
	limit := p.maxWait()
	const late = time.Millisecond
	t := time.NewTimer(limit + late)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		next := limit
		if p.busy > 0 {
			idle := time.Since(p.since)
			if idle > limit {
				if p.abort == nil {
					p.abort = &AbortError{Cause: CauseStalled, Code: p.lastCode, Last: p.lastErr, Waited: idle}
					p.cancel()
				}
				p.mu.Unlock()
				return
			}
			next = limit - idle + late
		}
		p.mu.Unlock()
		t.Reset(next)
	}
}

// refusal counts one 401/403/404 (or unknown host, bad certificate) and aborts the run at
// the third in a row.
func (p *Pool) refusal(err error, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused++
	if p.refused >= AbortAfter && p.abort == nil {
		p.abort = &AbortError{Cause: causeOf(code), Code: code, Last: err}
		p.cancel()
	}
}
