package pace

import (
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func near(got, want float64) bool { return math.Abs(got-want) <= want*1e-6 }

// offByThousandth says whether got is off want by more than a thousandth of it (near: within
// a millionth).
func offByThousandth(got, want float64) bool { return math.Abs(got-want) > want*1e-3 }

// wantRate checks that f's rate at the time at is want, to a thousandth; after says when.
func wantRate(t *testing.T, f *Finder, at time.Time, want float64, after string) {
	t.Helper()
	if got := f.Rate(at); offByThousandth(got, want) {
		t.Errorf("rate %.3f %s, want %.3f", got, after, want)
	}
}

// acceptAt has f hear, 2 ms after sent, that the attempt sent then, gap after the one before
// it (0: not known), was accepted.
func acceptAt(f *Finder, sent time.Time, gap time.Duration) {
	f.Observe(sent.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: sent, Action: provision.Done}, Gap: gap})
}

func TestFinderStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rate float64
		at   time.Duration
		want float64
	}{
		{"configured, at once", 20, 0, 20 / (1 + margin)},
		{"configured, later", 20, time.Minute, 20 / (1 + margin)},
		{"unlimited: the fast start", 0, 0, maxRate / (1 + margin)},
		{"unlimited, bounded", 0, time.Hour, maxRate / (1 + margin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFinder(tt.rate)
			f.Rate(t0)
			if got := f.Rate(t0.Add(tt.at)); offByThousandth(got, tt.want) {
				t.Errorf("Rate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFinderPauses(t *testing.T) {
	t.Parallel()
	rate := 10.0
	f := NewFinder(rate)
	at := t0
	throttled := func(retryAfter time.Duration) time.Duration {
		at = at.Add(time.Second)
		return f.Observe(at, Outcome{Answer: provision.Answer{Sent: at.Add(-time.Millisecond), Action: provision.Throttled, RetryAfter: retryAfter}})
	}
	// Without Retry-After: a short pause, doubled while nothing passes; the first one, refused
	// before anything was accepted, an interval at the half rate the pool starts again from
	// (more than 125 ms here, so that doubling, not noRetryAfter, sets the next).
	first := time.Duration(float64(time.Second) * (1 + margin) / (rate / 2))
	for _, want := range []time.Duration{first, 2 * first, 4 * first, 8 * first} {
		if got := throttled(0); got != want {
			t.Errorf("pause %v, want %v", got, want)
		}
	}
	for range 12 {
		throttled(0)
	}
	if got := throttled(0); got != time.Minute {
		t.Errorf("pause %v after many 429s without a success, want at most a minute", got)
	}
	at = at.Add(time.Minute) // the pause over
	f.Observe(at, Outcome{Answer: provision.Answer{Sent: at, Action: provision.Done}})
	if got := throttled(0); got != 250*time.Millisecond {
		t.Errorf("pause %v after a success, want 250ms again", got)
	}
	if got := throttled(7 * time.Second); got != 7*time.Second {
		t.Errorf("pause %v with a Retry-After of 7s", got)
	}
	if got := f.Observe(at, Outcome{Answer: provision.Answer{Sent: at, Action: provision.Retry, RetryAfter: 5 * time.Second}}); got != 0 {
		t.Errorf("a 503 paused the pool for %v", got)
	}
}

// Without Retry-After, the first attempts refused at a rate above StartRate x 2 are given an
// interval at StartRate; a second 429 with nothing accepted between, noRetryAfter; and a 429
// after many acceptances, which may be a window's quota spent, noRetryAfter.
func TestFinderFirstPauseWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	refuse := func(f *Finder, at time.Time) time.Duration {
		return f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled}})
	}
	f := NewFinder(40)
	f.Rate(t0)
	at := t0.Add(25 * time.Millisecond)
	f.Observe(at, Outcome{Answer: provision.Answer{Sent: t0, Action: provision.Done}})
	start := float64(StartRate) // a variable: the Finder's arithmetic is in float64, not exact constants
	if got, want := refuse(f, at), time.Duration(float64(time.Second)*(1+margin)/start); got != want {
		t.Errorf("first pause %v, want an interval at StartRate, %v", got, want)
	}
	if got := refuse(f, at.Add(time.Second)); got != noRetryAfter {
		t.Errorf("second pause %v, want %v", got, noRetryAfter)
	}

	f = NewFinder(40)
	f.Rate(t0)
	for i := range fewAccepted {
		at = t0.Add(time.Duration(i) * 25 * time.Millisecond)
		acceptAt(f, at, 0)
	}
	if got := refuse(f, at.Add(25*time.Millisecond)); got != noRetryAfter {
		t.Errorf("pause %v after %d accepted, want %v", got, fewAccepted, noRetryAfter)
	}
}

