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
