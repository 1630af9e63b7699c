package provision

import "time"

// notePause records that the server asked, at now, for a pause of d (its Retry-After), so that
// the progress bar can say so while the run waits; not with a Pacer that can say when its own
// pause ends (see pausing), which is then the one record of it.
func (p *Pool) notePause(now time.Time, d time.Duration) {
	if _, ok := p.Pacer.(pausing); ok || d <= 0 {
		return
	}
	until := now.Add(d).UnixNano()
	for {
		old := p.pausedUntil.Load()
		if old >= until || p.pausedUntil.CompareAndSwap(old, until) {
			return
		}
	}
}

// PausedUntil is when the last pause the server asked for ends: the pause the Pacer holds
// every attempt for, when it can say (see pausing), with or without a Retry-After; else the
// latest end of a 429's Retry-After. The zero time when none was asked. It is safe to call
// while the pool runs.
func (p *Pool) PausedUntil() time.Time {
	if pp, ok := p.Pacer.(pausing); ok {
		return pp.PausedUntil()
	}
	if n := p.pausedUntil.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// pausing is a Pacer that can say when the pause it holds every attempt for ends: a 429's
// Retry-After at least, or the probe ahead of it while that is out.
type pausing interface {
	PausedUntil() time.Time
}