// 429s for attempts sent before a cut were sent at the old rate: they change nothing.
func TestFinderCutsOncePerRoundTrip(t *testing.T) {
	t.Parallel()
	f := NewFinder(40)
	f.Rate(t0)
	for i := range 20 {
		sent := t0.Add(time.Duration(i) * 25 * time.Millisecond)
		acceptAt(f, sent, 0)
	}
	now := t0.Add(500 * time.Millisecond)
	f.Observe(now, Outcome{Answer: provision.Answer{Sent: now.Add(-2 * time.Millisecond), Action: provision.Throttled, RetryAfter: time.Second}})
	after := f.Rate(now.Add(time.Second))
	if after >= 40/(1+margin) {
		t.Fatalf("rate %v after a 429, want below 40", after)
	}
	for _, sent := range []time.Duration{-10 * time.Millisecond, -time.Second} {
		f.Observe(now.Add(time.Millisecond), Outcome{Answer: provision.Answer{Sent: now.Add(sent), Action: provision.Throttled, RetryAfter: time.Second}})
	}
	if got := f.Rate(now.Add(time.Second)); !near(got, after) {
		t.Errorf("rate %v after 429s for attempts sent before the cut, want %v", got, after)
	}
}

func TestFinderQuota(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		quota provision.Quota
		want  float64 // spacing rate after the answer
	}{
		{"policy window", provision.Quota{Limit: 60, Remaining: 59, Reset: 2 * time.Second, Window: 3 * time.Second}, 20 / (1 + margin)},
		{"window from Reset", provision.Quota{Limit: 120, Remaining: 119, Reset: 60 * time.Second}, 2 / (1 + margin)},
		{"above the configured rate", provision.Quota{Limit: 600, Remaining: 599, Reset: 3 * time.Second}, 100 / (1 + margin)},
		{"window too short to trust", provision.Quota{Limit: 10, Remaining: 0, Reset: time.Second}, 100 / (1 + margin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFinder(100)
			f.Rate(t0)
			// A window read from Reset is trusted once the headers have been seen that long.
			for _, at := range []time.Duration{0, time.Minute} {
				f.Observe(t0.Add(at), Outcome{Answer: provision.Answer{Sent: t0.Add(at), Action: provision.Done, Quota: &tt.quota}})
				if at == 0 && tt.quota.Window == 0 && !near(f.Rate(t0), 100/(1+margin)) {
					t.Errorf("rate %v on the first headers, before the window is known", f.Rate(t0))
				}
			}
			if got := f.Rate(t0.Add(time.Minute)); offByThousandth(got, tt.want) {
				t.Errorf("rate %v, want %v", got, tt.want)
			}
		})
	}
}

