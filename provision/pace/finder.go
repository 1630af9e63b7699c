package pace

import (
	"math"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Floor is the lowest rate a Finder slows to, in requests a second (one a minute).
const Floor = 1.0 / 60

// The Finder's constants, measured with internal/cmd/ratematrix (see BENCHMARKS.md).
const (
	// StartRate is where a Finder without a configured rate starts to grow after its fast
	// start ends with a 429 that tells nothing of the limit, in requests a second.
	StartRate = 10
	// fastStep is how many acceptances of the fast start (see Finder) allow one attempt more
	// in flight: a server that refuses at last, a window's quota spent, is sent about
	// accepted/fastStep attempts that it refuses with the first.
	fastStep = 32
	// fastTick is how often the fast start allows one attempt more in flight whatever the
	// answers: against a server that answers slowly, acceptances alone would take long.
	fastTick = time.Second
	// maxRate bounds the growth without a configured rate: far above what one client sends.
	maxRate = 1e6
	// rampGrowth is how fast the rate grows while the Finder knows nothing of the limit:
	// 25% every 100 ms (x10 in a second). When it crosses a bucket's rate, the rate of the
	// last attempt accepted, a step below the one refused, is the estimate: at 20 a second a
	// step is 12%. Finer steps are too fine to tell a crossing from a spent burst.
	rampGrowth = 2.231 // ln(1.25) / 0.1 s
	// fineGrowth is how fast the rate grows from the rate accepted after a growth crossed the
	// limit in a step too coarse to stop at: 25% in 400 ms, so that the next crossing lands
	// within a quarter of that step of the limit.
	fineGrowth = rampGrowth / 4
	// climbGrowth is how fast the rate grows after a 429, towards the rate that drew it:
	// 1% a second, slow enough that a run settles rather than oscillates.
	climbGrowth = 0.00995 // ln(1.01)
	// probeGrowth is the climb beyond the rate that drew the last 429, so that a server whose
	// limit rises is followed too: 1% in five minutes.
	probeGrowth = 0.0000332
	// margin spaces attempts this much wider than the rate found: pacing at exactly the limit
	// turns any jitter between here and the server into a 429. It doubles, up to maxMargin,
	// for each 429 that comes at a rate the server had sustained (jitter, not the limit).
	margin    = 0.015
	maxMargin = 0.08
	// noRetryAfter is the first pause after a 429 without Retry-After (shorter from what looks
	// like a bucket: see firstNoRA). Each one that follows without a success between doubles
	// the pause before it, or takes noRetryAfter if that is longer (the server is then no
	// longer taken for a bucket), up to maxNoRetryAfter.
	noRetryAfter    = 250 * time.Millisecond
	maxNoRetryAfter = time.Minute
	// fewAccepted is how many acceptances since the last pause an estimate needs.
	fewAccepted = 10
	// shortSpan is the span under which a burst spent says too little of the rate to settle
	// at: the half second of wait taken with it weighs more than the span.
	shortSpan = 1.0 // seconds
	// reopenProbe is how long after the earliest moment a window can reopen (its Retry-After
	// less the second it was rounded up by) the probe after its first Retry-After comes (see
	// reopening), for a Retry-After of minReopen to maxReopen. Beyond maxReopen the rounding
	// is a tenth of the wait or less, and a refused probe, which a window counting refused
	// requests keeps for the whole window, costs 429s a window later. At 2 s the growth that
	// spent a window counting refused requests is still in it, with the refused probe, when
	// the pool resumes.
	reopenProbe = 400 * time.Millisecond
	minReopen   = 3 * time.Second
	maxReopen   = 10 * time.Second
)

// Finder is the Policy that finds the server's limit from its answers and settles just under
// it, whatever the configured rate and whatever the server's limiter: a token bucket of any
// burst, a fixed or sliding window, with or without Retry-After or rate-limit headers.
//
// Until the first 429 it sends at the configured rate. Without one it starts fast: no spacing,
// one attempt in flight and one more for every fastStep accepted, so that a server without a
// limit is sent as fast as the workers go, and one that refuses at last is sent few attempts
// it refuses with the first. That 429 ends the fast start; when it tells nothing of the limit,
// the rate starts again from half StartRate and grows 25% every 100 ms; a step of that growth
// refused above the rate accepted is followed by a finer growth, 25% in 400 ms, from the rate
// accepted. A 429 ends the growth: the Finder estimates the limit from what the
// server accepted (see estimate), resumes there once the pause is over, and climbs 1% a second,
// never back up to the rate that drew the 429 but for a probe of 1% in five minutes.
// A Retry-After of a second, the least a server can say in whole seconds and most often a
// bucket's interval rounded up, pauses the pool for one interval at the new rate, followed by
// a probe (see Pacer); once the server has shown a window (a Retry-After of 2 s or more), the
// probe comes half-way through that second, when the window may have reopened. Longer
// Retry-Afters are kept whole, as is every one after the server has refused a probe, but for
// the first of a window of a few seconds, probed soon after the window can have reopened (see
// reopening).
// Rate-limit headers, when the server sends them, give the limit before any 429. Attempts are
// spaced 1.5% wider than the rate found, twice as wide after each 429 that jitter caused (up to
// 8%). A 429 for an attempt the schedule let start too close to the one before (that one was
// late) cuts nothing: from then on the Pacer keeps the gaps.
//
// A Finder is not safe for concurrent use; a Pacer serializes its calls.
type Finder struct {
	server               server        // what the answers have shown of the server's limiter
	max                  float64       // the configured rate, +Inf when none
	rate                 float64       // the rate at since, before the margin
	since                time.Time     // zero until the first call
	growth               float64       // per second, exponential, from since
	hi                   float64       // the rate that drew the latest 429; 0 before any
	lastCut              time.Time     // when the rate was last cut: 429s for attempts sent before say nothing new
	epoch                time.Time     // the end of the latest pause, or the first call
	accepted             int           // 2xx for attempts sent since epoch
	lastOK               float64       // the rate at which the latest accepted attempt was sent
	margin               float64       // spacing beyond the rate found
	sinceThrottle        int           // acceptances since the latest 429
	guessed              bool          // the latest cut knew nothing: the next 429 is not measured against it
	sumAccepted, sumTime float64       // acceptances and seconds of the epochs counted, and the pauses between
	counted              bool          // the latest epoch is in the sums
	rest                 time.Duration // the pause the server needed after the latest cut, as modelled
	noRA                 time.Duration // the latest pause after a 429 without Retry-After
	firstCut             time.Time     // the first cut
	sinceFirst           int           // acceptances of attempts sent since firstCut
	spent                spentBurst    // an early 429 read as jitter, as a spent burst would have been read
	reopening            reopening     // the probe after a window's first Retry-After
	reading              reading       // how the latest 429 was read
	probeCut             bool          // the latest 429 was a refused probe that cut the rate as reading says
	fast                 bool          // no configured rate: the fast start is on until fastEnd
	fastEnd              time.Time     // the end of the fast start (its first 429, or headers); zero while on
}

// server is what the answers have shown of the server's limiter, apart from the estimates of
// its rate and from the pauses planned: its kind (unknown, a bucket, a window), whether it is
// strict about gaps, whether it refuses probes, and what its headers state.
type server struct {
	windowed   bool          // a Retry-After of 2 s or more was seen: a window, closed until it ends
	stepped    bool          // it refused a step above the rate it accepted: a bucket, most likely
	strict     bool          // it refused a step above the rate it accepted, or a short gap
	reserve    float64       // what it accepts beyond its rate after a pause (a burst); 0 until measured
	minGap     time.Duration // the shortest gap before an attempt it accepted
	noProbes   bool          // it refused a probe: 429s pause for their Retry-After
	quota      float64       // the limit its rate-limit headers state; 0 when none
	window     time.Duration // the longest Reset seen
	quotaSince time.Time     // its first rate-limit headers
}

// reopening is the probe after a window's first Retry-After of a few seconds. Rounded up to a
// whole second, the Retry-After is a large part of so short a window, and an estimate of the
// limit that takes the wait as too long is never corrected: a window never refuses a rate
// below its own: a pool that spent the rest of one window and the next one's quota is told
// 3 s for a reopening 2.0-2.4 s away. The probe
// comes reopenProbe after the earliest moment the window can reopen, and the estimate takes
// it to reopen at that earliest moment; a refused probe says it reopens later in that second,
// and the estimate is taken again with the middle of the rest of it.
type reopening struct {
	retryAfter time.Duration // the window's Retry-After; 0 when no such probe is asked for
	probe, end time.Time     // when the probe may start, and when the Retry-After ends
	accepted   float64       // what the window accepted before the 429
	span       float64       // over how many seconds
}

// reading is how the Finder read a 429: each is one case of Observe or estimate, with its
// own test, named here.
type reading int

// The readings of a 429.
const (
	readNone reading = iota
	// readWindowProbeRefused: the probe after a window's first Retry-After was refused: the window
	// reopens later in that second (notReopened; TestFinderReopening).
	readWindowProbeRefused
	// readProbeRefused: a probe was refused: the pause was too short, not the rate too high; no
	// more probes (TestFinderWindowProbe, TestPacerProbe).
	readProbeRefused
	// readPauseTooShort: the first attempt after a pause without Retry-After was refused,
	// nothing accepted since: the pause was too short (a window closed longer, one that counts
	// refused requests kept closed by the retries). The pause doubles, and the rate is no
	// more than what the server accepted over the epochs counted and the pauses since
	// (TestFinderPauseTooShort).
	readPauseTooShort
	// readBeforeCut: the attempt was sent before the latest cut, at the rate before it: nothing
	// new (TestFinderCutsOncePerRoundTrip).
	readBeforeCut
	// readLateStart: the attempt followed the one before closer than the rate, that one late: the
	// server is strict about gaps, nothing is cut (jitter; TestFinderJitter).
	readLateStart
	// readSpentWindow: many accepted, then a Retry-After of 2 s or more: a window's quota spent
	// until then (spentWindow; TestFinderReopening).
	readSpentWindow
	// readStepCrossed: refused a step above the rate of the latest acceptance: a growth crossed a
	// bucket's rate (crossed; TestFinderStepWithoutRetryAfter).
	readStepCrossed
	// readBurstAfterAll: refused soon after an early 429 read as jitter, or its probe refused:
	// that was a bucket's burst spent (TestFinderEarly429).
	readBurstAfterAll
	// readEarly: refused within the first second at the configured rate: read as jitter, the
	// reading of a spent burst kept (TestFinderEarly429).
	readEarly
	// readFineCrossed: the fine growth after a step crossed the limit again: it lies just above
	// the latest acceptance (the traces of TestTraces).
	readFineCrossed
	// readTooHigh: refused soon after resuming at an estimate: a quarter less, or twice what was
	// accepted since the first 429 (TestFinderSettles).
	readTooHigh
	// readWiden: refused at a rate the server sustained, or by a server strict about gaps: jitter
	// crossed the limit; spaced wider (widen; TestFinderJitter).
	readWiden
	// readSums: many accepted since an earlier estimate: what the server accepted over every span
	// and pause since the first 429 (TestFinderWindowProbe).
	readSums
	// readGrowthCrossed: a growth from a guess crossed the limit in steps finer than crossed
	// tells: the limit lies just above the latest acceptance (TestFinderGrowthCrossed).
	readGrowthCrossed
	// readGuessTooHigh: a guess refused before it was accepted twice: half of it, growing
	// (the traces of TestTraces).
	readGuessTooHigh
	// readSpentBurst: many accepted at once, then refused at the same rate: a bucket's burst
	// spent; from what it accepted over the span and the pause, growing finely until the rate
	// is crossed (TestFinderRampLateStart, TestFinderFastStart).
	readSpentBurst
	// readGuess: nothing to go by: start again from half the rate refused, StartRate at most,
	// growing (TestFinderPauses, TestFinderFastStart).
	readGuess
)

var readingNames = [...]string{readNone: "none", readWindowProbeRefused: "window probe refused", readProbeRefused: "probe refused", readPauseTooShort: "pause too short", readBeforeCut: "sent before the cut", readLateStart: "late start", readSpentWindow: "spent window", readStepCrossed: "step crossed", readBurstAfterAll: "burst after all", readEarly: "early: jitter or burst", readFineCrossed: "fine growth crossed", readTooHigh: "estimate too high", readWiden: "jitter: widen", readSums: "sums", readGrowthCrossed: "growth crossed", readGuessTooHigh: "guess too high", readSpentBurst: "spent burst", readGuess: "guess"}

func (r reading) String() string { return readingNames[r] }

// spentBurst is how an early 429 read as jitter would have been read as a bucket's burst spent,
// kept until a 429 soon after tells that it was one, or fewAccepted acceptances that it was not.
type spentBurst struct {
	est, reserve float64 // the estimate and reserve of a spent burst; est 0 when none is kept
	margin       float64 // the margin before the jitter reading widened it
	span         float64 // the seconds over which the burst was spent
}

// NewFinder returns a Finder that never exceeds perSecond; 0 for no limit.
func NewFinder(perSecond float64) *Finder {
	f := &Finder{max: math.Inf(1), rate: StartRate, growth: rampGrowth, margin: margin, fast: true}
	if perSecond > 0 {
		f.max, f.rate, f.growth, f.fast = perSecond, perSecond, 0, false
	}
	return f
}

// Rate implements Policy.
func (f *Finder) Rate(now time.Time) float64 {
	if f.since.IsZero() {
		f.since, f.epoch = now, now
	}
	return f.base(now) / (1 + f.margin)
}

// base is the rate at t, before the margin.
func (f *Finder) base(t time.Time) float64 {
	if f.fastAt(t) {
		return maxRate
	}
	return max(min(f.grown(t), f.ceiling(t)), Floor)
}

// fastAt reports whether the fast start was on at t.
func (f *Finder) fastAt(t time.Time) bool {
	return f.fast && (f.fastEnd.IsZero() || t.Before(f.fastEnd))
}

// endFast ends the fast start at now: the rate grows from StartRate unless a cut sets it.
func (f *Finder) endFast(now time.Time) {
	if f.fast && f.fastEnd.IsZero() {
		f.fastEnd, f.rate, f.since = now, StartRate, now
	}
}

// InFlight implements Policy: during the fast start, one attempt and one more for every
// fastStep accepted and every fastTick since the start, so that a slow server is not sent one
// attempt at a time; no bound after it.
func (f *Finder) InFlight(now time.Time) (int, time.Time) {
	if !f.fast || !f.fastEnd.IsZero() {
		return 0, time.Time{}
	}
	if f.since.IsZero() {
		f.since, f.epoch = now, now
	}
	ticks := now.Sub(f.since) / fastTick
	return 1 + f.accepted/fastStep + int(ticks), f.since.Add((ticks + 1) * fastTick)
}

// grown is the rate at t before any ceiling: the rate set, grown since.
func (f *Finder) grown(t time.Time) float64 {
	return f.rate * math.Exp(f.growth*max(t.Sub(f.since).Seconds(), 0))
}

// ceiling is the most the rate may be at t: the configured rate, the limit stated by headers,
// and just under the rate that drew the last 429 (but for a slow probe beyond it).
func (f *Finder) ceiling(t time.Time) float64 {
	c := min(f.max, maxRate)
	if f.server.quota > 0 {
		c = min(c, f.server.quota)
	}
	if f.hi > 0 {
		c = min(c, f.hi*(1-margin)*math.Exp(probeGrowth*max(t.Sub(f.lastCut).Seconds(), 0)))
	}
	return c
}

// Observe implements Policy.
func (f *Finder) Observe(now time.Time, o Outcome) time.Duration {
	if f.since.IsZero() {
		f.since, f.epoch = now, now
	}
	f.readQuota(now, o.Quota)
	switch o.Action {
	case provision.Done:
		if !o.Sent.Before(f.epoch) {
			f.accepted++
			f.reopening = reopening{} // the window has reopened (not an answer sent before the 429)
		}
		if !f.firstCut.IsZero() && o.Sent.After(f.firstCut) {
			f.sinceFirst++
		}
		f.sinceThrottle++
		if f.sinceThrottle >= fewAccepted {
			f.spent = spentBurst{} // the 429 was jitter after all
		}
		f.lastOK = f.spacing(o.Sent)
		f.noRA = 0
		if o.Gap > 0 && (f.server.minGap == 0 || o.Gap < f.server.minGap) {
			f.server.minGap = o.Gap
		}
	case provision.Throttled:
		f.endFast(now)
		if !o.Probe && o.Sent.After(f.lastCut) {
			f.reopening = reopening{} // a new 429: the probe is not the window's any more
		}
		if o.RetryAfter >= 2*time.Second {
			if !f.server.windowed && o.RetryAfter >= minReopen && o.RetryAfter <= maxReopen &&
				f.accepted >= fewAccepted && o.Sent.After(f.lastCut) {
				f.reopening = reopening{retryAfter: o.RetryAfter, end: now.Add(o.RetryAfter),
					probe: now.Add(o.RetryAfter - time.Second + reopenProbe)}
			}
			f.server.windowed = true
		}
		echo := !o.Probe && !o.Sent.After(f.lastCut) // sent before the latest cut
		// The first attempt after a pause without Retry-After, refused with nothing accepted
		// since: the pause was too short, as a refused probe's.
		tooShort := o.RetryAfter <= 0 && f.noRA > 0 && !echo && !o.Sent.Before(f.since)
		pause := o.RetryAfter
		if pause <= 0 {
			if !echo || f.noRA == 0 {
				// The 429s of the attempts in flight with one that set the pause say the
				// same: they do not lengthen it.
				f.noRA = min(max(2*f.noRA, f.firstNoRA(o)), maxNoRetryAfter)
			}
			pause = f.noRA
		}
		defer func() { f.sinceThrottle = 0 }()
		f.probeCut = false
		switch {
		case tooShort:
			f.reading = readPauseTooShort
			if f.sumTime > 0 {
				// What the server accepted over the epochs counted, and the pauses since,
				// this one included: the least time a window needs for it.
				waited := now.Sub(f.lastCut) + pause
				f.rate = min(f.base(now), max(f.sumAccepted/(f.sumTime+waited.Seconds()), Floor))
				f.since, f.growth = now, climbGrowth
			}
			f.resumeAt(now.Add(pause))
			return pause
		case o.Probe && f.reopening.retryAfter > 0:
			f.reading = readWindowProbeRefused
			return f.notReopened(now)
		case o.Probe:
			f.reading = readProbeRefused
			// The pause was too short, not the rate too high: the Pacer waits out the
			// Retry-After, and so does the count of what the server accepts. A server that
			// refuses a probe (a fixed window, closed until its end) is not probed again.
			// The server needed longer than the probe's wait, and no longer than the
			// Retry-After (probes follow only one of a second): half-way, as modelled.
			f.server.noProbes = true
			f.rest = (f.rest + time.Second) / 2
			if f.spent.est > 0 && o.Sent.After(f.lastCut) {
				// The probe waited for a token at the spent burst's estimate, and was refused:
				// a burst it was.
				f.cut(now, o, pause)
				f.probeCut = true
			}
			f.resumeAt(now.Add(pause))
			return pause
		case echo:
			f.reading = readBeforeCut
			if o.RetryAfter <= 0 {
				f.resumeAt(now.Add(pause))
			}
		case f.jitter(o):
			f.reading = readLateStart
			f.server.strict = true
		default:
			f.cut(now, o, pause)
		}
		if d := f.probeAfter(now, o.Answer); d > 0 {
			return min(pause, d)
		}
		return pause
	}
	return 0
}

// resumeAt starts the count of what the server accepts, and the rate's growth, again at end,
// the end of a pause.
func (f *Finder) resumeAt(end time.Time) {
	if end.After(f.since) {
		f.since, f.epoch, f.accepted = end, end, 0
	}
}

// notReopened hears the refusal of the probe after a window's first Retry-After: the window
// reopens between the probe and the Retry-After's end. The estimate is taken again with the
// middle of that, and the pool waits for the end. Not for the probe's own Retry-After, which
// names the same reopening rounded up again, later. Probes after later Retry-Afters of a
// second go on: this one was refused for coming early in the second, not half-way.
func (f *Finder) notReopened(now time.Time) time.Duration {
	r := f.reopening
	f.reopening = reopening{}
	f.rest = r.retryAfter - (time.Second-reopenProbe)/2
	est, hi := f.spentWindow(r.accepted, r.span, f.rest, f.hi)
	f.rate, f.hi = max(est, Floor), hi
	pause := max(r.end.Sub(now), 0)
	f.resumeAt(now.Add(pause))
	return pause
}

// firstNoRA is the pause after a 429 without Retry-After that opens the run or follows a
// success: noRetryAfter, a guess, for a server that may be a window, refusing until it
// reopens, which would answer shorter pauses with 429s. Shorter from what looks like a bucket:
// one that refused a step above the rate it accepted (this attempt, or one before) needs one
// interval at the rate accepted before its next token; one that refused the run's first
// attempts (fewer than fewAccepted, less than most windows' quota) is given one interval at
// the rate the pool starts again from, half the rate refused and StartRate at most, as a
// Retry-After of a second would be probed. A window with a smaller quota, or one spent before
// the run began, costs one more 429 for it.
func (f *Finder) firstNoRA(o Outcome) time.Duration {
	if f.lastOK > 0 && (f.server.stepped || f.crossed(o.Sent)) {
		return f.intervalAt(f.lastOK)
	}
	if f.hi == 0 && f.accepted < fewAccepted {
		return f.intervalAt(guessRate(f.spacing(o.Sent)))
	}
	return noRetryAfter
}

// crossed reports whether an attempt sent at t and refused was a step above the rate of the
// latest acceptance: a growth (from nothing, or after a guess) crossing a bucket's rate, most
// likely, though a window whose quota runs out as the rate grows looks the same.
func (f *Finder) crossed(t time.Time) bool {
	return f.accepted >= 2 && f.spacing(t) > f.lastOK*1.05
}

// probeAfter is how long the pool waits from now, a 429's arrival, before it probes, ahead of
// the Retry-After; 0 for no probe. A window's first Retry-After of a few seconds is probed (see
// reopening), even after a refused probe: that one came half-way through a Retry-After of a
// second, this one comes early in the last second of a longer one. Otherwise only a
// Retry-After of a second is probed, the least a server can say in whole seconds, and only
// until the server refuses a probe. From a bucket it is most often one interval of its limit
// rounded up: the probe comes one interval at the new rate. From a window, it is when the
// window reopens, anywhere in that second: the probe comes half-way, and costs one 429 when
// the reopening is later.
func (f *Finder) probeAfter(now time.Time, a provision.Answer) time.Duration {
	switch {
	case f.reopening.retryAfter > 0:
		// Also for a late 429, for an attempt sent before the window's: the probe stays.
		return f.reopening.probe.Sub(now)
	case a.RetryAfter <= 0 || a.RetryAfter > time.Second || f.server.noProbes:
		return 0
	case f.server.windowed:
		return a.RetryAfter / 2
	case f.spent.est > 0:
		// Long enough for a token of a bucket at the burst's estimate, in case that was it.
		return f.intervalAt(f.spent.est)
	}
	return f.interval()
}

// interval is the interval between attempts at the rate set, once a pause is over.
func (f *Finder) interval() time.Duration {
	return f.intervalAt(f.base(f.since))
}

// intervalAt is the interval between attempts at rate, with the margin.
func (f *Finder) intervalAt(rate float64) time.Duration {
	return time.Duration(float64(time.Second) * (1 + f.margin) / rate)
}

// jitter reports whether a 429 came for an attempt that started closer to the one before than
// the limit found allows, because that one started late, and closer than any the server
// accepted, at a rate it had sustained for half a second, since any other 429: the rate is not
// too high, the server is strict about gaps, and the Pacer keeps them from now on. Not while
// growing from nothing (the 429 ends that growth in any case), nor with a Retry-After of
// seconds (a spent window). A bucket whose burst runs out may refuse the shortest gap too: its
// next 429 follows at once, and is not taken for jitter.
func (f *Finder) jitter(o Outcome) bool {
	limit := time.Duration(float64(time.Second) / f.base(o.Sent))
	sustained := f.accepted >= fewAccepted && f.sinceThrottle >= fewAccepted && o.Sent.Sub(f.epoch) >= time.Second/2
	return sustained && !f.ramping(o.Sent) && o.RetryAfter <= time.Second &&
		o.Gap > limit/2 && o.Gap < limit && o.Gap < f.server.minGap
}

// ramping reports whether the rate was still growing from nothing at t.
func (f *Finder) ramping(t time.Time) bool {
	return f.growth >= fineGrowth && f.grown(t) < f.ceiling(t)
}

// cut sets the rate after a 429 for an attempt sent since the last cut.
func (f *Finder) cut(now time.Time, o Outcome, pause time.Duration) {
	a := o.Answer
	sent := f.spacing(a.Sent)
	guessed := f.guessed
	f.guessed = false
	est, hi, growth := f.estimate(now, o, sent, pause, guessed)
	f.rate = max(min(est, hi*(1-margin)), Floor)
	f.growth = growth
	f.hi = hi
	f.lastCut = now
	if f.firstCut.IsZero() {
		f.firstCut = now
	}
	f.since = now.Add(pause)
	if d := f.probeAfter(now, a); d > 0 {
		f.since = now.Add(min(pause, d))
	}
	f.epoch, f.accepted = f.since, 0
}

// spacing is the rate that spaced an attempt started at t from the one before it. The interval
// before a slot is set when the worker begins to wait for it, one interval earlier: while the
// rate grows, the rate at t itself is higher than the one that spaced the attempt.
func (f *Finder) spacing(t time.Time) float64 {
	r := f.base(t)
	return f.base(t.Add(-f.intervalAt(r)))
}

// estimate is the server's limit as the answers since the last pause show it, the rate not to
// climb back to, and how fast to climb. The server accepted f.accepted attempts over span, the
// latest spaced at f.lastOK, then refused one spaced at sent; the pause is its Retry-After, in
// whole seconds rounded up, so the true wait is taken to end half a second before. The first
// case that matches is the 429's reading, each documented with its constant (type reading):
// readSpentWindow, readStepCrossed, readBurstAfterAll, readEarly, readFineCrossed,
// readGuessTooHigh, readTooHigh, readWiden, readSums, readGrowthCrossed, readSpentBurst, and
// readGuess when nothing matches. Details the constants leave out:
//
//   - readEarly: a strict bucket at its own rate refuses an attempt that arrives a little
//     early, 0.5 s in, as a bucket of burst 10 at half the rate does when its burst runs out.
//     Read as jitter, but the reading of a spent burst is kept, and the probe waits for a
//     token at its rate: a bucket whose burst ran out takes the probe and refuses what
//     follows. Not without a Retry-After, where no probe comes.
//   - readTooHigh: a quarter less, or down to twice what the server accepted since the first
//     429 over 2 s or more, when that is lower: a bucket refusing as fast as it accepts would
//     otherwise take a 429 for each quarter. Twice, because a bucket of burst 1 loses what a
//     pause leaves unused. Not from a window that has accepted anything, where a refusal soon
//     after reopening says where the window's requests lie: the sums, however few accepted.
//   - readSums: a pause counts as long as the server needed it, as modelled: a pause kept
//     whole past a window's reopening is the pool's loss, not the server's limit. A bucket's
//     burst, once measured, is taken out of the sums: it was spent once, it is no rate.
//   - readSpentBurst: not when, after 0.75 s at a rate not growing, the refused attempt
//     followed the one before closer than that rate (a late start): the refusal may be a
//     strict bucket's at the right rate; the guess costs a quick climb and a 429.
func (f *Finder) estimate(now time.Time, o Outcome, sent float64, pause time.Duration, guessed bool) (est, hi, growth float64) {
	a := o.Answer
	span := now.Sub(f.epoch).Seconds()
	rest := pause
	if a.RetryAfter >= time.Second {
		rest -= 500 * time.Millisecond // the true wait lies in the second before
	}
	if f.reopening.retryAfter > 0 {
		// Taken to reopen as early as it can: the probe, if accepted, says it reopened in the
		// second's first reopenProbe, and an estimate too high draws a 429 that corrects it,
		// one too low nothing (see reopening).
		rest = a.RetryAfter - time.Second
		f.reopening.accepted, f.reopening.span = float64(f.accepted), span
	}
	accepted := float64(f.accepted)
	overall := accepted / (span + rest.Seconds())
	many := f.accepted >= fewAccepted
	// Every epoch, pauses included as long as they were, for an estimate that the rounding of
	// any one Retry-After does not sway; but not one that grew from nothing, which spent most
	// of its time below the limit, unless the server's quota ran out in it (a window).
	if f.growth < fineGrowth || a.RetryAfter >= 2*time.Second || f.fastAt(a.Sent) {
		if f.counted {
			f.sumTime += min(f.epoch.Sub(f.lastCut), f.rest).Seconds()
		}
		f.sumAccepted += accepted
		f.sumTime += span
		f.counted = true
	} else {
		f.counted = false
	}
	taken := rest // the pause to come: shorter when the pool probes
	if d := f.probeAfter(now, a); d > 0 {
		if !f.server.windowed && f.lastOK > 0 {
			d = time.Duration(float64(time.Second) / f.lastOK) // about an interval at the new rate
		}
		taken = min(rest, d)
	}
	f.rest = taken
	windowSums := f.server.windowed && f.sumAccepted > 0 // a window that has accepted anything: the sums measure it
	beyond := max(accepted-overall*span, 1)              // what the server accepted beyond the overall rate: a burst
	spent := f.spent
	f.spent = spentBurst{}
	switch {
	case many && a.RetryAfter >= 2*time.Second:
		f.reading = readSpentWindow
		est, hi := f.spentWindow(accepted, span, rest, sent)
		return est, hi, climbGrowth
	case f.crossed(a.Sent):
		// The limit lies between the two: resume at the one accepted. A bucket that refuses a
		// step above the rate it accepts has little or no burst.
		f.reading = readStepCrossed
		f.server.reserve, f.server.strict, f.server.stepped = 1, true, true
		if f.growth == rampGrowth && sent < 2*f.lastOK {
			return f.lastOK, sent, fineGrowth
		}
		return f.lastOK, f.lastOK, climbGrowth
	case spent.est > 0 && f.sinceThrottle < fewAccepted:
		// Refused again soon after an early 429 read as jitter: that was a burst spent; in a
		// fraction of a second, grow from there until the rate is crossed.
		f.reading = readBurstAfterAll
		f.server.reserve, f.margin = spent.reserve, spent.margin
		if spent.span < shortSpan {
			f.guessed = true
			return spent.est, sent, fineGrowth
		}
		return spent.est, sent, climbGrowth
	case many && (f.hi == 0 || guessed) && !f.ramping(a.Sent) && span < 1 && a.RetryAfter > 0 && a.RetryAfter <= time.Second && f.sinceThrottle >= fewAccepted:
		// Refused early at the configured rate: jitter, or a bucket's burst spent. Read as
		// jitter, keeping the burst's reading for a 429 that follows soon; not without a
		// Retry-After, where no probe would test it.
		f.reading = readEarly
		f.spent = spentBurst{est: overall, reserve: beyond, margin: f.margin, span: span}
		return f.widen(sent)
	case f.growth == fineGrowth && f.lastOK > 0 && f.accepted >= 2:
		// The fine growth after a step crossed the limit again: it lies just above the
		// latest acceptance, now to a quarter of the step.
		f.reading = readFineCrossed
		return f.lastOK, f.lastOK, climbGrowth
	case guessed && f.accepted < 2 && sent <= f.rate*1.05 && !windowSums:
		// A guess refused at its own rate before it was accepted twice: half of it, growing
		// as before.
		f.reading, f.guessed = readGuessTooHigh, true
		return guessRate(sent), sent, rampGrowth
	case f.hi > 0 && !many && !windowSums:
		f.reading = readTooHigh
		est := sent * 0.75
		if d := now.Sub(f.firstCut).Seconds(); d >= 2 && f.sinceFirst > 0 { // what was accepted since, twice
			est = min(est, max(2*float64(f.sinceFirst)/d, sent*0.25))
		}
		return est, sent, climbGrowth
	case f.server.strict && f.margin < maxMargin && f.lastOK > 0 && sent <= f.lastOK*1.05 && f.sinceThrottle >= fewAccepted,
		many && (f.hi == 0 || guessed) && span >= 1 && !f.ramping(a.Sent):
		// Refused at a rate the server sustained, for a second or more, or by a server strict
		// about gaps: jitter crossed the limit.
		f.reading = readWiden
		return f.widen(sent)
	case (many && f.counted || windowSums) && f.hi > 0 && f.sumTime > 0:
		f.reading = readSums
		sum := f.sumAccepted
		if !f.server.windowed && f.server.reserve > 1 {
			sum = max(sum-f.server.reserve, 1) // a bucket's burst, spent once, is no rate
		}
		est = sum / (f.sumTime + taken.Seconds())
		if f.server.reserve > 1 {
			est = max(est, (accepted-f.server.reserve)/span)
		}
		return est, min(est, sent), climbGrowth
	case many && f.hi > 0 && f.ramping(a.Sent) && f.lastOK > 0:
		// A growth from a guess crossed the limit in steps finer than crossed tells (at 50 a
		// second, 4% an interval): the limit lies just above the latest acceptance.
		f.reading = readGrowthCrossed
		return f.lastOK, sent, climbGrowth
	case many && !(span >= 0.75 && o.Gap > 0 && o.Gap < time.Duration(float64(time.Second)/sent) && !f.ramping(a.Sent)):
		// The wait taken for the rate weighs much in a span of a second or less: grow from
		// there until the rate is crossed.
		f.server.reserve = beyond
		f.reading, f.guessed = readSpentBurst, true
		return overall, sent, fineGrowth
	}
	f.reading = readGuess
	f.guessed = true
	if f.fastAt(a.Sent) {
		// Refused in the fast start with little accepted: taken as sent at StartRate.
		return guessRate(StartRate), sent, rampGrowth
	}
	return guessRate(sent), sent, rampGrowth
}

// spentWindow reads a window whose quota ran out: it accepted accepted attempts over span
// seconds, and reopened rest later. The limit is what it accepted over both, the ceiling a
// little above it (no higher than sent, the rate refused), and the reserve what it accepted
// beyond that limit.
func (f *Finder) spentWindow(accepted, span float64, rest time.Duration, sent float64) (est, hi float64) {
	est = accepted / (span + rest.Seconds())
	f.server.reserve = max(accepted-est*span, 1)
	return est, min(est*(1+2*margin), sent)
}

// guessRate is where the rate starts again, growing, when a 429 refused sent and nothing tells
// the limit: half of it, StartRate at most.
func guessRate(sent float64) float64 { return min(sent/2, StartRate) }

// widen reads a 429 at a rate the server sustained as jitter crossing the limit: the rate holds,
// and attempts are spaced a little wider rather than cut.
func (f *Finder) widen(sent float64) (est, hi, growth float64) {
	f.margin, f.server.strict = min(2*f.margin, maxMargin), true
	return min(f.lastOK, sent), sent, climbGrowth
}

// readQuota takes the limit from rate-limit headers: Limit requests a window. The window is
// the one the server states (RateLimit-Policy w=), or else the longest Reset seen, once the
// headers have been seen for that long: a Reset read early in a window is short of it, and a
// Unix time (X-RateLimit-Reset) names a whole second. Windows shorter than 2 s are not
// trusted, their Reset being rounded to whole seconds.
func (f *Finder) readQuota(now time.Time, q *provision.Quota) {
	if q == nil || q.Limit < 2 {
		return
	}
	if f.server.quotaSince.IsZero() {
		f.server.quotaSince = now
	}
	w := q.Window
	if w == 0 {
		f.server.window = max(f.server.window, q.Reset)
		if now.Sub(f.server.quotaSince) < f.server.window {
			return
		}
		w = f.server.window
	}
	if w < 2*time.Second {
		return
	}
	quota := float64(q.Limit) / w.Seconds()
	if quota == f.server.quota {
		return
	}
	// From now on the rate is the stated limit, unless a 429 finds it lower.
	f.endFast(now)
	r := f.base(now)
	f.server.quota = quota
	f.rate, f.since, f.growth = min(r, quota), now, climbGrowth
	if f.hi == 0 {
		f.rate = quota
	}
}
