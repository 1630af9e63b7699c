package pace

import "time"

// The planning of pauses: how long a 429 without Retry-After pauses the pool, and when the pool
// probes ahead of a Retry-After. The Pacer holds every attempt for the pause; a probe is one
// attempt let through before the Retry-After ends.

// reopening is the probe after a window's first Retry-After of a few seconds. Rounded up to a
// whole second, the Retry-After is a large part of so short a window, and an estimate of the
// limit that takes the wait as too long is never corrected: a window never refuses a rate
// below its own: a pool that spent the rest of one window and the next one's quota is told
// 3 s for a reopening 2.0-2.4 s away. The probe
// comes reopenProbe after the earliest moment the window can reopen, and the estimate takes
// it to reopen at that earliest moment; a refused probe says it reopens later in that second,
// and the estimate is taken again with the middle of the rest of it. A window of a second
// (a Retry-After of 1 s once a probe was refused) whose quota went in less than a second is
// probed too, when it can have reopened: see readSpentWindow.
type reopening struct {
	retryAfter time.Duration // the window's Retry-After; 0 when no such probe is asked for
	probe, end time.Time     // when the probe may start, and when the Retry-After ends
	accepted   float64       // what the window accepted before the 429
	span       float64       // over how many seconds
}

// sawRetryAfter is what a 429's Retry-After shows, whatever the reading: a new 429 ends the
// window's probe; a Retry-After of 2 s or more shows a window, and the first one of a few
// seconds, after many acceptances, is probed soon after the window can have reopened.
func (d *decision) sawRetryAfter(now time.Time, o Outcome) {
	if !o.Probe && o.Sent.After(d.curve.lastCut) {
		d.reopening = reopening{} // a new 429: the probe is not the window's any more
	}
	if o.RetryAfter >= 2*time.Second {
		if !d.server.windowed && o.RetryAfter >= minReopen && o.RetryAfter <= maxReopen &&
			d.count.accepted >= fewAccepted && o.Sent.After(d.curve.lastCut) {
			d.reopening = reopening{retryAfter: o.RetryAfter, end: now.Add(o.RetryAfter),
				probe: now.Add(o.RetryAfter - time.Second + reopenProbe)}
		}
		d.server.windowed = true
	}
}

// planPause is the pause a 429 asks for: its Retry-After, or without one the pause without
// Retry-After (nextNoRA), which echo, a 429 for an attempt sent before the latest cut, does not
// lengthen: the 429s of the attempts in flight with the one that set it say the same.
func (d *decision) planPause(o Outcome, echo bool) time.Duration {
	if o.RetryAfter > 0 {
		return o.RetryAfter
	}
	if !echo || d.noRA == 0 {
		d.noRA = d.nextNoRA(o)
	}
	return d.noRA
}

// nextNoRA is the pause after a 429 without Retry-After: twice the one before, with no success
// between, or firstNoRA if that is longer, up to maxNoRetryAfter.
func (d *decision) nextNoRA(o Outcome) time.Duration {
	return min(max(2*d.noRA, d.firstNoRA(o)), maxNoRetryAfter)
}

// firstNoRA is the pause after a 429 without Retry-After that opens the run or follows a
// success: noRetryAfter, a guess, for a server that may be a window, refusing until it
// reopens, which would answer shorter pauses with 429s. Shorter from what looks like a bucket:
// one that refused a step above the rate it accepted (this attempt, or one before) needs one
// interval at the rate accepted before its next token; one that refused the run's first
// attempts (fewer than fewAccepted, less than most windows' quota) is given one interval at
// the rate the pool starts again from, half the rate refused and StartRate at most, as a
// Retry-After of a second would be probed. A window with a smaller quota, or one spent before
// the run began, costs one more 429 for it.
func (d *decision) firstNoRA(o Outcome) time.Duration {
	if d.count.lastOK > 0 && (d.server.stepped || d.crossed(o.Sent)) {
		return d.curve.intervalAt(d.count.lastOK)
	}
	if d.curve.hi == 0 && d.count.accepted < fewAccepted {
		return d.curve.intervalAt(guessRate(d.curve.spacing(o.Sent)))
	}
	return noRetryAfter
}

// crossed reports whether an attempt sent at t and refused was a step above the rate of the
// latest acceptance: a growth (from nothing, or after a guess) crossing a bucket's rate, most
// likely, though a window whose quota runs out as the rate grows looks the same.
func (d *decision) crossed(t time.Time) bool {
	return d.count.accepted >= 2 && d.curve.spacing(t) > d.count.lastOK*1.05
}

// probeAfter is how long the pool waits from now, a 429's arrival, before it probes, ahead of
// its Retry-After ra; 0 for no probe. A window's first Retry-After of a few seconds, and a
// window of a second spent, are probed (see reopening), even after a refused probe: that one
// came half-way through a Retry-After of
// a second, this one comes early in the last second of a longer one. Otherwise only a
// Retry-After of a second is probed, the least a server can say in whole seconds, and only
// until the server refuses a probe. From a bucket it is most often one interval of its limit
// rounded up: the probe comes one interval at the new rate. From a window, it is when the
// window reopens, anywhere in that second: the probe comes half-way, and costs one 429 when
// the reopening is later.
func (d *decision) probeAfter(now time.Time, ra time.Duration) time.Duration {
	switch {
	case d.reopening.retryAfter > 0:
		// Also for a late 429, for an attempt sent before the window's: the probe stays.
		return d.reopening.probe.Sub(now)
	case ra <= 0 || ra > time.Second || d.server.noProbes:
		return 0
	case d.server.windowed:
		return ra / 2
	case d.spent.est > 0:
		// Long enough for a token of a bucket at the burst's estimate, in case that was it.
		return d.curve.intervalAt(d.spent.est)
	}
	return d.curve.interval()
}

// probed is the pause a 429 asks for, pause, shortened when the pool probes ahead of it.
func (d *decision) probed(now time.Time, o Outcome, pause time.Duration) time.Duration {
	if p := d.probeAfter(now, o.RetryAfter); p > 0 {
		return min(pause, p)
	}
	return pause
}