// drive runs the Finder alone against lim for d, one attempt at a time, as a Pacer with a
// burst of 1 would space them, each answered 2 ms later: a pause shorter than a Retry-After
// ends with a probe, and a refused probe makes the pause the whole Retry-After, or as long as
// the Finder says. It returns the 429s in each half.
func drive(f *Finder, lim *provisiontest.Limiter, d time.Duration, logf func(string, ...any)) (first, second int) {
	const latency = 2 * time.Millisecond
	var slot, notBefore, prev, probeUntil time.Time
	spent := false // a probe was refused since the latest acceptance
	at := t0
	for at.Before(t0.Add(d)) {
		r := f.Rate(at)
		at = latest(slot.Add(time.Duration(float64(time.Second)/r)), notBefore, at)
		slot = at
		isProbe := !probeUntil.IsZero()
		ok, h := lim.Admit(at)
		a := provision.Answer{Sent: at, Action: provision.Done, HTTPStatus: 200}
		if !ok {
			secs, _ := strconv.Atoi(h.Get("Retry-After"))
			a.Action, a.HTTPStatus, a.RetryAfter = provision.Throttled, 429, time.Duration(secs)*time.Second
			if at.Before(t0.Add(d / 2)) {
				first++
			} else {
				second++
			}
		}
		now := at.Add(latency)
		before := f.Rate(at)
		pause := f.Observe(now, Outcome{Answer: a, Gap: at.Sub(prev), Probe: isProbe})
		prev = at
		switch {
		case ok:
			probeUntil, spent = time.Time{}, false
		case isProbe:
			pause = max(pause, probeUntil.Sub(now))
			probeUntil, spent = time.Time{}, true
		case pause < a.RetryAfter && !spent:
			probeUntil = now.Add(a.RetryAfter)
		default:
			pause = max(pause, a.RetryAfter)
		}
		if !ok {
			logf("%7.3fs 429, Retry-After %v: rate %.2f -> %.2f, pause %v", at.Sub(t0).Seconds(), a.RetryAfter, before, f.Rate(now.Add(pause)), pause)
		}
		notBefore = latest(notBefore, now.Add(pause))
	}
	return first, second
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// Whatever the limiter and the configured rate, the Finder settles just under the limit within
// a minute, and stays there: at most seven 429s in the first minute (a bucket of burst 10,
// whose burst spent says little of its rate), one in the second.
func TestFinderSettles(t *testing.T) {
	t.Parallel()
	const server = 20.0
	for _, k := range provisiontest.Limits(server) {
		if k.Headers != provisiontest.NoHeaders {
			continue // headers reach the Finder through provision/ideanote: see backpressure_test.go
		}
		for _, mult := range []float64{1, 2, 5, 0} {
			t.Run(fmt.Sprintf("%s/x%g", k.Name, mult), func(t *testing.T) {
				t.Parallel()
				f := NewFinder(mult * server)
				first, second := drive(f, provisiontest.NewLimiter(k.Limit), 2*time.Minute, t.Logf)
				got := f.Rate(t0.Add(2 * time.Minute))
				if got < 0.9*server || got > server || first > 7 || second > 1 {
					t.Fatalf("rate %.2f (want in [%.0f, %.0f]); 429s %d in the first minute (at most 7), %d in the second (at most 1)",
						got, 0.9*server, server, first, second)
				}
			})
		}
	}
}

// A 429 for an attempt that followed the one before closer than the rate allows (that one
// started late) is the server being strict, not the rate being too high: nothing is cut.
func TestFinderJitter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		accepted int             // attempts accepted 51 ms apart before
		gaps     []time.Duration // then a 429 after each of these gaps, one right after the other
		cut      float64         // the rate resumes at this share of the rate before at most; 0: not cut
	}{
		{"gap as scheduled", 40, []time.Duration{51 * time.Millisecond}, 0.99},
		{"gap shortened by a late start", 40, []time.Duration{45 * time.Millisecond}, 0},
		{"a late start after half a second", 12, []time.Duration{45 * time.Millisecond}, 0},
		{"a late start too soon to tell", 5, []time.Duration{45 * time.Millisecond}, 0.5},
		{"a burst", 40, []time.Duration{time.Millisecond}, 0.99},
		// A bucket whose burst ran out may refuse the shortest gap first, but its next 429
		// comes at once.
		{"a second 429 at once", 12, []time.Duration{45 * time.Millisecond, 51 * time.Millisecond}, 0.9},
		{"two short gaps refused at once", 12, []time.Duration{45 * time.Millisecond, 44 * time.Millisecond}, 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFinder(20)
			f.Rate(t0)
			at := t0
			for range tt.accepted {
				at = at.Add(51 * time.Millisecond)
				acceptAt(f, at, 51*time.Millisecond)
			}
			before := f.Rate(at)
			var pause time.Duration
			for _, gap := range tt.gaps {
				at = at.Add(max(gap, pause))
				pause = f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: time.Second}, Gap: gap})
			}
			after := f.Rate(at.Add(2*time.Millisecond + pause)) // as the pool resumes
			// A Retry-After of a second may be a bucket's interval rounded up: the pool probes
			// after one interval at the new rate.
			if want := time.Duration(float64(time.Second) / after); pause < want-time.Millisecond || pause > want+time.Millisecond {
				t.Errorf("pause %v, want one interval at %.2f a second, %v", pause, after, want)
			}
			if tt.cut == 0 && Reading(f) != "late start" {
				t.Errorf("429 read as %q, want a late start", Reading(f))
			}
			if tt.cut == 0 && after < before*0.99 || tt.cut > 0 && after > before*tt.cut {
				t.Errorf("rate %.2f -> %.2f; want it at most %v of it (0: not cut)", before, after, tt.cut)
			}
		})
	}
}

