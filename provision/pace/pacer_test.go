package pace_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// starts runs workers that each wait n times on p and returns every start, in order.
func starts(t *testing.T, p *pace.Pacer, workers, n int) []time.Time {
	t.Helper()
	var mu sync.Mutex
	var all []time.Time
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range n {
				at, err := p.Wait(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, at)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	return all
}

func TestPacerSpacing(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{1, 20, 100} {
		t.Run(time.Duration(float64(time.Second)/rate).String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				all := starts(t, pace.NewWithPolicy(pace.Fixed(rate), 1), 4, 25)
				interval := time.Duration(float64(time.Second) / rate)
				for i := 1; i < len(all); i++ {
					if gap := all[i].Sub(all[i-1]); gap < interval {
						t.Fatalf("starts %d and %d are %v apart, want at least %v", i-1, i, gap, interval)
					}
				}
				if span, want := all[len(all)-1].Sub(all[0]), 99*interval; span > want+want/100 {
					t.Errorf("100 starts over %v, want %v", span, want)
				}
			})
		})
	}
}

// A burst of n lets n attempts start at once after an idle spell, and no more.
func TestPacerBurst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pace.NewWithPolicy(pace.Fixed(10), 3)
		time.Sleep(time.Minute)
		all := starts(t, p, 5, 1)
		at := make([]time.Duration, len(all))
		for i := range all {
			at[i] = all[i].Sub(all[0])
		}
		want := []time.Duration{0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
		if !slices.Equal(at, want) {
			t.Errorf("starts at %v, want %v", at, want)
		}
	})
}

func TestPacerPausesEveryWorker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		policy     pace.Policy
		retryAfter time.Duration
		pause      time.Duration
		spread     bool // the starts after the pause are spaced, not all at its end
	}{
		{"fixed rate 0, Retry-After", pace.Fixed(0), 30 * time.Second, 30 * time.Second, false},
		{"fixed rate 0, no Retry-After", pace.Fixed(0), 0, time.Second, false},
		{"finder rate 0, Retry-After", pace.NewFinder(0), 30 * time.Second, 30 * time.Second, true},
		{"finder rate 20, Retry-After", pace.NewFinder(20), 2 * time.Second, 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := pace.NewWithPolicy(tt.policy, 1)
				sent, _ := p.Wait(context.Background())
				p.Observe(provision.Answer{Sent: sent, Action: provision.Throttled, HTTPStatus: 429, RetryAfter: tt.retryAfter})
				start := time.Now()
				all := starts(t, p, 8, 1)
				if d := all[0].Sub(start); d < tt.pause {
					t.Errorf("the first attempt started %v after the 429, before the pause of %v", d, tt.pause)
				}
				for i := 1; i < len(all); i++ {
					if gap := all[i].Sub(all[i-1]); tt.spread && gap < time.Millisecond {
						t.Errorf("attempts %d and %d started %v apart after the pause, want them spaced", i-1, i, gap)
					}
				}
			})
		})
	}
}

// A 429 that comes while workers wait for their slots moves them after the pause.
func TestPacerPauseWhileWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pace.NewWithPolicy(pace.Fixed(10), 1)
		first, _ := p.Wait(context.Background())
		done := make(chan []time.Time)
		go func() { done <- starts(t, p, 3, 1) }()
		time.Sleep(50 * time.Millisecond) // the three wait for slots at 100, 200 and 300 ms
		p.Observe(provision.Answer{Sent: first, Action: provision.Throttled, HTTPStatus: 429, RetryAfter: time.Second})
		all := <-done
		if d := all[0].Sub(first); d < 1050*time.Millisecond {
			t.Errorf("an attempt started %v after the first, inside the pause", d)
		}
		for i := 1; i < len(all); i++ {
			if gap := all[i].Sub(all[i-1]); gap < 100*time.Millisecond {
				t.Errorf("attempts %d and %d started %v apart after the pause, want 100ms", i-1, i, gap)
			}
		}
	})
}

// probing is a Policy at a fixed rate that asks, after a 429, for a pause of one interval
// only: the Pacer then lets one attempt through and holds the others for its answer. A refused
// probe pauses for its own Retry-After, or not at all with short set.
type probing struct {
	rate  float64
	short bool
}

func (p probing) Rate(time.Time) float64 { return p.rate }

