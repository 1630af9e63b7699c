package pace

import "time"

// PausedUntil is when the pause the Pacer holds every attempt for ends (after a 429, with or
// without a Retry-After): while a probe ahead of a Retry-After is due or unanswered, the other
// attempts wait for that Retry-After's end unless the probe is accepted, and it is the end.
// The zero time, or a time past, when none is on. It is safe to call while attempts run: the
// progress bar asks it every second.
func (p *Pacer) PausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probe.until.After(p.notBefore) {
		return p.probe.until
	}
	return p.notBefore
}
