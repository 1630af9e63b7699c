package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"golang.org/x/sync/errgroup"
)

// worker sends the messages given to it, one at a time, over its own deliverer (for SMTP, one
// connection reused from message to message).
type worker struct {
	s        *setup
	d        deliverer
	pace     *pace.Pacer // nil: no limit
	status   Status      // what a delivered message is: sent, written or rendered
	accepted *lastAccepted
	journal  *journal // nil: no journal of messages in flight (not SMTP)
}

// lastAccepted is when the server last accepted a message, shared by the workers: a run that
// the server only asks to slow down stops once it has accepted nothing for Options.MaxWait. It
// also paces the log's word of it.
type lastAccepted struct {
	mu     sync.Mutex
	at     time.Time
	warned time.Time // when the log last said the server asks to slow down
}

// slowDownEvery is how often at most the log says that the server asks to slow down: the run
// may wait minutes on a provider's limit, and a log silent all that time looks hung.
const slowDownEvery = 30 * time.Second

// slowedDown reports, at t, whether the log should say again that the server asks to slow
// down: the first time, then every slowDownEvery at most.
func (l *lastAccepted) slowedDown(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.warned.IsZero() && t.Sub(l.warned) < slowDownEvery {
		return false
	}
	l.warned = t
	return true
}

func (l *lastAccepted) mark(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at = t
}

func (l *lastAccepted) since(t time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return t.Sub(l.at)
}

// answer is how the pacer hears the reply of class.
func answer(sent time.Time, class replyClass, err error) provision.Answer {
	a := provision.Answer{Sent: sent}
	switch class {
	case replyNone:
		a.Action = provision.Done
	case replySlowDown:
		a.Action = provision.Throttled
	case replyTransient, replyNoServer:
		a.Action = provision.Retry
	default:
		a.Action = provision.Fail
	}
	if r, ok := replyOf(err); ok {
		a.HTTPStatus = r.code
	}
	return a
}

// send makes and delivers one message, retrying 4xx answers and faults. It returns the
// person's result and, when the run cannot go on, why.
//
// A reply asking to slow down (classifyReply) is heard by the pacer, which lowers the rate and
// holds every worker for a while; the message is tried again without using up MaxAttempts,
// until the server has accepted nothing for MaxWait. A reply saying that the account's quota
// is spent stops the run: nothing more can go before it is renewed.
func (w *worker) send(ctx context.Context, j *job) (Result, error) {
	o := &w.s.o
	r := Result{Row: j.row, Email: j.email, Status: StatusNotAttempted, LinkSHA256: j.linkHash}
	if ctx.Err() != nil {
		return r, nil
	}
	out, err := w.s.build(j)
	if err != nil {
		r.Status, r.Err = StatusFailed, err
		return r, nil
	}
	r.MessageID = out.id
	var (
		last    error
		tries   int           // the attempts that count against MaxAttempts: slow-downs do not
		reached bool          // an attempt got past the connection: the server heard of this person
		wait    time.Duration // before the next attempt, besides the pacer's
	)
	stopped := func() (Result, error) {
		if !reached {
			return r, nil // not_attempted: the server never heard of this person
		}
		r.Status, r.Err = StatusFailed, fmt.Errorf("%w; the run stopped before another try", last)
		return r, nil
	}
	for {
		if wait > 0 {
			if o.Wait(ctx, wait) != nil {
				return stopped()
			}
		}
		var sent time.Time
		if w.pace != nil {
			if sent, err = w.pace.Wait(ctx); err != nil {
				return stopped()
			}
		}
		if r.Attempts == 0 && w.journal != nil {
			// Before the server can hear of it: a kill during the transaction then leaves
			// this person unknown, not mailed again by the next run. The message is not
			// sent unless the journal says so.
			if err := w.journal.start(r, o.Now()); err != nil {
				r.Err = fmt.Errorf("not sent: the journal of messages in flight could not be written: %w", err)
				return r, fmt.Errorf("%w: %w", ErrMailReport, r.Err)
			}
		}
		r.Attempts++
		err := hideLink(w.d.deliver(ctx, out), j.fields)
		v, class := decide(err), classifyReply(err)
		var se *sendError
		errors.As(err, &se)
		if se != nil && se.code >= 400 && se.code < 500 {
			r.Deferred++
		}
		if v != done && se != nil && se.stage == stageConnect && ctx.Err() != nil {
			r.Attempts-- // the connection was given up for the interrupt: nothing was tried
			return stopped()
		}
		if w.pace != nil {
			w.pace.Observe(answer(sent, class, err))
		}
		if se == nil || se.stage != stageConnect {
			reached = true
		}
		switch {
		case v == done:
			w.accepted.mark(o.Now())
			r.Status, r.Err, r.SentAt = w.status, nil, o.Now()
			if w.status != StatusSent {
				r.Attempts = 0 // attempts count SMTP transactions
			}
			return r, nil
		case v == unsure:
			// The end of the message went and no reply came: the server may have accepted it.
			// Sent again, it could reach them twice; so not, by this run or a resume.
			r.Status, r.Err = StatusUnknown, errNoReply(err)
			return r, nil
		case class == replyQuota:
			// The account's, not this person's: they are not_attempted like the rest, and
			// the error cell says why the run stopped here.
			r.Status, r.Err = StatusNotAttempted, fmt.Errorf("the sending quota is spent: %w", err)
			return r, fmt.Errorf("%w: the SMTP server says the account's sending quota is spent; run again with %s once it is renewed: %w", ErrAborted, o.Names.Name(opt("Resume")), err)
		case class == replySlowDown && (v == retry || v == reconnect):
			last = err
			if w.accepted.slowedDown(o.Now()) {
				o.Log.Warn("the SMTP server asks to slow down: waiting, then sending slower", "reply", err.Error(),
					"idle_s", provision.LogSeconds(w.accepted.since(o.Now())), "gives_up_after_s", provision.LogSeconds(o.MaxWait))
			}
			if idle := w.accepted.since(o.Now()); idle >= o.MaxWait {
				r.Status, r.Err = StatusFailed, fmt.Errorf("the server asked to slow down and accepted nothing for %v: %w", idle.Round(time.Second), err)
				if !reached {
					r.Status = StatusNotAttempted
				}
				return r, fmt.Errorf("%w: the SMTP server accepted nothing for %v (%s), asking to slow down: %w", ErrAborted, idle.Round(time.Second), o.Names.Name(opt("MaxWait")), err)
			}
			wait = 0
			if w.pace == nil { // no pacer to hold the workers: this one waits
				wait = provision.Backoff{Base: o.Backoff, Max: MaxBackoff}.Wait(max(r.Attempts-tries, 1), 0)
			}
			continue
		}
		switch v {
		case retry, reconnect:
			last = err
			tries++
			if tries < o.MaxAttempts {
				wait = provision.Backoff{Base: o.Backoff, Max: MaxBackoff}.Wait(tries, 0)
				continue
			}
			r.Err = fmt.Errorf("gave up after %d attempts: %w", r.Attempts, err)
			if se != nil && se.stage == stageConnect {
				// No connection after every try: no other message would fare better. Unless an
				// earlier try reached the server, nothing reached this person either: they are
				// not_attempted like the rest.
				if reached {
					r.Status = StatusFailed
				}
				return r, fmt.Errorf("%w: cannot connect to the SMTP server after %d attempts: %w", ErrAborted, r.Attempts, err)
			}
			r.Status = StatusFailed
			return r, nil
		case failed:
			r.Status, r.Err = StatusFailed, err
			return r, nil
		default: // abort
			// The login, the sender or TLS was refused: nothing about this person, who is
			// not_attempted like the rest; the error cell says why the run stopped here.
			r.Err = err
			return r, fmt.Errorf("%w: %w", ErrAborted, err)
		}
	}
}

