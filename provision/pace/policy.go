package pace

import (
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Policy sets the rate of a Pacer from the answers: the rate-control algorithm, apart from the
// schedule that applies it, so that one can be replaced and measured against another. A Pacer
// calls it from one goroutine at a time.
type Policy interface {
	// Rate is the rate to space attempts at, at now, in attempts a second; 0 for no spacing.
	Rate(now time.Time) float64
	// Observe hears the answer to an attempt, at now, and returns how long every attempt
	// waits from now. A pause shorter than a 429's Retry-After ends with a probe: one attempt,
	// the others waiting for its answer; while a probe was refused since the latest acceptance,
	// the Pacer makes the pause the whole Retry-After. The pause for a refused probe lasts at
	// least until the end of the Retry-After that began it: whether the probe's own, later,
	// is waited out too is the policy's to say.
	Observe(now time.Time, o Outcome) time.Duration
	// InFlight is the most attempts that may be in flight at now, started and not yet
	// answered (0 for no bound), and until when that bound holds unless an answer comes
	// first (zero: until an answer).
	InFlight(now time.Time) (n int, until time.Time)
}

// Outcome is an answer as a Policy hears it: the pool's Answer, and how the schedule had
// spaced the attempt.
type Outcome struct {
	provision.Answer
	// Gap is the time from the start of the attempt before to this one's; 0 when unknown. A
	// 429 for an attempt that followed the one before closer than the rate allows (that one
	// started late) says the server is strict, not that the rate is too high.
	Gap time.Duration
	// Probe is set for the answer to the attempt let through a pause shorter than a
	// Retry-After: a 429 for it says that the pause was too short, not the rate too high.
	Probe bool
}

// Fixed is the Policy of a constant rate, in attempts a second (0: no spacing), that learns
// nothing: a 429 pauses the pool for its Retry-After, or a second without one, and never probes. It is the
// baseline the Finder is measured against.
type Fixed float64

// Rate returns f.
func (f Fixed) Rate(time.Time) float64 { return float64(f) }

// InFlight returns 0: no bound.
func (Fixed) InFlight(time.Time) (int, time.Time) { return 0, time.Time{} }

// Observe pauses a 429's Retry-After, or a second without one.
func (f Fixed) Observe(_ time.Time, o Outcome) time.Duration {
	if o.Action != provision.Throttled {
		return 0
	}
	if o.RetryAfter <= 0 {
		return time.Second
	}
	return o.RetryAfter
}