// A 429 at the configured rate within the first second may be a strict bucket's refusal of an
// attempt that jitter brought too close to the one before, or a bucket's burst spent; the
// estimate of a burst would leave the run far below the rate. It is read as jitter, and the
// probe waits for a token at the burst's estimate; the next 429 tells: one soon after (before
// ten acceptances), or the probe refused, was a burst, and the rate falls to what the server
// accepted over the span and half a second of wait, spaced as before, and grows from there:
// a burst spent in a second says too little of the rate to settle at.
func TestFinderEarly429(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		then      string // after the first 429: "" nothing more, "again" a 429 after the probe, "probe" the probe refused
		recovered bool
	}{
		{"jitter", "", true},
		{"refused again after the probe", "again", false},
		{"probe refused", "probe", false},
		{"ten accepted, then a late start refused", "late", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const gap = 51 * time.Millisecond
			f := NewFinder(20)
			f.Rate(t0)
			at := t0
			for range 16 {
				at = at.Add(gap)
				acceptAt(f, at, gap)
			}
			at = at.Add(gap)
			span := at.Add(2 * time.Millisecond).Sub(t0)
			burst := 16 / (span.Seconds() + 0.5)
			pause := f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: time.Second}, Gap: gap})
			if want := time.Duration(float64(time.Second) * (1 + 2*margin) / burst); pause < want-time.Millisecond || pause > want+time.Millisecond {
				t.Errorf("probe after %v, want a token at the burst's %.2f a second, %v", pause, burst, want)
			}
			switch tt.then {
			case "again":
				at = at.Add(pause + 2*time.Millisecond) // the probe, accepted
				acceptAt(f, at, pause)
				gap := time.Duration(float64(time.Second) / f.Rate(at))
				at = at.Add(gap)
				pause = f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: time.Second}, Gap: gap})
			case "late":
				// Ten acceptances say the first 429 was jitter: a 429 for a late start now
				// probes after one interval at the rate, no longer after a token of the burst.
				at = at.Add(pause)
				for range 12 {
					at = at.Add(gap)
					acceptAt(f, at, gap)
				}
				at = at.Add(40 * time.Millisecond)
				pause = f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: time.Second}, Gap: 40 * time.Millisecond})
				if want := time.Duration(float64(time.Second) / f.Rate(at)); pause < want-time.Millisecond || pause > want+time.Millisecond {
					t.Errorf("probe after %v for a late start, want one interval at the rate, %v", pause, want)
				}
			case "probe":
				at = at.Add(pause + 2*time.Millisecond)
				pause = f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: time.Second}, Gap: pause, Probe: true})
			}
			later := f.Rate(at.Add(2*time.Millisecond + pause + time.Second))
			resumed := f.Rate(at.Add(2*time.Millisecond + pause))
			if tt.recovered && later < 18 {
				t.Errorf("a second after the 429 the rate is %.2f; want back near 20", later)
			}
			if want := burst / (1 + margin); !tt.recovered && (math.Abs(resumed-want) > want*0.005 || later < resumed*1.5) {
				t.Errorf("after the second 429 the rate is %.2f, a second later %.2f; want the burst's estimate spaced as before, %.2f, growing", resumed, later, want)
			}
		})
	}
}

// Once a window has shown itself (a Retry-After of 2 s after many acceptances), a Retry-After
// of a second is probed half-way; the rate that follows counts the first pause as long as the
// window needed, as modelled (1.5 s of the 2 s kept), not as long as it was kept; a refused
// probe ends the probing.
func TestFinderWindowProbe(t *testing.T) {
	t.Parallel()
	f := NewFinder(40)
	f.Rate(t0)
	at := t0
	accept := func(n int) {
		for range n {
			at = at.Add(time.Duration(float64(time.Second) / f.Rate(at)))
			f.Observe(at, Outcome{Answer: provision.Answer{Sent: at, Action: provision.Done}})
		}
	}
	throttle := func(retryAfter time.Duration, probe bool) time.Duration {
		at = at.Add(time.Duration(float64(time.Second) / f.Rate(at)))
		return f.Observe(at, Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: retryAfter}, Probe: probe})
	}

	accept(60)
	if got := throttle(2*time.Second, false); got != 2*time.Second {
		t.Fatalf("pause %v for a window's Retry-After of 2s, want it whole", got)
	}
	span1 := at.Sub(t0).Seconds()
	at = at.Add(2 * time.Second)
	epoch2 := at
	accept(60)
	if got := throttle(time.Second, false); got != 500*time.Millisecond {
		t.Errorf("pause %v for a window's Retry-After of 1s, want 500ms and a probe", got)
	}
	span2 := at.Sub(epoch2).Seconds()
	// The window's limit: every acceptance over the spans, the pause kept (2 s) counted as
	// the 1.5 s modelled, and the half second to come; resumed a margin under it.
	want := 120 / (span1 + 1.5 + span2 + 0.5) * (1 - margin) / (1 + margin)
	if got := f.Rate(at.Add(time.Second)); math.Abs(got-want) > want*0.01 {
		t.Errorf("rate %.2f after the second 429, want %.2f", got, want)
	}

	at = at.Add(500 * time.Millisecond)
	if got := throttle(time.Second, true); got != time.Second {
		t.Errorf("pause %v after a refused probe, want the whole Retry-After", got)
	}
	at = at.Add(time.Second)
	accept(60)
	if got := throttle(time.Second, false); got != time.Second {
		t.Errorf("pause %v after a refused probe and a Retry-After of 1s, want it whole", got)
	}
}

