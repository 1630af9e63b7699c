package pace

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// A start late by more than the slack moves the next one: two starts are never closer than
// (1 - gapSlack) intervals, however late the first, and the schedule catches up after it.
func TestPacerKeepsGapAfterLateStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := NewWithPolicy(Fixed(20), 1)
		p.throttles = 1 // the gaps are kept once the server has answered 429
		first, _ := p.Wait(context.Background())
		// The attempt of the first slot started 40 ms late (its worker's timer fired late).
		p.mu.Lock()
		p.last = first.Add(40 * time.Millisecond)
		p.mu.Unlock()
		time.Sleep(40 * time.Millisecond)
		next, _ := p.Wait(context.Background())
		if gap, want := next.Sub(first.Add(40*time.Millisecond)), 49500*time.Microsecond; gap != want {
			t.Errorf("the next attempt started %v after the late one, want %v (1%% short of an interval)", gap, want)
		}
		// The starts after it catch up with the schedule, gapSlack of an interval a slot, and
		// then keep to it: the lateness is not carried to the end of the run.
		at := next
		for range 200 {
			at, _ = p.Wait(context.Background())
		}
		if want := first.Add(201 * 50 * time.Millisecond); !at.Equal(want) {
			t.Errorf("the 202nd slot is %v after the first, want %v", at.Sub(first), want.Sub(first))
		}
	})
}

// recorder is a Policy at a fixed rate that records what it hears.
type recorder struct {
	Fixed
	heard []Outcome
}

func (r *recorder) Observe(now time.Time, o Outcome) time.Duration {
	r.heard = append(r.heard, o)
	return r.Fixed.Observe(now, o)
}

// Every answer reaches the policy with the gap the schedule left before its attempt.
func TestPacerGap(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{Fixed: 10}
		p := NewWithPolicy(r, 1)
		first, _ := p.Wait(context.Background())
		second, _ := p.Wait(context.Background())
		time.Sleep(time.Second)
		third, _ := p.Wait(context.Background())
		for _, at := range []time.Time{third, first, second, first.Add(-time.Hour)} {
			p.Observe(provision.Answer{Sent: at, Action: provision.Done})
		}
		var gaps []time.Duration
		for _, o := range r.heard {
			gaps = append(gaps, o.Gap)
		}
		want := []time.Duration{time.Second, 0, 100 * time.Millisecond, 0}
		if !slices.Equal(gaps, want) {
			t.Errorf("gaps %v, want %v", gaps, want)
		}
	})
}

// At the default --rate 1, a strict server at exactly 60 a minute (a token bucket of one a
// second, burst 1) never refuses: a start late by its timer is not followed by one on time,
// from the first attempt on, before any 429. Each start is at least a second after the actual
// one before it.
func TestPacerDefaultRateAtSixtyAMinute(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := New(1, 1)
		lim := provisiontest.NewLimiter(provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: 1, Burst: 1})
		prev := time.Time{}
		for i := range 20 {
			at, err := p.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				// This attempt's worker woke late: it starts 300 ms after its slot.
				late := 300 * time.Millisecond
				time.Sleep(late)
				at = at.Add(late)
				p.mu.Lock()
				p.last = at
				p.mu.Unlock()
			}
			if !prev.IsZero() && at.Sub(prev) < time.Second {
				t.Errorf("start %d came %v after the one before, want a second at least", i, at.Sub(prev))
			}
			if ok, _ := lim.Admit(at); !ok {
				t.Errorf("start %d refused by a bucket of one a second", i)
			}
			p.Observe(provision.Answer{Sent: at, Action: provision.Done})
			prev = at
		}
	})
}

// The gap the Pacer keeps, (1 - gapSlack) intervals at the Finder's rate (margin under the rate
// found), is never shorter than an interval at the rate found.
func TestGapSlackWithinMargin(t *testing.T) {
	t.Parallel()
	if (1+margin)*(1-gapSlack) < 1 {
		t.Errorf("gapSlack %v eats more than the margin %v: starts may come closer than the rate", gapSlack, margin)
	}
}

// Before any 429, gaps are kept at intervals of keepGapsFrom (100 ms) and longer, not shorter.
func TestPacerKeepsGapsFrom(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		interval time.Duration
		kept     bool
	}{{100 * time.Millisecond, true}, {99 * time.Millisecond, false}} {
		synctest.Test(t, func(t *testing.T) {
			p := NewWithPolicy(Fixed(float64(time.Second)/float64(tt.interval)), 1)
			first, _ := p.Wait(context.Background())
			late := tt.interval / 2
			time.Sleep(late)
			p.mu.Lock()
			p.last = first.Add(late)
			p.mu.Unlock()
			next, _ := p.Wait(context.Background())
			if kept := next.Sub(first) > tt.interval+time.Microsecond; kept != tt.kept {
				t.Errorf("interval %v: the next start %v after the first; gap kept %v, want %v", tt.interval, next.Sub(first), kept, tt.kept)
			}
			if gap := next.Sub(first.Add(late)); tt.kept && gap != tt.interval {
				t.Errorf("interval %v: the next start %v after the late one, want a whole interval", tt.interval, gap)
			}
		})
	}
}

// bounded is a Policy without spacing that allows n attempts in flight.
type bounded struct {
	Fixed
	n int
}

func (b bounded) InFlight(time.Time) (int, time.Time) { return b.n, time.Time{} }

// A policy's bound on the attempts in flight holds: a Wait beyond it returns once an attempt
// is answered.
func TestPacerInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := NewWithPolicy(bounded{n: 2}, 1)
		ctx := context.Background()
		first, _ := p.Wait(ctx)
		p.Wait(ctx)
		started := make(chan time.Time)
		go func() {
			at, _ := p.Wait(ctx)
			started <- at
		}()
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case <-started:
			t.Fatal("a third attempt started with two in flight, bound 2")
		default:
		}
		p.Observe(provision.Answer{Sent: first, Action: provision.Done})
		if at := <-started; at.Sub(first) != time.Second {
			t.Errorf("the third attempt started %v after the first, want 1s, when it was answered", at.Sub(first))
		}
	})
}
