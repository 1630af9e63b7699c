package provision

import (
	"context"
	"slices"
	"sync"
	"time"
)

// FakeClock stands for time in the pool's backoff: Sleep records the wait and moves the clock on
// at once, so that a Retry-After of minutes costs a test nothing.
type FakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func NewFakeClock() *FakeClock { return &FakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return ctx.Err()
}

func (c *FakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}
