package provision

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Hooks for the external tests of this package (package provision_test), which drive the pool
// through provision/ideanote and so cannot live inside package provision.

// SetPoolSleep replaces the waits between a pool's attempts.
func SetPoolSleep(p *Pool, sleep func(context.Context, time.Duration) error) { p.sleep = sleep }

// FakeClock stands for time in the pool's backoff: Sleep records the wait and moves the clock on
// at once, so that a Retry-After of minutes costs a test nothing.
type FakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

// NewFakeClock returns a FakeClock at a fixed time.
func NewFakeClock() *FakeClock { return &FakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep records d and moves the clock on by it at once.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return ctx.Err()
}

// Sleeps returns the waits asked for so far, in order.
func (c *FakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}
