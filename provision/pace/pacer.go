package pace

import (
	"context"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Pacer is a provision.Pacer: every attempt of a pool, retries included, takes the next slot of
// one schedule, at the rate its Policy sets from the answers.
//
// The schedule is a token bucket in its GCRA form: a slot every 1/rate, up to Burst-1 of them
// saved while idle. The waiting workers queue, and only the first waits for the next slot: each
// interval is taken at the rate of the moment it starts, not at the rate of the moment a worker
// began to wait, which lags by as many slots as there are workers. With a burst of 1 it also
// keeps attempts apart by their actual starts, at intervals of keepGapsFrom or more from the
// first attempt, at shorter ones once the server has answered 429: a worker woken late by its
// timer is not followed by one on time, closer than the server allows.
//
// A 429 pauses every attempt for at least its Retry-After, and the slots after a pause are
// spaced as always, so that the workers never all start at the instant it ends. A Policy may
// ask for a shorter pause, when the Retry-After is the rounding up of a shorter wait: then one
// attempt, the probe, starts after it and the others wait for its answer. If the server refuses
// it too, the pool waits at least until the Retry-After's end, longer if the policy says (most
// often the probe's own).
//
// A Pacer is safe for concurrent use.
type Pacer struct {
	head chan struct{} // held by the worker waiting for the next slot

	mu        sync.Mutex
	policy    Policy
	burst     int
	slot      time.Time // the latest slot taken
	last      time.Time // when the latest attempt actually started
	notBefore time.Time // the end of the current pause
	starts    [64]start // the latest starts, a ring, for the gap of each answer's attempt
	n         int       // starts so far
	throttles int       // 429s heard
	probe     probe
	wake      chan struct{} // closed when a probe is answered, for the worker waiting on it
	inFlight  int           // attempts started and not yet answered
	answered  chan struct{} // closed when an attempt is answered, for a worker waiting for room
}

// probe is the one attempt let through a pause shorter than the Retry-After of the 429 that
// began it.
type probe struct {
	until time.Time // the end of the Retry-After; zero when no probe is on
	sent  time.Time // when the probe started; zero until it has
	spent bool      // a probe was refused since the latest acceptance: no other until one
}

// start is when an attempt started, and how long after the one before it.
type start struct {
	at  time.Time
	gap time.Duration
}

// New returns a Pacer for --rate perSecond (0: no limit) and --burst burst, finding the
// server's limit with a Finder.
func New(perSecond float64, burst int) *Pacer {
	return NewWithPolicy(NewFinder(perSecond), burst)
}

// NewWithPolicy returns a Pacer whose rate is set by policy.
func NewWithPolicy(policy Policy, burst int) *Pacer {
	return &Pacer{head: make(chan struct{}, 1), policy: policy, burst: max(burst, 1), wake: make(chan struct{}),
		answered: make(chan struct{})}
}

// gapSlack is how much closer than an interval a start may follow the one before it, by their
// actual start times, with a burst of 1: a start late by less than this costs nothing; later,
// the next start moves by the rest. The Finder paces 1.5% under the rate it is given or finds,
// so that two starts are never closer than that rate allows.
const gapSlack = 0.01

// keepGapsFrom is the shortest interval at which gaps are kept from the first attempt on, before
// any 429. Below it, a timer's lateness is a large part of an interval, and keeping the gap
// after every late start adds the lateness of the next one to it: the run slows by the timers'
// lateness (BENCHMARKS.md), for a server that may not be strict at all. At or above it, the
// lateness is a small part of an interval, and the default --rate 1 never draws a 429 from a
// strict server at exactly 60 a minute; there the gap is a whole interval, without gapSlack,
// so that the Finder's margin (15 ms at one a second) is left whole for the time between an
// attempt's start and its request on the wire, which the Pacer does not see.
const keepGapsFrom = 100 * time.Millisecond

// Wait blocks until an attempt may start, and returns when it started.
func (p *Pacer) Wait(ctx context.Context) (time.Time, error) {
	select {
	case p.head <- struct{}{}:
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	defer func() { <-p.head }()
	var slot time.Time // the slot waited for; zero on the first look
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		p.mu.Lock()
		now := time.Now()
		if n, until := p.policy.InFlight(now); n > 0 && p.inFlight >= n {
			// No room: wait for an answer, or for the bound to grow.
			answered := p.answered
			p.mu.Unlock()
			d := time.Duration(-1)
			if !until.IsZero() {
				d = until.Sub(now)
			}
			if err := sleep(ctx, d, answered); err != nil {
				return time.Time{}, err
			}
			continue
		}
		var start time.Time
		slot, start = p.due(now, slot)
		d := start.Sub(now)
		if d <= 0 {
			p.started(now)
		}
		wake := p.wake
		p.mu.Unlock()
		if d <= 0 {
			return now, nil
		}
		// The rate, or a pause, may change before the slot comes: it is worked out again.
		if err := sleep(ctx, d, wake); err != nil {
			return time.Time{}, err
		}
	}
}

// due returns the next slot, and when the next attempt may start, seen at now; when that is
// not after now, the slot is taken. waited is the slot a look before this one found, zero on
// the first look of a Wait. Only the first look finds the bucket idle: a worker woken late by
// its timer was not idle, and keeps the schedule's slot rather than starting a new schedule
// from now. Nor does a later look move the slot earlier than the one waited for, when the rate
// has risen meanwhile: the gaps would be shorter than any rate set. p.mu is held.
func (p *Pacer) due(now, waited time.Time) (slot, start time.Time) {
	if now.Before(p.notBefore) {
		return p.notBefore, p.notBefore
	}
	if !p.probe.sent.IsZero() {
		if now.Before(p.probe.until) {
			return waited, p.probe.until // the probe is out: wait for its answer
		}
		p.endProbe()
	}
	rate := p.policy.Rate(now)
	if rate <= 0 {
		p.slot = now
		return now, now
	}
	interval := time.Duration(float64(time.Second) / rate)
	// One interval after the latest slot, or what an idle bucket has saved up; not in a pause.
	slot = p.slot.Add(interval)
	if saved := now.Add(-time.Duration(p.burst-1) * interval); waited.IsZero() && slot.Before(saved) {
		slot = saved
	}
	if slot.Before(waited) {
		slot = waited
	}
	if slot.Before(p.notBefore) {
		slot = p.notBefore
	}
	start = slot
	if p.burst == 1 && !p.last.IsZero() && (p.throttles > 0 || interval >= keepGapsFrom) {
		slack := gapSlack
		if interval >= keepGapsFrom {
			slack = 0 // the margin whole against the time from Wait to the wire
		}
		if gap := p.last.Add(time.Duration(float64(interval) * (1 - slack))); gap.After(start) {
			start = gap
		}
	}
	if !start.After(now) {
		p.slot = slot
	}
	return slot, start
}

// started records an attempt that starts at now. p.mu is held.
func (p *Pacer) started(now time.Time) {
	var gap time.Duration
	if p.n > 0 {
		gap = now.Sub(p.last)
	}
	p.starts[p.n%len(p.starts)] = start{at: now, gap: gap}
	p.n++
	p.inFlight++
	p.last = now
	if !p.probe.until.IsZero() && p.probe.sent.IsZero() {
		p.probe.sent = now
	}
}

// endProbe ends a probe, answered or outlived by its Retry-After, and wakes the worker waiting
// on it. p.mu is held.
func (p *Pacer) endProbe() {
	p.probe.until, p.probe.sent = time.Time{}, time.Time{}
	close(p.wake)
	p.wake = make(chan struct{})
}

// gap is the gap before the attempt that started at sent, 0 when it is no longer known. p.mu
// is held.
func (p *Pacer) gap(sent time.Time) time.Duration {
	for i := range min(p.n, len(p.starts)) {
		if s := p.starts[(p.n-1-i)%len(p.starts)]; s.at.Equal(sent) {
			return s.gap
		}
	}
	return 0
}

// Observe hears the answer to an attempt, once for every Wait that returned without an error:
// the policy may bound the attempts in flight. A 429 pauses every attempt for its Retry-After,
// or for the shorter pause the policy asks for, followed by a probe.
func (p *Pacer) Observe(a provision.Answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.inFlight > 0 {
		p.inFlight--
		close(p.answered)
		p.answered = make(chan struct{})
	}
	switch a.Action {
	case provision.Done:
		p.probe.spent = false
	case provision.Throttled:
		p.throttles++
	}
	isProbe := !p.probe.sent.IsZero() && a.Sent.Equal(p.probe.sent)
	pause := p.policy.Observe(now, Outcome{Answer: a, Gap: p.gap(a.Sent), Probe: isProbe})
	switch {
	case a.Action != provision.Throttled:
		if isProbe {
			p.endProbe() // the server took it: the pool goes on
		}
	case isProbe:
		// Refused too: the pool waits as long as the policy says (most often the probe's own
		// Retry-After), and at least until the end of the one that began the pause; no more
		// probes until the server accepts again.
		pause = max(pause, p.probe.until.Sub(now))
		p.endProbe()
		p.probe.spent = true
	case pause < a.RetryAfter && !p.probe.spent:
		if until := now.Add(a.RetryAfter); until.After(p.probe.until) {
			p.probe.until = until
		}
	default:
		pause = max(pause, a.RetryAfter)
	}
	if end := now.Add(pause); pause > 0 && end.After(p.notBefore) {
		p.notBefore = end
	}
}

// sleep waits for d (no limit when negative), until wake is closed, or until ctx is done,
// whichever comes first.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
	case <-wake:
	}
	return nil
}