func (probing) InFlight(time.Time) (int, time.Time) { return 0, time.Time{} }

func (p probing) Observe(_ time.Time, o pace.Outcome) time.Duration {
	switch {
	case o.Action != provision.Throttled:
		return 0
	case o.Probe && p.short:
		return 0
	case o.Probe:
		return o.RetryAfter
	}
	return time.Duration(float64(time.Second) / p.rate)
}

// A pause shorter than the Retry-After lets one attempt through; the others wait for its
// answer, and when it is refused too, for as long as the policy says and at least the whole
// Retry-After. After a refused probe, a 429 pauses for its whole Retry-After until the server
// accepts again.
func TestPacerProbe(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		ok    bool
		short bool          // the policy asks for no pause after a refused probe
		want  time.Duration // when the attempt after the probe's answer starts
	}{
		{"accepted", true, false, 250 * time.Millisecond},             // at the answer
		{"refused", false, false, 1250 * time.Millisecond},            // the probe's own Retry-After
		{"refused, policy pauses less", false, true, 1 * time.Second}, // the first Retry-After's end
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := pace.NewWithPolicy(probing{rate: 20, short: c.short}, 1)
				begin := time.Now()
				sent, _ := p.Wait(context.Background())
				p.Observe(provision.Answer{Sent: sent, Action: provision.Throttled, HTTPStatus: 429, RetryAfter: time.Second})
				probe, _ := p.Wait(context.Background())
				if d := probe.Sub(begin); d != 50*time.Millisecond {
					t.Fatalf("the probe started at %v, want one interval after the 429, 50ms", d)
				}
				done := make(chan []time.Time)
				go func() { done <- starts(t, p, 2, 1) }()
				time.Sleep(200 * time.Millisecond) // the probe's answer takes 200 ms
				answer := provision.Answer{Sent: probe, Action: provision.Done, HTTPStatus: 200}
				if !c.ok {
					answer.Action, answer.HTTPStatus, answer.RetryAfter = provision.Throttled, 429, time.Second
				}
				p.Observe(answer)
				all := <-done
				if d := all[0].Sub(begin); d != c.want {
					t.Errorf("after the probe's answer, the next attempt started at %v, want %v", d, c.want)
				}
				if c.ok {
					return
				}
				// No probe until the server accepts again: the whole Retry-After.
				p.Observe(provision.Answer{Sent: all[1], Action: provision.Throttled, HTTPStatus: 429, RetryAfter: time.Second})
				at := time.Now()
				next, _ := p.Wait(context.Background())
				if d := next.Sub(at); d < time.Second {
					t.Errorf("after a refused probe, a 429 paused the pool %v, want its Retry-After, 1s", d)
				}
			})
		})
	}
}

func TestPacerWaitStopsWithContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pace.NewWithPolicy(pace.Fixed(0.001), 1)
		if _, err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		errs := make(chan error, 2)
		for range 2 { // one waits for the slot, one for the first
			go func() {
				_, err := p.Wait(ctx)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err == nil {
				t.Error("Wait returned no error when its context ended before the slot")
			}
		}
	})
}

// A caller that is not HTTP reports a server's "slow down" as provision.Throttled: the Pacer
// pauses for the wait it named, and the attempts after are spaced wider than before.
func TestPacerSlowDownFromAnotherProtocol(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pace.New(5, 1)
		var at []time.Time
		for range 30 {
			sent, _ := p.Wait(context.Background())
			p.Observe(provision.Answer{Sent: sent, Action: provision.Done})
			at = append(at, sent)
		}
		before := at[len(at)-1].Sub(at[len(at)-2])
		sent, _ := p.Wait(context.Background())
		p.Observe(provision.Answer{Sent: sent, Action: provision.Throttled, RetryAfter: 30 * time.Second})
		first, _ := p.Wait(context.Background())
		p.Observe(provision.Answer{Sent: first, Action: provision.Done})
		second, _ := p.Wait(context.Background())
		if first.Sub(sent) < 30*time.Second {
			t.Errorf("the next attempt %v after the slow-down, want the 30 s it named", first.Sub(sent))
		}
		if after := second.Sub(first); after <= before {
			t.Errorf("attempts %v apart after the slow-down, %v before: want wider", after, before)
		}
	})
}
