package pace

import (
	"math"
	"time"
)

// curve is the rate a Finder sets, as a function of time: rate at since, growing exponentially
// at growth, under a ceiling (the configured rate, the limit rate-limit headers state, just
// under the rate that drew the latest 429), and no spacing at all during the fast start.
// Attempts are spaced margin wider. The estimators conclude a new one from a 429.
type curve struct {
	max     float64   // the configured rate, +Inf when none
	rate    float64   // the rate at since, before the margin
	since   time.Time // zero until the first call
	growth  float64   // per second, exponential, from since
	hi      float64   // the rate that drew the latest 429; 0 before any
	lastCut time.Time // when the rate was last cut: 429s for attempts sent before say nothing new
	quota   float64   // the limit the server's rate-limit headers state; 0 when none
	margin  float64   // spacing beyond the rate found
	fast    bool      // no configured rate: the fast start is on until fastEnd
	fastEnd time.Time // the end of the fast start (its first 429, or headers); zero while on
	busy    bool      // hi was set while the server was busy, by a reading that measured nothing (see lift)
	lifted  float64   // the ceiling the latest lift removed, until the next cut; 0 when none
}

// at is the rate at t, before the margin.
func (c curve) at(t time.Time) float64 {
	if c.fastAt(t) {
		return maxRate
	}
	return max(min(c.grown(t), c.ceiling(t)), Floor)
}

// fastAt reports whether the fast start was on at t.
func (c curve) fastAt(t time.Time) bool {
	return c.fast && (c.fastEnd.IsZero() || t.Before(c.fastEnd))
}

// endFast is c with the fast start ended at now: the rate grows from StartRate unless a cut
// sets it.
func (c curve) endFast(now time.Time) curve {
	if c.fast && c.fastEnd.IsZero() {
		c.fastEnd, c.rate, c.since = now, StartRate, now
	}
	return c
}

// grown is the rate at t before any ceiling: the rate set, grown since.
func (c curve) grown(t time.Time) float64 {
	return c.rate * math.Exp(c.growth*max(t.Sub(c.since).Seconds(), 0))
}

// ceiling is the most the rate may be at t: the configured rate, the limit stated by headers,
// and just under the rate that drew the last 429 (but for a slow probe beyond it).
func (c curve) ceiling(t time.Time) float64 {
	ceil := min(c.max, maxRate)
	if c.quota > 0 {
		ceil = min(ceil, c.quota)
	}
	if c.hi > 0 {
		ceil = min(ceil, c.hi*(1-margin)*math.Exp(probeGrowth*max(t.Sub(c.lastCut).Seconds(), 0)))
	}
	return ceil
}

// ramping reports whether the rate was still growing from nothing at t.
func (c curve) ramping(t time.Time) bool {
	return c.growth >= fineGrowth && c.grown(t) < c.ceiling(t)
}

// intervalAt is the interval between attempts at rate, with the margin.
func (c curve) intervalAt(rate float64) time.Duration {
	return time.Duration(float64(time.Second) * (1 + c.margin) / rate)
}

// interval is the interval between attempts at the rate set, once a pause is over.
func (c curve) interval() time.Duration {
	return c.intervalAt(c.at(c.since))
}

// spacing is the rate that spaced an attempt started at t from the one before it. The interval
// before a slot is set when the worker begins to wait for it, one interval earlier: while the
// rate grows, the rate at t itself is higher than the one that spaced the attempt.
func (c curve) spacing(t time.Time) float64 {
	r := c.at(t)
	return c.at(t.Add(-c.intervalAt(r)))
}
