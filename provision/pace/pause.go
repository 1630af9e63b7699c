package pace

import "time"

// PausedUntil is when the pause the Pacer holds every attempt for ends (after a 429, with or
// without a Retry-After); the zero time, or a time past, when none is on. It is safe to call
// while attempts run: the progress bar asks it every second.
func (p *Pacer) PausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notBefore
}