// A window's first Retry-After of a few seconds, after many acceptances, is probed 0.4 s after
// the earliest moment the window can have reopened, and the rate that follows takes it to have
// reopened then. A refused probe puts the reopening in the rest of that second: the rate is
// taken again with the middle of it, and the pool waits for the first Retry-After's end, not
// the probe's. A Retry-After of 2 s, or over 10 s, after few acceptances, or once a window has
// been seen, is kept whole. Late answers, for attempts sent before the 429, leave the probe as
// it is.
func TestFinderReopening(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		accepted   int
		earlier    bool // a window's Retry-After came before
		retryAfter time.Duration
		probe      string // "" no probe, "accepted", "refused"
		late       string // "", "200" or "429": answered before the probe, for an attempt sent before the 429
	}{
		{"probe accepted", 60, false, 3 * time.Second, "accepted", ""},
		{"probe refused", 60, false, 3 * time.Second, "refused", ""},
		{"probe refused after a late 200", 60, false, 3 * time.Second, "refused", "200"},
		{"probe refused after a late 429", 60, false, 3 * time.Second, "refused", "429"},
		{"at 5 s", 60, false, 5 * time.Second, "accepted", ""},
		{"at 2 s", 60, false, 2 * time.Second, "", ""},
		{"over 10 s", 60, false, 11 * time.Second, "", ""},
		{"few accepted", 5, false, 3 * time.Second, "", ""},
		{"not the first window", 60, true, 3 * time.Second, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFinder(40)
			f.Rate(t0)
			at := t0
			answer := func(action provision.Action, retryAfter time.Duration, probe bool) time.Duration {
				return f.Observe(at, Outcome{Answer: provision.Answer{Sent: at.Add(-2 * time.Millisecond), Action: action, RetryAfter: retryAfter}, Probe: probe})
			}
			if tt.earlier {
				f.server.windowed = true
			}
			for range tt.accepted {
				at = at.Add(25 * time.Millisecond)
				answer(provision.Done, 0, false)
			}
			at = at.Add(25 * time.Millisecond)
			span := at.Sub(t0).Seconds()
			throttled := at
			pause := answer(provision.Throttled, tt.retryAfter, false)
			if tt.probe == "" {
				if pause != tt.retryAfter {
					t.Errorf("pause %v, want the whole Retry-After, %v", pause, tt.retryAfter)
				}
				return
			}
			if want := tt.retryAfter - 600*time.Millisecond; pause != want {
				t.Fatalf("pause %v, want %v: a probe 0.4 s into the last second", pause, want)
			}
			// Taken to reopen at the start of the last second, resumed a margin under.
			rest := (tt.retryAfter - time.Second).Seconds()
			want := float64(tt.accepted) / (span + rest) / (1 + margin)
			wantRate(t, f, at.Add(pause), want, "after the 429")
			probeAt := at.Add(pause)
			if tt.late != "" {
				late, a := at.Add(time.Millisecond), provision.Answer{Sent: throttled.Add(-5 * time.Millisecond), Action: provision.Done}
				if tt.late == "429" {
					a.Action, a.RetryAfter = provision.Throttled, tt.retryAfter
				}
				p := f.Observe(late, Outcome{Answer: a})
				if want := probeAt.Sub(late); tt.late == "429" && p != want {
					t.Errorf("pause %v for the late 429, want %v, until the probe", p, want)
				}
			}
			at = probeAt.Add(2 * time.Millisecond)
			if tt.probe == "accepted" {
				answer(provision.Done, 0, true)
				wantRate(t, f, at, want, "after the probe was accepted")
				// The window's probe is over: a later refused probe waits its own Retry-After.
				at = at.Add(time.Second)
				if got := answer(provision.Throttled, time.Second, true); got != time.Second {
					t.Errorf("pause %v after a later probe was refused, want its Retry-After, 1s", got)
				}
				return
			}
			pause = answer(provision.Throttled, time.Second, true)
			if want := throttled.Add(tt.retryAfter).Sub(at); pause != want {
				t.Errorf("pause %v after the refused probe, want %v, to the first Retry-After's end", pause, want)
			}
			rest = (tt.retryAfter - 300*time.Millisecond).Seconds() // between the probe and the end
			want = float64(tt.accepted) / (span + rest) / (1 + margin)
			wantRate(t, f, at.Add(pause), want, "after the refused probe")
		})
	}
}

// While the rate still grows from nothing, a 429 for an attempt that followed the one before
// closer than the rate (one worker late, the next on time) is a burst spent or a limit crossed,
// as any other during that growth: not a strict bucket's late start, whose guess would restart
// from StartRate and cross a burst refilled meanwhile.
func TestFinderRampLateStart(t *testing.T) {
	t.Parallel()
	f := NewFinder(0)
	at := t0
	f.Rate(at)
	f.curve = f.curve.endFast(at)
	accepted := 0
	for at.Sub(t0) < 850*time.Millisecond {
		at = at.Add(time.Duration(float64(time.Second) / f.Rate(at)))
		acceptAt(f, at, 0)
		accepted++
	}
	gap := time.Duration(float64(time.Second) / f.Rate(at) / 2)
	at = at.Add(gap)
	now := at.Add(2 * time.Millisecond)
	pause := f.Observe(now, Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled, RetryAfter: time.Second}, Gap: gap})
	// A spent burst: what the server accepted over the span and the half second of wait.
	want := float64(accepted) / (now.Sub(t0).Seconds() + 0.5) / (1 + margin)
	if got := f.Rate(now.Add(pause)); math.Abs(got-want) > want*0.05 {
		t.Errorf("rate %.2f after the 429, want %.2f (a spent burst), not a guess from %d", got, want, StartRate)
	}
}

