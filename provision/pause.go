package provision

import "time"

// notePause records that the server asked, at now, for a pause of d (its Retry-After), so that
// the progress bar can say so while the run waits.
func (p *Pool) notePause(now time.Time, d time.Duration) {
	if d <= 0 {
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

// PausedUntil is when the last pause the server asked for ends: a 429's Retry-After, or the
// pause the Pacer holds after a 429 without one (a Pacer that can say, see pausing); the zero
// time when none was asked. It is safe to call while the pool runs.
func (p *Pool) PausedUntil() time.Time {
	var until time.Time
	if n := p.pausedUntil.Load(); n != 0 {
		until = time.Unix(0, n)
	}
	if pp, ok := p.Pacer.(pausing); ok {
		if t := pp.PausedUntil(); t.After(until) {
			until = t
		}
	}
	return until
}

// pausing is a Pacer that can say when the pause it holds every attempt for ends.
type pausing interface {
	PausedUntil() time.Time
}
