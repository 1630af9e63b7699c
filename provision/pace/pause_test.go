package pace_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// PausedUntil says how long the Pacer holds every attempt after a 429, with or without a
// Retry-After, so that the progress bar can say the run waits and for how long.
func TestPacerPausedUntil(t *testing.T) {
	t.Parallel()
	for _, ra := range []time.Duration{0, 30 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			p := pace.NewWithPolicy(pace.Fixed(0), 1)
			if !p.PausedUntil().IsZero() {
				t.Fatalf("PausedUntil = %v before any 429", p.PausedUntil())
			}
			sent, _ := p.Wait(context.Background())
			p.Observe(provision.Answer{Sent: sent, Action: provision.Throttled, HTTPStatus: 429, RetryAfter: ra})
			want := max(ra, time.Second) // Fixed pauses a second without a Retry-After
			if got := time.Until(p.PausedUntil()); got != want {
				t.Errorf("Retry-After %v: paused for %v, want %v", ra, got, want)
			}
			next, _ := p.Wait(context.Background())
			if !next.Equal(p.PausedUntil()) && next.Before(p.PausedUntil()) {
				t.Errorf("Retry-After %v: an attempt started at %v, before the pause's end %v", ra, next, p.PausedUntil())
			}
		})
	}
}
