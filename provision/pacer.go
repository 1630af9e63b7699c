package provision

import (
	"context"
	"sync"
	"time"
)

// Pacer spaces the attempts of the whole pool: every attempt, retries included, takes the next
// slot of one schedule (a token bucket in its GCRA form). A 429 pauses every worker until its
// Retry-After has passed and lowers the rate (multiplicative decrease); successes raise it again
// step by step (additive increase) up to the configured rate. The rate it lowers to is
// remembered as the server's likely ceiling, and the climb slows near it, so that a run against
// a stricter server than configured settles just under that server's limit instead of
// oscillating around it.
//
// The schedule is kept here rather than in a rate.Limiter: raising a Limiter's rate while
// workers hold reservations made at the old rate puts the next reservation closer to them than
// either rate allows, and those short gaps were drawing 429s from a strict server.
//
// A nil *Pacer does not wait. A Pacer is safe for concurrent use.
type Pacer struct {
	mu        sync.Mutex
	rate      float64 // current rate, attempts a second
	max       float64 // configured rate; 0 when unlimited
	burst     int
	next      time.Time // the next free slot
	ceiling   float64   // rate at which the last 429 came, 0 before any
	notBefore time.Time // no attempt starts before this
	lastCut   time.Time
	throttled int
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error // tests replace now and sleep
}

// Floor is the lowest rate a Pacer slows to, in requests per second (one a minute).
const Floor = 1.0 / 60

// NewPacer returns a Pacer allowing perSecond attempts a second with the given burst;
// perSecond <= 0 means no limit.
func NewPacer(perSecond float64, burst int) *Pacer {
	if perSecond < 0 {
		perSecond = 0
	}
	return &Pacer{rate: perSecond, max: perSecond, burst: max(burst, 1), now: time.Now, sleep: sleep}
}

// Wait blocks until an attempt may start, and returns when it started.
func (p *Pacer) Wait(ctx context.Context) (time.Time, error) {
	if p == nil {
		return time.Now(), ctx.Err()
	}
	for {
		if err := p.pause(ctx); err != nil {
			return time.Time{}, err
		}
		slot := p.reserve()
		if d := slot.Sub(p.now()); d > 0 {
			if err := p.sleep(ctx, d); err != nil {
				return time.Time{}, err
			}
		}
		// A 429 may have come while this attempt waited for its slot. The slot then fell in the
		// pause: take a new one after it, or every worker whose slot fell in the pause would
		// start at the same instant when it ends, and draw 429s again.
		p.mu.Lock()
		now, paused := p.now(), p.notBefore
		p.mu.Unlock()
		if !now.Before(paused) {
			return now, nil
		}
	}
}

// spacingMargin stretches every interval a little: pacing at exactly the server's limit would
// turn any jitter between here and the server into a 429, and a 429 costs a pause of at least a
// second for the whole pool. 1.5% keeps a run within 3% of N/R.
const spacingMargin = 0.015

// interval is the time between two slots at the current rate. p.mu is held.
func (p *Pacer) interval() time.Duration {
	return time.Duration(float64(time.Second) * (1 + spacingMargin) / p.rate)
}

// reserve takes the next slot: one interval after the previous one, but not before the pause
// ends, and not more than burst-1 intervals in the past (what an idle bucket has saved up).
func (p *Pacer) reserve() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.max == 0 {
		return now
	}
	interval := p.interval()
	slot := p.next
	if saved := now.Add(-time.Duration(p.burst-1) * interval); slot.Before(saved) {
		slot = saved
	}
	if slot.Before(p.notBefore) {
		slot = p.notBefore
	}
	p.next = slot.Add(interval)
	return slot
}

func (p *Pacer) pause(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := p.notBefore.Sub(p.now())
		p.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Throttled records a 429 for an attempt that started at sent. Every worker waits out retryAfter
// (one second when the server gave none). The rate is cut once per round trip: a 429 for an
// attempt sent before the last cut says nothing about the new rate.
func (p *Pacer) Throttled(sent time.Time, retryAfter time.Duration) {
	if p == nil {
		return
	}
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttled++
	now := p.now()
	if nb := now.Add(retryAfter); nb.After(p.notBefore) {
		p.notBefore = nb
	}
	if p.max == 0 || !sent.After(p.lastCut) {
		return
	}
	cur := p.rate
	// Near the last ceiling the server's limit is close by: a small cut keeps the rate near it,
	// and the pause has already taken the pressure off (0.92 measured better than 0.85: fewer
	// requests lost below the limit for the same number of 429s).
	next := cur * 0.92
	if p.ceiling == 0 || cur > p.ceiling*1.1 {
		next = cur / 2 // far above anything known to pass: halve
	}
	if next < Floor {
		next = Floor
	}
	p.ceiling = cur
	p.lastCut = now
	p.rate = next
}

// Succeeded records a 2xx: the rate climbs back towards the configured one, quickly while far
// from the last ceiling and slowly near it.
func (p *Pacer) Succeeded() {
	if p == nil || p.max == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.rate
	if cur >= p.max {
		return
	}
	step := p.max / 100
	if p.ceiling > 0 && cur >= p.ceiling*0.95 && cur <= p.ceiling*1.05 {
		// Near where the last 429 came: probe slowly, since every 429 pauses the whole pool
		// for its Retry-After (whole seconds, so many slots at a high rate).
		step = p.ceiling / 5000
	}
	if step < Floor/10 {
		step = Floor / 10
	}
	p.rate = min(cur+step, p.max)
}

// Rate is the current rate in requests per second; 0 when unlimited.
func (p *Pacer) Rate() float64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// Throttles is the number of 429 answers recorded.
func (p *Pacer) Throttles() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.throttled
}
