package provision

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

func fakePacer(t *testing.T, perSecond float64) (*Pacer, *FakeClock) {
	t.Helper()
	c := NewFakeClock()
	p := NewPacer(perSecond, 1)
	p.now, p.sleep = c.Now, c.Sleep
	return p, c
}

func TestPacerCutsOncePerRoundTrip(t *testing.T) {
	p, c := fakePacer(t, 4)
	sent := c.Now()
	p.Throttled(sent, time.Second)
	first := p.Rate()
	if first > 2.01 || first < 1 {
		t.Fatalf("rate after the first 429 at 4/s = %.2f, want about half", first)
	}
	// Other attempts sent before the cut answer 429 too: they say nothing about the new rate.
	p.Throttled(sent, time.Second)
	p.Throttled(sent.Add(-time.Second), time.Second)
	if got := p.Rate(); got != first {
		t.Fatalf("rate %.2f after 429s for attempts sent before the cut, want %.2f", got, first)
	}
	c.Sleep(context.Background(), time.Second)
	p.Throttled(c.Now(), time.Second)
	if got := p.Rate(); got >= first || got < first/2 {
		t.Fatalf("rate %.2f after a 429 for an attempt sent after the cut, want below %.2f", got, first)
	}
	if n := p.Throttles(); n != 4 {
		t.Errorf("Throttles() = %d, want 4", n)
	}
}

func TestPacerRecoversUpToTheConfiguredRate(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		throttl int
	}{
		{"one 429", 4, 1},
		{"several 429s", 20, 3},
		{"down to the floor", 1, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := fakePacer(t, tt.rate)
			for range tt.throttl {
				c.Sleep(context.Background(), time.Second)
				p.Throttled(c.Now(), time.Second)
			}
			low := p.Rate()
			if low >= tt.rate || low < Floor {
				t.Fatalf("rate after %d 429s = %v, want in [%v, %v)", tt.throttl, low, Floor, tt.rate)
			}
			prev, steps := low, 0
			for p.Rate() < tt.rate && steps < 1_000_000 {
				p.Succeeded()
				steps++
				if r := p.Rate(); r < prev || r > tt.rate {
					t.Fatalf("rate went from %v to %v after a success (max %v)", prev, r, tt.rate)
				}
				prev = p.Rate()
			}
			if p.Rate() != tt.rate {
				t.Fatalf("rate %v after %d successes, want back to %v", p.Rate(), steps, tt.rate)
			}
			// Additive, not a jump: the climb takes many successes.
			if steps < 10 {
				t.Errorf("back to the configured rate after %d successes, want a gradual climb", steps)
			}
		})
	}
}

func TestPacerPausesEveryWorker(t *testing.T) {
	p, c := fakePacer(t, 0) // no rate limit: only the pause holds attempts back
	start := c.Now()
	p.Throttled(start, 30*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var starts []time.Time
	for range 4 {
		wg.Go(func() {
			at, err := p.Wait(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			starts = append(starts, at)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, at := range starts {
		if at.Sub(start) < 30*time.Second {
			t.Errorf("an attempt started %v after the 429, before its Retry-After of 30s", at.Sub(start))
		}
	}
	if p.Rate() != 0 {
		t.Errorf("an unlimited pacer has rate %v", p.Rate())
	}
}

func TestPacerPauseWithoutRetryAfter(t *testing.T) {
	p, c := fakePacer(t, 0)
	start := c.Now()
	p.Throttled(start, 0)
	at, err := p.Wait(context.Background())
	if err != nil || at.Sub(start) < time.Second {
		t.Fatalf("Wait = %v, %v; want a pause of a second when the 429 gave no Retry-After", at.Sub(start), err)
	}
}

func TestPacerWaitStopsWithContext(t *testing.T) {
	p := NewPacer(0.001, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.Wait(ctx); err != nil { // the burst
		t.Fatal(err)
	}
	cancel()
	if _, err := p.Wait(ctx); err == nil {
		t.Fatal("Wait on a done context returned no error")
	}
	var nilPacer *Pacer
	if _, err := nilPacer.Wait(context.Background()); err != nil {
		t.Fatalf("nil pacer: %v", err)
	}
	nilPacer.Throttled(time.Now(), time.Second)
	nilPacer.Succeeded()
}

// When a 429 comes while workers hold tokens inside the pause, they must not all start together
// when it ends: that burst would draw the next 429s.
func TestPacerKeepsSpacingAfterAPause(t *testing.T) {
	p := NewPacer(10, 1)
	ctx := context.Background()
	if _, err := p.Wait(ctx); err != nil { // use the burst
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var starts []time.Time
	for range 3 {
		wg.Go(func() {
			at, err := p.Wait(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			starts = append(starts, at)
			mu.Unlock()
		})
	}
	time.Sleep(20 * time.Millisecond) // let the three take their tokens, 100 ms apart
	p.Throttled(time.Now(), 250*time.Millisecond)
	wg.Wait()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 80*time.Millisecond {
			t.Errorf("attempts %d and %d started %v apart after the pause, want the pacer's spacing", i-1, i, gap)
		}
	}
}

// Changing the rate while slots are handed out must never put two attempts closer together
// than the rate at the earlier one's reservation allows (a rate.Limiter did, and drew 429s).
func TestPacerSpacingSurvivesRateChanges(t *testing.T) {
	p, c := fakePacer(t, 10)
	prev, prevRate := p.reserve(), p.Rate()
	for i := range 200 {
		switch {
		case i%50 == 10:
			p.Throttled(c.Now().Add(time.Nanosecond), 0)
			c.Sleep(context.Background(), time.Nanosecond)
		case i%3 == 0:
			c.Sleep(context.Background(), 30*time.Millisecond) // workers take slots ahead of time
		default:
			for range 20 {
				p.Succeeded()
			}
		}
		slot := p.reserve()
		if gap, min := slot.Sub(prev), time.Duration(float64(time.Second)/prevRate); gap < min-time.Microsecond {
			t.Fatalf("slot %d: %v after the previous one, reserved at %.2f/s; want at least %v", i, gap, prevRate, min)
		}
		prev, prevRate = slot, p.Rate()
	}
}

// Slots are a little wider than 1/rate, never narrower, and not so wide that a run at the
// server's limit loses more than its 3% (issue 5's pacing goal).
func TestPacerMargin(t *testing.T) {
	for _, rate := range []float64{1, 20, 100} {
		p, _ := fakePacer(t, rate)
		first := p.reserve()
		var last time.Time
		for range 100 {
			last = p.reserve()
		}
		per := last.Sub(first) / 100
		exact := time.Duration(float64(time.Second) / rate)
		if per < exact || per > exact*102/100 {
			t.Errorf("rate %v: slots %v apart, want between %v and 2%% more", rate, per, exact)
		}
	}
}
