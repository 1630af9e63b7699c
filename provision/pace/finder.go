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

	// maxBusy bounds the pauses of a busy server (see readBusy), doubling from its Retry-After:
	// the longest a run waits after another client of the limit has let go.
	maxBusy = 8 * time.Second
	// busyLifted is how many acceptances in a row lift a ceiling set while the server was
	// busy (see lift).
	busyLifted = 2
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
// server accepted (see readCut), resumes there once the pause is over, and climbs 1% a second,
// never back up to the rate that drew the 429 but for a probe of 1% in five minutes (and for a
// lift, below).
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
// A 429 for an attempt sent after the Retry-After of the one before had ended, nothing sent
// between, is read busy: another client of the limit took what that Retry-After promised (a
// second run beside this one). It cuts nothing, and the pauses double from the Retry-After up
// to maxBusy; a ceiling set meanwhile by a reading that measured nothing is that client's, and
// is lifted once the server accepts again, once a run. A limit that counts this run's own
// refusals looks the same: so that it costs a few 429s, not the run (TestBackpressureAlone),
// there is one lift a run, and a lift it refuses under twice the ceiling lifted ends busy
// readings for the run.
//
// A Finder is not safe for concurrent use; a Pacer serializes its calls.
type Finder struct{ state }

// The Finder in files: finder.go its state, decide and apply, the one function that writes
// the state; reading.go the readings of a 429, one function each; estimate.go the estimators
// (readCut, and what each of their readings concludes); plan.go the pauses (without
// Retry-After, probes, a window's reopening); curve.go the rate as a function of time.

// state is all a Finder knows, in parts kept apart: the model of the server's limiter, the
// rate set from the estimates, the counts of what the server accepted, the sums the estimators
// keep, the pauses planned, and how the latest 429 was read. Only apply writes it.
type state struct {
	server    server        // what the answers have shown of the server's limiter
	curve     curve         // the rate set, how it grows, under what ceiling
	count     count         // what the server accepted since the latest pause and the latest 429
	sums      sums          // what it accepted over the epochs counted, for the sums reading
	noRA      time.Duration // the latest pause after a 429 without Retry-After
	lastRA    time.Duration // the Retry-After of the latest 429, until an acceptance
	busyPause time.Duration // the latest pause of a busy server's 429, until an acceptance
	reopening reopening     // the probe after a window's first Retry-After
	spent     spentBurst    // an early 429 read as jitter, as a spent burst would have been read
	guessed   bool          // the latest cut knew nothing: the next 429 is not measured against it
	reading   reading       // how the latest 429 was read
	probeCut  bool          // the latest 429 was a refused probe that cut the rate as reading says
}

// decision is what the Finder concludes from an answer: the Finder's state once the answer is
// heard, and the pause it asks for. decide computes it from the Finder, which it only reads,
// each step taking the decision so far and adding its own conclusions; apply writes it.
type decision struct {
	state
	pause time.Duration // how long every attempt waits from now
}

// server is what the answers have shown of the server's limiter, apart from the estimates of
// its rate and from the pauses planned: its kind (unknown, a bucket, a window), whether it is
// strict about gaps, whether it refuses probes, and how its headers state its window.
type server struct {
	windowed   bool          // a Retry-After of 2 s or more was seen: a window, closed until it ends
	stepped    bool          // it refused a step (or a growth) above the rate it accepted: a bucket, most likely
	strict     bool          // it refused a step above the rate it accepted, or a short gap
	reserve    float64       // what it accepts beyond its rate after a pause (a burst); 0 until measured
	minGap     time.Duration // the shortest gap before an attempt it accepted
	noProbes   bool          // it refused a probe: 429s pause for their Retry-After
	alone      bool          // a lift was refused under twice the ceiling it lifted: no 429 is read busy
	lifted     bool          // a ceiling was lifted (see lift): once a run
	heldLong   bool          // a busy 429 came after a pause of maxBusy: another client, or a window of more than 8 s counting refusals behind a short Retry-After
	window     time.Duration // the longest Reset seen
	quotaSince time.Time     // its first rate-limit headers
}

// count is what the server accepted, counted from the latest pause (the epoch), the latest
// 429 and the first cut.
type count struct {
	epoch         time.Time // the end of the latest pause, or the first call
	accepted      int       // 2xx for attempts sent since epoch
	lastOK        float64   // the rate at which the latest accepted attempt was sent
	sinceThrottle int       // acceptances since the latest 429
	busy          bool      // a 429 read busy since the latest fewAccepted acceptances in a row
	firstCut      time.Time // the first cut
	sinceFirst    int       // acceptances of attempts sent since firstCut
}

// NewFinder returns a Finder that never exceeds perSecond; 0 for no limit.
func NewFinder(perSecond float64) *Finder {
	f := &Finder{state{curve: curve{max: math.Inf(1), rate: StartRate, growth: rampGrowth, margin: margin, fast: true}}}
	if perSecond > 0 {
		f.curve.max, f.curve.rate, f.curve.growth, f.curve.fast = perSecond, perSecond, 0, false
	}
	return f
}