// Without Retry-After, a bucket that refuses a step above the rate it accepted needs one
// interval of that rate before its next token, not the guess of a pause a window might need.
func TestFinderStepWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	step := func(f *Finder, until time.Duration) (at time.Time, lastOK float64) {
		at = t0
		f.Rate(at)
		for at.Sub(t0) < until {
			at = at.Add(time.Duration(float64(time.Second) / f.Rate(at)))
			acceptAt(f, at, 0)
			lastOK = f.curve.spacing(at)
		}
		return at.Add(time.Duration(float64(time.Second) / f.Rate(at))), lastOK
	}
	refuse := func(f *Finder, at time.Time) time.Duration {
		return f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled}})
	}

	f := NewFinder(0) // growing: the refused attempt is a step above the one accepted
	f.Rate(t0)
	f.curve = f.curve.endFast(t0)
	at, lastOK := step(f, 300*time.Millisecond)
	want := time.Duration(float64(time.Second) * (1 + margin) / lastOK)
	if got := refuse(f, at); got != want {
		t.Errorf("pause %v after a step refused, want one interval at %.2f a second, %v", got, lastOK, want)
	}
	if got := refuse(f, at.Add(time.Millisecond)); got != want {
		t.Errorf("pause %v after a 429 in flight with the first, want the same %v", got, want)
	}
	at = at.Add(3*time.Millisecond + want) // the attempt after the pause
	if got := refuse(f, at); got != 2*want {
		t.Errorf("pause %v after a second 429 without a success between, want %v", got, 2*want)
	}

	// Once such a step was refused, a later 429 at the rate accepted, after a success, pauses
	// one interval too.
	at = at.Add(2*time.Millisecond + 2*want)
	acceptAt(f, at, 0)
	lastOK = f.curve.spacing(at)
	at = at.Add(time.Duration(float64(time.Second) / f.Rate(at)))
	if got, want := refuse(f, at), time.Duration(float64(time.Second)*(1+margin)/lastOK); got != want {
		t.Errorf("pause %v after a later 429, want one interval at %.2f a second, %v", got, lastOK, want)
	}

	f = NewFinder(20) // refused at the rate accepted: a spent quota, perhaps a window's
	at, _ = step(f, time.Second)
	if got := refuse(f, at); got != noRetryAfter {
		t.Errorf("pause %v after a 429 at the rate accepted, want %v", got, noRetryAfter)
	}
}

// A growth from a guess that crosses a bucket's rate in steps finer than crossed tells resumes
// at the rate of the latest acceptance, not at the sums of the epochs before, which leave the
// growing one out (one acceptance over 10 ms and a pause: 3.7 a second for a 50/s server).
func TestFinderGrowthCrossed(t *testing.T) {
	t.Parallel()
	f := NewFinder(100)
	f.Rate(t0)
	at := t0
	acceptAt(f, at, 0)
	at = at.Add(10 * time.Millisecond)
	pause := f.Observe(at.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled}})
	at = at.Add(2*time.Millisecond + pause)
	if Reading(f) != "guess" {
		t.Fatalf("first 429 read as %q, want a guess", Reading(f))
	}
	var lastOK float64
	for f.curve.spacing(at) < 50 {
		acceptAt(f, at, 0)
		lastOK = f.curve.spacing(at)
		at = at.Add(time.Duration(float64(time.Second) / f.Rate(at)))
	}
	now := at.Add(2 * time.Millisecond)
	pause = f.Observe(now, Outcome{Answer: provision.Answer{Sent: at, Action: provision.Throttled}})
	if Reading(f) != "growth crossed" {
		t.Errorf("429 read as %q, want growth crossed", Reading(f))
	}
	want := lastOK / (1 + margin)
	if got := f.Rate(now.Add(pause)); offByThousandth(got, want) {
		t.Errorf("rate %.2f after the growth crossed the limit, want the latest acceptance's %.2f under the margin", got, want)
	}
}

