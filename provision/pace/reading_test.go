package pace

import (
	"math"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Every reading of a 429 is its own case: from a Finder set up for it, a 429 is read as that
// reading, and the decision says what the reading concludes. Deciding reads the Finder only.
func TestReadings(t *testing.T) {
	t.Parallel()
	now := t0.Add(2 * time.Second)
	sent := now.Add(-2 * time.Millisecond)
	throttled := func(ra time.Duration) Outcome {
		return Outcome{Answer: provision.Answer{Sent: sent, Action: provision.Throttled, RetryAfter: ra}}
	}
	// at20 is a Finder configured at 20 a second, since t0, the latest cut a while before.
	at20 := func() *Finder {
		f := NewFinder(20)
		f.curve.since, f.count.epoch = t0, t0
		f.curve.hi, f.curve.lastCut, f.curve.growth = 21, t0.Add(-time.Second), climbGrowth
		return f
	}
	// ramp is a Finder growing from nothing at rampGrowth from 10 a second half a second ago,
	// counting since t0.
	ramp := func() *Finder {
		f := NewFinder(100)
		f.curve.rate, f.curve.growth, f.curve.since, f.count.epoch = 10, rampGrowth, now.Add(-500*time.Millisecond), t0
		return f
	}
	near := func(t *testing.T, what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > math.Abs(want)*1e-9 {
			t.Errorf("%s %v, want %v", what, got, want)
		}
	}
	tested := map[reading]bool{}
	for _, tt := range []struct {
		reading reading
		setup   func() (*Finder, Outcome)
		check   func(t *testing.T, f *Finder, d decision)
	}{
		{readPauseTooShort, func() (*Finder, Outcome) {
			f := at20()
			f.curve.since, f.count.epoch = sent, sent // the attempt after the pause
			f.noRA, f.sums = 250*time.Millisecond, sums{accepted: 40, time: 2}
			return f, throttled(0)
		}, func(t *testing.T, f *Finder, d decision) {
			if d.pause != 500*time.Millisecond || d.noRA != d.pause {
				t.Errorf("pause %v, noRA %v; want 500ms, doubled", d.pause, d.noRA)
			}
			waited := now.Sub(f.curve.lastCut) + d.pause
			near(t, "rate", d.curve.rate, 40/(2+waited.Seconds()))
			if d.curve.growth != climbGrowth || !d.count.epoch.Equal(now.Add(d.pause)) {
				t.Errorf("growth %v, epoch %v; want a climb from the pause's end", d.curve.growth, d.count.epoch)
			}
		}},
		{readWindowProbeRefused, func() (*Finder, Outcome) {
			f := at20()
			f.reopening = reopening{retryAfter: 3 * time.Second, probe: sent, end: now.Add(600 * time.Millisecond), accepted: 60, span: 1.5}
			o := throttled(time.Second)
			o.Probe = true
			return f, o
		}, func(t *testing.T, f *Finder, d decision) {
			if d.pause != 600*time.Millisecond || d.reopening != (reopening{}) {
				t.Errorf("pause %v, reopening %+v; want the first Retry-After's end, 600ms, and no more", d.pause, d.reopening)
			}
			est := 60 / (1.5 + 2.7) // the reopening in the middle of the rest of the second
			near(t, "rate", d.curve.rate, est)
			near(t, "hi", d.curve.hi, est*(1+2*margin))
		}},
		{readBusy, func() (*Finder, Outcome) {
			f := at20()
			f.lastRA, f.busyPause = time.Second, 2*time.Second // a busy 429 before, its pause over
			o := throttled(time.Second)
			o.Gap = 2*time.Second + time.Millisecond // nothing sent since that pause began
			return f, o
		}, func(t *testing.T, f *Finder, d decision) {
			if d.pause != 4*time.Second || d.busyPause != d.pause || !d.count.busy {
				t.Errorf("pause %v, busy pause %v, busy %v; want the pause doubled, the server busy", d.pause, d.busyPause, d.count.busy)
			}
			if d.curve.rate != f.curve.rate || d.curve.hi != f.curve.hi || !d.count.epoch.Equal(now.Add(d.pause)) {
				t.Errorf("rate %v, hi %v, epoch %v; want nothing cut, the count from the pause's end", d.curve.rate, d.curve.hi, d.count.epoch)
			}
		}},
		{readProbeRefused, func() (*Finder, Outcome) {
			f := at20()
			f.count.lastOK = 19 // the server has accepted an attempt of this run
			f.sums.rest = 200 * time.Millisecond
			o := throttled(time.Second)
			o.Probe = true
			return f, o
		}, func(t *testing.T, f *Finder, d decision) {
			if !d.server.noProbes || d.pause != time.Second || d.sums.rest != 600*time.Millisecond {
				t.Errorf("noProbes %v, pause %v, rest %v; want no more probes, the whole Retry-After, rest half-way", d.server.noProbes, d.pause, d.sums.rest)
			}
			if d.curve.rate != f.curve.rate || d.curve.hi != f.curve.hi {
				t.Errorf("rate %v, hi %v; want them as they were", d.curve.rate, d.curve.hi)
			}
		}},
		{readBeforeCut, func() (*Finder, Outcome) {
			f := at20()
			f.curve.lastCut = now.Add(-time.Millisecond)
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			if d.curve != f.curve || d.count.firstCut != f.count.firstCut {
				t.Errorf("curve %+v; want it as it was, %+v", d.curve, f.curve)
			}
		}},
		{readLateStart, func() (*Finder, Outcome) {
			f := at20()
			f.count.accepted, f.count.sinceThrottle, f.server.minGap = 30, 30, 50*time.Millisecond
			o := throttled(time.Second)
			o.Gap = 45 * time.Millisecond
			return f, o
		}, func(t *testing.T, f *Finder, d decision) {
			if !d.server.strict || d.curve != f.curve {
				t.Errorf("strict %v, curve %+v; want a strict server, nothing cut", d.server.strict, d.curve)
			}
		}},
		{readSpentWindow, func() (*Finder, Outcome) {
			f := at20()
			f.count.accepted = 60
			return f, throttled(2 * time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			est := 60 / (2 + 1.5)
			near(t, "rate", d.curve.rate, est)
			near(t, "hi", d.curve.hi, est*(1+2*margin))
			near(t, "reserve", d.server.reserve, 60-est*2)
			if !d.server.windowed || d.pause != 2*time.Second {
				t.Errorf("windowed %v, pause %v; want a window, its Retry-After whole", d.server.windowed, d.pause)
			}
		}},
		{readSpentWindow, func() (*Finder, Outcome) {
			// A Retry-After of a second from a server that refused a probe: a window of a second.
			f := at20()
			f.count.accepted, f.server.noProbes = 30, true
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			est := 30 / (2 + 0.5)
			near(t, "rate", d.curve.rate, est)
			near(t, "hi", d.curve.hi, est*(1+2*margin))
			if d.pause != time.Second {
				t.Errorf("pause %v, want the Retry-After whole", d.pause)
			}
		}},
		{readSpentWindow, func() (*Finder, Outcome) {
			// The same, its quota taken in less than a second: that much a second, no more.
			f := at20()
			f.curve.since, f.count.epoch = now.Add(-600*time.Millisecond), now.Add(-600*time.Millisecond)
			f.count.accepted, f.server.noProbes = 30, true
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "hi", d.curve.hi, 30)
			near(t, "rate", d.curve.rate, 30*(1-margin))
			// Probed when it can have reopened, two intervals after a second from the first.
			probe := f.count.epoch.Add(time.Second + 2*d.curve.intervalAt(30))
			if !d.reopening.probe.Equal(probe) || d.pause != probe.Sub(now) {
				t.Errorf("probe at %v, pause %v; want %v", d.reopening.probe.Sub(now), d.pause, probe.Sub(now))
			}
		}},
		{readStepCrossed, func() (*Finder, Outcome) {
			f := ramp()
			f.count.accepted, f.count.lastOK = 5, 10
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			if !d.server.stepped || !d.server.strict || d.server.reserve != 1 {
				t.Errorf("server %+v; want a bucket, strict, of burst 1", d.server)
			}
			// A step of more than twice the rate accepted: the climb from it, under it.
			near(t, "hi", d.curve.hi, 10)
			near(t, "rate", d.curve.rate, 10*(1-margin))
			if d.curve.growth != climbGrowth {
				t.Errorf("growth %v, want the climb", d.curve.growth)
			}
		}},
		{readBurstAfterAll, func() (*Finder, Outcome) {
			f := at20()
			f.curve.margin = 2 * margin
			f.spent = spentBurst{est: 12, reserve: 5, margin: margin, span: 0.9}
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "rate", d.curve.rate, 12)
			if d.curve.growth != fineGrowth || !d.guessed || d.curve.margin != margin || d.server.reserve != 5 || d.spent.est != 0 {
				t.Errorf("growth %v, guessed %v, margin %v, reserve %v, spent %+v; want the burst's reading taken, growing finely",
					d.curve.growth, d.guessed, d.curve.margin, d.server.reserve, d.spent)
			}
		}},
		{readBurstAfterAll, func() (*Finder, Outcome) {
			f := at20()
			f.spent = spentBurst{est: 12, reserve: 5, margin: margin, span: 1.1} // over shortSpan
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "rate", d.curve.rate, 12)
			if d.curve.growth != climbGrowth || d.guessed {
				t.Errorf("growth %v, guessed %v; want the burst's estimate settled at, climbing", d.curve.growth, d.guessed)
			}
		}},
		{readEarly, func() (*Finder, Outcome) {
			f := NewFinder(20)
			f.curve.since, f.count.epoch = now.Add(-800*time.Millisecond), now.Add(-800*time.Millisecond)
			f.count.accepted, f.count.sinceThrottle, f.count.lastOK = 16, 16, 20
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "the burst's estimate", d.spent.est, 16/(0.8+0.5))
			if d.curve.margin != 2*margin || !d.server.strict || d.spent.margin != margin {
				t.Errorf("margin %v, strict %v; want jitter: twice the margin, a strict server", d.curve.margin, d.server.strict)
			}
			near(t, "rate", d.curve.rate, 20*(1-margin))
		}},
		{readFineCrossed, func() (*Finder, Outcome) {
			f := ramp()
			f.curve.growth, f.curve.hi = fineGrowth, 40
			f.count.accepted = 5
			f.count.lastOK = f.curve.spacing(sent)
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "hi", d.curve.hi, f.count.lastOK)
			near(t, "rate", d.curve.rate, f.count.lastOK*(1-margin))
		}},
		{readGuessTooHigh, func() (*Finder, Outcome) {
			f := ramp()
			f.curve.rate, f.curve.hi, f.curve.lastCut, f.curve.since = 5, 10, t0, sent
			f.guessed, f.count.accepted = true, 1
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "rate", d.curve.rate, 2.5)
			if d.curve.growth != rampGrowth || !d.guessed {
				t.Errorf("growth %v, guessed %v; want half the guess, growing", d.curve.growth, d.guessed)
			}
		}},
		{readTooHigh, func() (*Finder, Outcome) {
			f := at20()
			f.count.accepted, f.count.lastOK, f.count.firstCut, f.count.sinceFirst = 3, 20, now.Add(-10*time.Second), 4
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			// A quarter less is 15; twice what was accepted since the first cut, 0.8; no
			// lower than a quarter of the rate: 5.
			near(t, "rate", d.curve.rate, 5)
			if !d.count.firstCut.Equal(f.count.firstCut) {
				t.Errorf("first cut %v, want it kept", d.count.firstCut)
			}
		}},
		{readWiden, func() (*Finder, Outcome) {
			f := at20()
			f.server.strict = true
			f.count.accepted, f.count.sinceThrottle, f.count.lastOK = 20, 20, 20
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			if d.curve.margin != 2*margin || d.curve.growth != climbGrowth {
				t.Errorf("margin %v, growth %v; want twice the margin, climbing", d.curve.margin, d.curve.growth)
			}
			near(t, "rate", d.curve.rate, 20*(1-margin))
		}},
		{readWiden, func() (*Finder, Outcome) {
			// The 429 after a growth crossing, at the rate accepted below it, few accepted.
			f := at20()
			f.reading = readGrowthCrossed
			f.count.accepted, f.count.sinceThrottle, f.count.lastOK = 3, 3, 20
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			if d.curve.margin != 2*margin || !d.server.strict {
				t.Errorf("margin %v, strict %v; want twice the margin, strict", d.curve.margin, d.server.strict)
			}
			near(t, "rate", d.curve.rate, 20*(1-margin))
		}},
		{readSums, func() (*Finder, Outcome) {
			f := at20()
			f.curve.lastCut = t0.Add(-600 * time.Millisecond)
			f.count.accepted, f.count.lastOK = 20, 20
			f.sums = sums{accepted: 40, time: 3, counted: true, rest: 500 * time.Millisecond}
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			// 40 over 3 s, the pause as long as the server needed it (0.5 s), this epoch's 20
			// over 2 s, and the probe's wait to come, an interval at the rate accepted.
			est := 60 / (3 + 0.5 + 2 + 0.05)
			near(t, "hi", d.curve.hi, est)
			near(t, "rate", d.curve.rate, est*(1-margin))
			if !d.sums.counted || d.sums.time != 5.5 {
				t.Errorf("sums %+v; want this epoch counted", d.sums)
			}
		}},
		{readGrowthCrossed, func() (*Finder, Outcome) {
			f := ramp()
			f.curve.hi = 100
			f.count.accepted = 20
			f.count.lastOK = f.curve.spacing(sent)
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "rate", d.curve.rate, f.count.lastOK*(1-margin))
			if d.curve.growth != climbGrowth {
				t.Errorf("growth %v, want the climb", d.curve.growth)
			}
			if s := d.server; !s.strict || !s.stepped || s.reserve != 1 {
				t.Errorf("server %+v; want a strict bucket, stepped, reserve 1", s)
			}
		}},
		{readSpentBurst, func() (*Finder, Outcome) {
			f := ramp()
			f.count.accepted = 20
			f.count.lastOK = f.curve.spacing(sent)
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			overall := 20 / (2 + 0.5)
			near(t, "rate", d.curve.rate, overall)
			near(t, "reserve", d.server.reserve, 20-overall*2)
			if d.curve.growth != fineGrowth || !d.guessed {
				t.Errorf("growth %v, guessed %v; want a fine growth from the burst's rate", d.curve.growth, d.guessed)
			}
		}},
		{readGuess, func() (*Finder, Outcome) {
			f := at20()
			f.curve.hi = 0
			return f, throttled(time.Second)
		}, func(t *testing.T, f *Finder, d decision) {
			near(t, "rate", d.curve.rate, 10)
			if d.curve.growth != rampGrowth || !d.guessed || !d.count.firstCut.Equal(now) {
				t.Errorf("growth %v, guessed %v, first cut %v; want half the rate refused, growing, the first cut now", d.curve.growth, d.guessed, d.count.firstCut)
			}
		}},
	} {
		tested[tt.reading] = true
		t.Run(tt.reading.String(), func(t *testing.T) {
			t.Parallel()
			f, o := tt.setup()
			before := f.state
			d := f.decide(now, o)
			if f.state != before {
				t.Errorf("deciding wrote the Finder's state")
			}
			if d.reading != tt.reading {
				t.Fatalf("read as %q, want %q", d.reading, tt.reading)
			}
			tt.check(t, f, d)
			if d.count.sinceThrottle != 0 {
				t.Errorf("acceptances since the latest 429 %d, want 0", d.count.sinceThrottle)
			}
		})
	}
	for r := readNone + 1; int(r) < len(readingNames); r++ {
		if !tested[r] {
			t.Errorf("no case reads %q", r)
		}
	}
}
