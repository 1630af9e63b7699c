package provision_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// The pool's PausedUntil, which the progress bar shows, covers the pause the Pacer holds after
// a 429 without Retry-After: nginx and HAProxy send none, and the bar said nothing while the
// run waited.
func TestPoolPausedUntilAsksThePacer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		pacer := pace.NewWithPolicy(pace.Fixed(0), 1)
		p := &provision.Pool{Pacer: pacer}
		if !p.PausedUntil().IsZero() {
			t.Fatalf("PausedUntil = %v before any 429", p.PausedUntil())
		}
		sent, _ := pacer.Wait(context.Background())
		pacer.Observe(provision.Answer{Sent: sent, Action: provision.Throttled, HTTPStatus: 429})
		if left := time.Until(p.PausedUntil()); left <= 0 {
			t.Errorf("the pool's pause has %v left after a 429 without Retry-After, want the Pacer's", left)
		}
	})
}

// With a Pacer that can say, the pool's PausedUntil is the Pacer's alone: a 429's Retry-After
// while the probe ahead of it is out, and no pause once the probe is accepted and the pool goes
// on, though the refused row still waits out its Retry-After.
func TestPoolPausedUntilEndsWithTheProbe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := &provision.Pool{
			Endpoint:    &scriptedEndpoint{accept: func(n int) bool { return n > 1 }, retryAfter: time.Second},
			Pacer:       pace.New(20, 1), // probes one interval after a Retry-After of a second
			Concurrency: 2,
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := runPool(t, context.Background(), p, testRows(20))
			done <- err
		}()
		time.Sleep(50 * time.Millisecond) // the first row refused, the probe not yet sent
		if got, want := p.PausedUntil(), start.Add(time.Second); !got.Equal(want) {
			t.Errorf("PausedUntil %v after the 429, want the Retry-After's end %v", got.Sub(start), want.Sub(start))
		}
		time.Sleep(450 * time.Millisecond) // the probe accepted: the pool goes on
		if left := time.Until(p.PausedUntil()); left > 0 {
			t.Errorf("PausedUntil %v ahead once the probe was accepted, want no pause", left)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
