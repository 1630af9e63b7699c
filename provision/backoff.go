package provision

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter: a random wait in [0, min(Max, Base·2^(n-1))).
// The zero value uses a base of 500 ms and a cap of 60 s.
type Backoff struct {
	Base, Max time.Duration
}

// Wait returns the wait before attempt n+1 after n failed attempts, at least floor (the
// server's Retry-After).
func (b Backoff) Wait(n int, floor time.Duration) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = 60 * time.Second
	}
	ceil := max
	if n < 30 {
		if d := base << (n - 1); d > 0 && d < max {
			ceil = d
		}
	}
	d := rand.N(ceil)
	if d < floor {
		d = floor
	}
	return d
}

// Sleep waits for d or until ctx is done, whichever comes first: the one wait of both
// commands' retries.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
