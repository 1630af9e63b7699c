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

// PausedUntil is when the last pause the server asked for (a 429's Retry-After) ends; the zero
// time when none was asked. It is safe to call while the pool runs.
func (p *Pool) PausedUntil() time.Time {
	if n := p.pausedUntil.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}