// outcome is a worker's result for the job n.
type outcome struct {
	n   int
	res Result
}

// dispatch sends the jobs with o.Concurrency workers and hands every result to emit, from the
// calling goroutine, as it comes. When ctx is done or a worker finds that the run cannot go on,
// no new message is started, those under way are finished, and the rest are emitted
// not_attempted. Each message is recorded in jl, when not nil, before its transaction. It
// returns why the run stopped early, or the first error of emit (after which nothing more is
// sent).
func (s *setup) dispatch(ctx context.Context, jobs []job, newDeliverer func() deliverer, status Status, jl *journal, emit func(Result) error) error {
	dctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	// Paced as provisioning is, by the project's Pacer: at --rate at most, lower once the
	// server asks to slow down (a Finder, which finds its limit).
	var pacer *pace.Pacer
	if s.o.Rate > 0 && status == StatusSent {
		pacer = pace.New(s.o.Rate, 1)
	}
	accepted := &lastAccepted{at: s.o.Now()}
	workers := s.o.Concurrency
	if status == StatusRendered {
		workers = 1 // the first message printed is the first of the report
	}
	// The pool has provisioning's shape, an errgroup of at most workers goroutines, each
	// message taking an idle deliverer (for SMTP, a connection) or making one.
	idle := make(chan deliverer, workers)
	results := make(chan outcome)
	go func() {
		var g errgroup.Group
		g.SetLimit(workers)
		for i := range jobs {
			if dctx.Err() != nil {
				break
			}
			g.Go(func() error {
				var d deliverer
				select {
				case d = <-idle:
				default:
					d = newDeliverer()
				}
				w := &worker{s: s, d: d, pace: pacer, status: status, accepted: accepted, journal: jl}
				res, err := w.send(dctx, &jobs[i])
				idle <- d
				if err != nil {
					stop(err)
				}
				results <- outcome{jobs[i].n, res}
				return nil
			})
		}
		g.Wait()
		close(idle)
		for d := range idle {
			d.close()
		}
		close(results)
	}()
	ended := make([]bool, len(jobs))
	var emitErr error
	for o := range results {
		ended[o.n] = true
		if emitErr == nil {
			if emitErr = emit(o.res); emitErr == nil {
				continue
			}
			stop(emitErr)
		}
		if o.res.Status == StatusSent || o.res.Status == StatusWritten {
			// Said here since the mail report cannot say it: a resume would mail them again.
			s.o.Log.Error("mailed, but not recorded in the mail report", "row", o.res.Row, "email", o.res.Email, "message_id", o.res.MessageID)
		}
	}
	for i, j := range jobs {
		if !ended[i] && emitErr == nil {
			emitErr = emit(Result{Row: j.row, Email: j.email, Status: StatusNotAttempted, LinkSHA256: j.linkHash})
		}
	}
	switch cause := context.Cause(dctx); {
	case emitErr != nil:
		return emitErr
	case errors.Is(cause, ErrAborted), errors.Is(cause, ErrMailReport):
		return cause
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// oneLine is err's text on one line, for a cell of the mail report.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
