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

// While the probe ahead of a Retry-After is due or out, every other attempt waits for the
// Retry-After's end unless the probe is accepted: that is the pause, until the probe's answer.
func TestPacerPausedUntilWithAProbe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pace.NewWithPolicy(probing{rate: 20}, 1)
		begin := time.Now()
		sent, _ := p.Wait(context.Background())
		p.Observe(provision.Answer{Sent: sent, Action: provision.Throttled, HTTPStatus: 429, RetryAfter: time.Second})
		probe, _ := p.Wait(context.Background())
		if got, want := p.PausedUntil(), begin.Add(time.Second); !got.Equal(want) {
			t.Errorf("PausedUntil %v with the probe out, want the Retry-After's end, %v", got.Sub(begin), want.Sub(begin))
		}
		p.Observe(provision.Answer{Sent: probe, Action: provision.Done, HTTPStatus: 200})
		if got := p.PausedUntil(); got.After(time.Now()) {
			t.Errorf("PausedUntil %v after the probe was accepted, want no pause", got.Sub(begin))
		}
	})
}