// Without a configured rate the Finder starts fast: no spacing, one attempt in flight and one
// more for every fastStep accepted and every fastTick (a second). Its first 429 ends it: with little accepted, the rate
// starts again from half StartRate, as if the refused attempt had been sent at StartRate.
func TestFinderFastStart(t *testing.T) {
	t.Parallel()
	f := NewFinder(0)
	at := t0
	f.Rate(at)
	if got := inFlight(f, at); got != 1 {
		t.Errorf("InFlight %d at the start, want 1", got)
	}
	for i := 1; i <= 3*fastStep; i++ {
		at = at.Add(100 * time.Microsecond)
		f.Observe(at, Outcome{Answer: provision.Answer{Sent: at.Add(-50 * time.Microsecond), Action: provision.Done}})
		if want := 1 + i/fastStep; inFlight(f, at) != want {
			t.Fatalf("InFlight %d after %d accepted, want %d", inFlight(f, at), i, want)
		}
	}
	if got := f.Rate(at); got < maxRate/2 {
		t.Errorf("rate %v in the fast start, want no spacing", got)
	}
	// A server that answers slowly: one more every second, whatever the answers.
	slow := NewFinder(0)
	slow.Rate(t0)
	if n, until := slow.InFlight(t0.Add(2500 * time.Millisecond)); n != 3 || !until.Equal(t0.Add(3*time.Second)) {
		t.Errorf("InFlight %d until %v after 2.5 s with nothing answered, want 3 until 3 s", n, until.Sub(t0))
	}

	f = NewFinder(0)
	f.Rate(t0)
	acceptAt(f, t0, 0)
	now := t0.Add(5 * time.Millisecond)
	pause := f.Observe(now, Outcome{Answer: provision.Answer{Sent: t0.Add(3 * time.Millisecond), Action: provision.Throttled, RetryAfter: time.Second}})
	if inFlight(f, at) != 0 {
		t.Errorf("InFlight %d after the first 429, want 0 (no bound)", inFlight(f, at))
	}
	wantRate(t, f, now.Add(pause), StartRate/2/(1+margin), "after the fast start's 429")

	// Rate-limit headers end it too: the rate is the stated limit.
	f = NewFinder(0)
	f.Rate(t0)
	f.Observe(t0, Outcome{Answer: provision.Answer{Sent: t0, Action: provision.Done,
		Quota: &provision.Quota{Limit: 60, Remaining: 59, Reset: 3 * time.Second, Window: 3 * time.Second}}})
	if got, want := f.Rate(t0), 20/(1+margin); inFlight(f, at) != 0 || offByThousandth(got, want) {
		t.Errorf("after headers: InFlight %d, rate %.3f; want 0 and %.3f", inFlight(f, at), got, want)
	}
}

// Without Retry-After, the first attempt after a pause refused with nothing accepted since
// says the pause was too short (a window still closed, or kept closed by counted retries):
// the pause doubles and the rate comes down to what the server accepted over the time so
// far, nothing more is cut. The 429s of attempts in flight with the one that set a pause do
// not lengthen it, nor does a success of one answered late shorten the next.
func TestFinderPauseTooShort(t *testing.T) {
	t.Parallel()
	f := NewFinder(40)
	f.Rate(t0)
	at := t0
	for range 60 {
		at = at.Add(25 * time.Millisecond)
		acceptAt(f, at, 25*time.Millisecond)
	}
	refuse := func(sent, now time.Time) time.Duration {
		return f.Observe(now, Outcome{Answer: provision.Answer{Sent: sent, Action: provision.Throttled}, Gap: 25 * time.Millisecond})
	}
	sent := at.Add(25 * time.Millisecond)
	now := sent.Add(2 * time.Millisecond)
	first := refuse(sent, now)
	if echo := refuse(sent.Add(-time.Millisecond), now.Add(time.Millisecond)); echo != first || Reading(f) != "sent before the cut" {
		t.Errorf("a 429 in flight with the first paused %v (%q), want the same %v", echo, Reading(f), first)
	}
	// An attempt sent before the 429, answered after it: a success before the pause, not
	// between the two 429s (the pause is not started again from its first).
	f.Observe(now.Add(3*time.Millisecond), Outcome{Answer: provision.Answer{Sent: sent.Add(-2 * time.Millisecond), Action: provision.Done}, Gap: 25 * time.Millisecond})
	before := f.Rate(now.Add(first))
	sent = now.Add(time.Millisecond + first) // the Pacer pauses from the latest 429
	now = sent.Add(2 * time.Millisecond)
	second := refuse(sent, now)
	if Reading(f) != "pause too short" || second != 2*first {
		t.Errorf("the attempt after the pause refused: read %q, pause %v; want pause too short, %v", Reading(f), second, 2*first)
	}
	accepted := 60 / (now.Add(second).Sub(t0).Seconds() - 0.002*2) // about, over the whole time
	if got := f.Rate(now.Add(second)); got >= before || math.Abs(got*(1+margin)-accepted) > accepted*0.05 {
		t.Errorf("rate %.2f after the pause too short (%.2f before), want about what was accepted over the time, %.2f", got, before, accepted/(1+margin))
	}
}