// Rate implements Policy.
func (f *Finder) Rate(now time.Time) float64 {
	f.begin(now)
	return f.curve.at(now) / (1 + f.curve.margin)
}

// InFlight implements Policy: during the fast start, one attempt and one more for every
// fastStep accepted and every fastTick since the start, so that a slow server is not sent one
// attempt at a time; no bound after it.
func (f *Finder) InFlight(now time.Time) (int, time.Time) {
	if !f.curve.fast || !f.curve.fastEnd.IsZero() {
		return 0, time.Time{}
	}
	f.begin(now)
	ticks := now.Sub(f.curve.since) / fastTick
	return 1 + f.count.accepted/fastStep + int(ticks), f.curve.since.Add((ticks + 1) * fastTick)
}

// Observe implements Policy: it decides what the answer says, then applies that.
func (f *Finder) Observe(now time.Time, o Outcome) time.Duration {
	f.begin(now)
	d := f.decide(now, o)
	f.apply(d)
	return d.pause
}

// begin starts the Finder's clock at its first call, whichever it is.
func (f *Finder) begin(now time.Time) {
	if f.curve.since.IsZero() {
		d := decision{state: f.state}
		d.curve.since, d.count.epoch = now, now
		f.apply(d)
	}
}

// apply is the one function that writes the Finder's state: a decision, once taken.
func (f *Finder) apply(d decision) { f.state = d.state }

// decide is what the answer at now says: what its headers state, then what a success counts,
// or how a 429 is read and what that reading concludes (see throttled). It reads the Finder
// only.
func (f *Finder) decide(now time.Time, o Outcome) decision {
	d := decision{state: f.state}
	d.readQuota(now, o.Quota)
	switch o.Action {
	case provision.Done:
		d.accepted(now, o)
	case provision.Throttled:
		d.throttled(now, o)
	}
	return d
}

// accepted counts a success: the latest 429 was no spent burst once fewAccepted follow it; and
// for an attempt sent since the latest pause, the window has reopened and the pause without
// Retry-After starts again from its first. An answer to one sent before the pause, come late,
// says neither: it was a success before the 429, not between two (HAProxy counting refusals,
// 100/s at x5: it made the pause after the refused retry be read as a new cut, 5.8 x N/R).
func (d *decision) accepted(now time.Time, o Outcome) {
	c := &d.count
	if !o.Sent.Before(c.epoch) {
		c.accepted++
		d.reopening = reopening{} // the window has reopened (not an answer sent before the 429)
		d.noRA, d.busyPause, d.lastRA = 0, 0, 0
	}
	if !c.firstCut.IsZero() && o.Sent.After(c.firstCut) {
		c.sinceFirst++
	}
	c.sinceThrottle++
	if d.curve.busy && !d.server.lifted && o.Sent.After(d.curve.lastCut) && c.sinceThrottle >= busyLifted {
		d.lift(now)
	}
	if c.sinceThrottle >= fewAccepted {
		c.busy = false
		d.spent = spentBurst{} // the 429 was jitter after all
	}
	c.lastOK = d.curve.spacing(o.Sent)
	if o.Gap > 0 && (d.server.minGap == 0 || o.Gap < d.server.minGap) {
		d.server.minGap = o.Gap
	}
}

// readQuota takes the limit from rate-limit headers: Limit requests a window. The window is
// the one the server states (RateLimit-Policy w=), or else the longest Reset seen, once the
// headers have been seen for that long: a Reset read early in a window is short of it, and a
// Unix time (X-RateLimit-Reset) names a whole second. Windows shorter than 2 s are not
// trusted, their Reset being rounded to whole seconds.
func (d *decision) readQuota(now time.Time, q *provision.Quota) {
	if q == nil || q.Limit < 2 {
		return
	}
	if d.server.quotaSince.IsZero() {
		d.server.quotaSince = now
	}
	w := q.Window
	if w == 0 {
		d.server.window = max(d.server.window, q.Reset)
		if now.Sub(d.server.quotaSince) < d.server.window {
			return
		}
		w = d.server.window
	}
	if w < 2*time.Second {
		return
	}
	quota := float64(q.Limit) / w.Seconds()
	if quota == d.curve.quota {
		return
	}
	// From now on the rate is the stated limit, unless a 429 finds it lower.
	c := d.curve.endFast(now)
	r := c.at(now)
	c.quota = quota
	c.rate, c.since, c.growth = min(r, quota), now, climbGrowth
	if c.hi == 0 {
		c.rate = quota
	}
	d.curve = c
}

// Reading says how the Finder read the latest 429, in a few words ("spent burst", "pause too
// short"; "" before any): what a trace of a run prints beside the rate it set.
func (f *Finder) Reading() string {
	if f.probeCut {
		return "probe refused: " + f.reading.String()
	}
	return f.reading.String()
}