// inFlight is the Finder's bound on attempts in flight at t.
func inFlight(f *Finder, t time.Time) int {
	n, _ := f.InFlight(t)
	return n
}

// A pause too short leaves a rate already under what the sums say (a guess) growing as it
// was: set climbing from there, a pool took 5.8 x N/R behind HAProxy counting refusals at
// 100/s (a guess of 10/s, then 1% a second).
func TestFinderPauseTooShortKeepsAGuessGrowing(t *testing.T) {
	t.Parallel()
	f := NewFinder(500)
	f.Rate(t0)
	sent := t0.Add(250 * time.Millisecond) // the first attempt after the guess's pause
	f.curve = curve{max: 500, rate: 10, since: sent, growth: rampGrowth, hi: 500, lastCut: t0, margin: margin}
	f.count.epoch = sent
	f.noRA, f.sums = 250*time.Millisecond, sums{accepted: 300, time: 0.6}
	now := sent.Add(2 * time.Millisecond)
	pause := f.Observe(now, Outcome{Answer: provision.Answer{Sent: sent, Action: provision.Throttled}})
	if Reading(f) != "pause too short" || pause != 500*time.Millisecond {
		t.Fatalf("read %q, pause %v; want pause too short, 500ms", Reading(f), pause)
	}
	end := now.Add(pause)
	if at, later := f.Rate(end), f.Rate(end.Add(time.Second)); at > 11 || later < 5*at {
		t.Errorf("rate %.2f at the pause's end, %.2f a second later; want the guess's 10, growing as fast as before", at, later)
	}
}

// A second run started beside a first that holds the whole limit: every attempt is refused,
// even one sent after the Retry-After of the 429 before it has ended. That is read busy: the
// rate holds, the pause doubles from the Retry-After up to maxBusy, a probe refused before
// the server accepted anything does not stop probes, and a ceiling set while busy by a reading
// that measured nothing is lifted at the busyLifted-th acceptance. Kept, a ceiling of a busy
// server held a second run at 0.2 a second after the first had ended (1,012 s for 50 rows).
func TestFinderBusy(t *testing.T) {
	t.Parallel()
	f := NewFinder(100)
	f.Rate(t0)
	refuse := func(sent time.Time, gap time.Duration, probe bool) time.Duration {
		return f.Observe(sent.Add(2*time.Millisecond), Outcome{Answer: provision.Answer{Sent: sent, Action: provision.Throttled, RetryAfter: time.Second}, Gap: gap, Probe: probe})
	}
	sent := t0
	pause := refuse(sent, 0, false)
	if Reading(f) != "guess" {
		t.Fatalf("the first attempt refused: read %q, want guess", Reading(f))
	}
	sent = sent.Add(2*time.Millisecond + pause)
	refuse(sent, pause, true)
	if Reading(f) != "probe refused" || f.server.noProbes {
		t.Errorf("the probe refused, nothing accepted yet: read %q, noProbes %v; want probes to go on", Reading(f), f.server.noProbes)
	}
	rate := f.Rate(sent)
	gap := time.Second + 2*time.Millisecond
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		sent = sent.Add(gap)
		got := refuse(sent, gap, false)
		if Reading(f) != "busy" || got != want {
			t.Fatalf("refused %d after the Retry-After: read %q, pause %v; want busy, %v", i+1, Reading(f), got, want)
		}
		gap = got + 2*time.Millisecond
	}
	if got := f.Rate(sent.Add(8 * time.Second)); got < rate {
		t.Errorf("rate %.2f after the busy 429s, want it held at %.2f at least", got, rate)
	}
	// The other client leaves a token: one accepted, the next refused, read as a guess too
	// high (nothing measured), its ceiling a busy server's.
	sent = sent.Add(gap)
	acceptAt(f, sent, gap)
	sent = sent.Add(50 * time.Millisecond)
	refuse(sent, 50*time.Millisecond, false)
	if !f.curve.busy {
		t.Fatalf("read %q while busy, ceiling %.2f: want it taken for a busy server's", Reading(f), f.curve.hi)
	}
	hi := f.curve.hi
	sent = sent.Add(time.Second + 2*time.Millisecond)
	for i := range 2 { // busyLifted
		if f.curve.hi != hi {
			t.Fatalf("ceiling %.2f after %d acceptances, want %.2f until the second", f.curve.hi, i, hi)
		}
		acceptAt(f, sent, time.Second)
		sent = sent.Add(200 * time.Millisecond)
	}
	if f.curve.hi != 0 || f.curve.growth != rampGrowth {
		t.Errorf("ceiling %.2f, growth %v after two acceptances; want it lifted, growing from nothing", f.curve.hi, f.curve.growth)
	}
	if got := f.Rate(sent.Add(time.Second)); got <= 2*hi {
		t.Errorf("rate %.2f a second after the lift, want above twice the busy ceiling %.2f", got, hi)
	}
}
