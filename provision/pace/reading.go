package pace

import "time"

// reading is how the Finder read a 429: each is one case of throttled or of readCut, with its
// own function (or case of conclude), its case of TestReadings, and the tests named here.
type reading int

// The readings of a 429.
const (
	readNone reading = iota
	// readWindowProbeRefused: the probe after a window's first Retry-After was refused: the window
	// reopens later in that second (windowProbeRefused; TestFinderReopening).
	readWindowProbeRefused
	// readProbeRefused: a probe was refused: the pause was too short, not the rate too high; no
	// more probes (probeRefused; TestFinderWindowProbe, TestPacerProbe).
	readProbeRefused
	// readPauseTooShort: the first attempt after a pause without Retry-After was refused,
	// nothing accepted since: the pause was too short (a window closed longer, one that counts
	// refused requests kept closed by the retries). The pause doubles, and the rate is no
	// more than what the server accepted over the epochs counted and the pauses since
	// (pauseTooShort; TestFinderPauseTooShort).
	readPauseTooShort
	// readBusy: refused though sent after the Retry-After of the 429 before it had ended, with
	// nothing of the pool's sent between: the limit is held by another client (a second run
	// beside this one), or by this run's own refused requests that it counts. Nothing is
	// cut; the pause doubles from the Retry-After, up to maxBusy, and a ceiling that a reading
	// measuring nothing sets meanwhile is lifted at the busyLifted-th acceptance after it, once
	// a run. Not once the server has shown a window (a Retry-After of 2 s or more), nor once the
	// lift was refused under twice the ceiling it lifted (the run is alone, and its limit counts
	// refusals), unless a busy 429 had come after a pause of maxBusy (heldLong) (busy, lift;
	// TestFinderBusy, TestBackpressureAlone).
	readBusy
	// readBeforeCut: the attempt was sent before the latest cut, at the rate before it: nothing
	// new (beforeCut; TestFinderCutsOncePerRoundTrip).
	readBeforeCut
	// readLateStart: the attempt followed the one before closer than the rate, that one late: the
	// server is strict about gaps, nothing is cut (jitter, lateStart; TestFinderJitter).
	readLateStart
	// readSpentWindow: many accepted, then a Retry-After of 2 s or more, or of 1 s from a server
	// that refused a probe (a window of a second, closed until its end): a window's quota spent
	// until then (spentWindow; TestFinderReopening, TestReadings).
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
	// readWiden: refused at a rate the server sustained, or by a server strict about gaps, or
	// at the rate accepted just below a growth crossing, the 429 after it: jitter crossed the
	// limit; spaced wider (widen; TestFinderJitter, TestReadings).
	readWiden
	// readSums: many accepted since an earlier estimate: what the server accepted over every span
	// and pause since the first 429 (TestFinderWindowProbe).
	readSums
	// readGrowthCrossed: a growth from a guess crossed the limit in steps finer than crossed
	// tells: the limit lies just above the latest acceptance, and the server, refusing so
	// fine a step, is a strict bucket with little or no burst, as for a step crossed
	// (TestFinderGrowthCrossed).
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

var readingNames = [...]string{readNone: "none", readWindowProbeRefused: "window probe refused", readProbeRefused: "probe refused", readPauseTooShort: "pause too short", readBusy: "busy", readBeforeCut: "sent before the cut", readLateStart: "late start", readSpentWindow: "spent window", readStepCrossed: "step crossed", readBurstAfterAll: "burst after all", readEarly: "early: jitter or burst", readFineCrossed: "fine growth crossed", readTooHigh: "estimate too high", readWiden: "jitter: widen", readSums: "sums", readGrowthCrossed: "growth crossed", readGuessTooHigh: "guess too high", readSpentBurst: "spent burst", readGuess: "guess"}

func (r reading) String() string { return readingNames[r] }

// throttled reads a 429. First what it shows whatever its reading: the fast start is over, a
// Retry-After of seconds shows a window (see sawRetryAfter), and the pause it asks for is
// planned (planPause). Then its reading, the first case that matches, each a function
// named for it that says what the reading concludes; a 429 for an attempt sent since the latest
// cut that none of them reads is read by the estimators (cut).
func (d *decision) throttled(now time.Time, o Outcome) {
	d.curve = d.curve.endFast(now)
	d.sawRetryAfter(now, o)
	echo := !o.Probe && !o.Sent.After(d.curve.lastCut) // sent before the latest cut
	// The first attempt after a pause without Retry-After, refused with nothing accepted
	// since: the pause was too short, as a refused probe's.
	tooShort := o.RetryAfter <= 0 && d.noRA > 0 && !echo && !o.Sent.Before(d.curve.since)
	busy := o.RetryAfter > 0 && d.lastRA > 0 && o.Gap >= d.lastRA && !echo && !o.Probe && !d.server.windowed && !d.server.alone
	if !echo {
		d.lastRA = o.RetryAfter
	}
	pause := d.planPause(o, echo)
	d.probeCut = false
	switch {
	case tooShort:
		d.pauseTooShort(now, pause)
	case busy:
		d.busy(now, o)
	case o.Probe && d.reopening.retryAfter > 0:
		d.windowProbeRefused(now)
	case o.Probe:
		d.probeRefused(now, o, pause)
	case echo:
		d.beforeCut(now, o, pause)
	case d.jitter(o):
		d.lateStart(now, o, pause)
	default:
		d.pause = d.cut(now, o, pause)
	}
	d.count.sinceThrottle = 0
}

// pauseTooShort concludes readPauseTooShort: the pause, doubled, is kept whole, and when the
// sums hold anything the rate is at most what the server accepted over the epochs counted and
// the pauses since, this one included (the least time a window needs for it), climbing. A rate
// already under that (a guess) is left to grow as it was, past the sums too: its next 429
// finds the limit, as any guess's does (climbing from a guess of 10 a second at 1% a second, a
// pool took 5.8 x N/R behind a window of 100 a second).
func (d *decision) pauseTooShort(now time.Time, pause time.Duration) {
	d.reading = readPauseTooShort
	if d.sums.time > 0 {
		waited := now.Sub(d.curve.lastCut) + pause
		r, at := max(d.sums.accepted/(d.sums.time+waited.Seconds()), Floor), d.curve.at(now)
		d.curve.rate, d.curve.since = min(r, at), now
		if r < at {
			d.curve.growth = climbGrowth
		}
	}
	d.resumeAt(now.Add(pause))
	d.pause = pause
}

// busy concludes readBusy: the rate holds, the pause doubles from the Retry-After.
func (d *decision) busy(now time.Time, o Outcome) {
	d.reading = readBusy
	d.count.busy = true
	d.server.heldLong = d.server.heldLong || d.busyPause >= maxBusy
	d.curve.rate = d.curve.at(now) // held as it had grown
	d.busyPause = min(max(2*d.busyPause, o.RetryAfter), maxBusy)
	d.pause = d.busyPause
	d.resumeAt(now.Add(d.pause))
}

// windowProbeRefused concludes readWindowProbeRefused: the window reopens between the probe and
// the Retry-After's end. The estimate is taken again with the middle of that, and the pool waits
// for the end. Not for the probe's own Retry-After, which names the same reopening rounded up
// again, later. Probes after later Retry-Afters of a second go on: this one was refused for
// coming early in the second, not half-way.
func (d *decision) windowProbeRefused(now time.Time) {
	d.reading = readWindowProbeRefused
	r := d.reopening
	d.reopening = reopening{}
	d.sums.rest = r.retryAfter - (time.Second-reopenProbe)/2
	est, hi, reserve := spentWindow(r.accepted, r.span, d.sums.rest, d.curve.hi)
	d.server.reserve = reserve
	d.curve.rate, d.curve.hi = max(est, Floor), hi
	d.pause = max(r.end.Sub(now), 0)
	d.resumeAt(now.Add(d.pause))
}

// probeRefused concludes readProbeRefused: the pause was too short, not the rate too high: the
// Pacer waits out the Retry-After, and so does the count of what the server accepts. A server
// that refuses a probe (a fixed window, closed until its end) is not probed again. The server
// needed longer than the probe's wait, and no longer than the Retry-After (probes follow only
// one of a second): half-way, as modelled. A probe that waited for a token at the estimate of
// a spent burst kept (see readEarly), refused, says a burst it was: the estimators read it
// too, and the reading is theirs (probeCut).
func (d *decision) probeRefused(now time.Time, o Outcome, pause time.Duration) {
	d.reading = readProbeRefused
	// Refused before the server ever accepted anything, it says the server is busy (another
	// client of the limit holds it), not that probes come too early.
	d.server.noProbes = d.server.noProbes || d.count.lastOK > 0
	d.sums.rest = (d.sums.rest + time.Second) / 2
	if d.spent.est > 0 && o.Sent.After(d.curve.lastCut) {
		d.cut(now, o, pause)
		d.probeCut = true
	}
	d.resumeAt(now.Add(pause))
	d.pause = pause
}

// beforeCut concludes readBeforeCut: nothing is cut; without Retry-After, the count starts
// again after the pause.
func (d *decision) beforeCut(now time.Time, o Outcome, pause time.Duration) {
	d.reading = readBeforeCut
	if o.RetryAfter <= 0 {
		d.resumeAt(now.Add(pause))
	}
	d.pause = d.probed(now, o, pause)
}

// lateStart concludes readLateStart: the server is strict about gaps, nothing is cut, and the
// Pacer keeps the gaps from now on.
func (d *decision) lateStart(now time.Time, o Outcome, pause time.Duration) {
	d.reading = readLateStart
	d.server.strict = true
	d.pause = d.probed(now, o, pause)
}

// jitter reports whether a 429 came for an attempt that started closer to the one before than
// the limit found allows, because that one started late, and closer than any the server
// accepted, at a rate it had sustained for half a second, since any other 429: the rate is not
// too high, the server is strict about gaps, and the Pacer keeps them from now on. Not while
// growing from nothing (the 429 ends that growth in any case), nor with a Retry-After of
// seconds (a spent window). A bucket whose burst runs out may refuse the shortest gap too: its
// next 429 follows at once, and is not taken for jitter.
func (d *decision) jitter(o Outcome) bool {
	limit := time.Duration(float64(time.Second) / d.curve.at(o.Sent))
	sustained := d.count.accepted >= fewAccepted && d.count.sinceThrottle >= fewAccepted && o.Sent.Sub(d.count.epoch) >= time.Second/2
	return sustained && !d.curve.ramping(o.Sent) && o.RetryAfter <= time.Second &&
		o.Gap > limit/2 && o.Gap < limit && o.Gap < d.server.minGap
}

// lift ends a ceiling set while the server was busy (readBusy) by a reading that measured
// nothing (a guess, a guess too high, an estimate too high), now that it accepts again:
// another client of the same limit held it, and has let go (a first run beside which a second
// one started). What those refusals taught is dropped: the rate grows from where it is as
// from a guess, and the next 429 is read afresh; refused under twice the ceiling lifted, it
// says the ceiling was this run's own, and the run alone (see cut). Kept, a ceiling of a busy
// server held a second run at 0.2 a second for the 15 minutes after the first had ended.
func (d *decision) lift(now time.Time) {
	c := d.curve
	c.lifted = c.hi
	// From a guess at least: grown from the crawl the busy server left, the next attempt comes
	// an interval of that later, at ten times the rate a second (a pool at 0.4 a second sent
	// its next at 123 a second, was refused, and took 0.4 for the rate accepted).
	c.rate, c.since, c.growth, c.hi, c.busy = max(c.at(now), guessRate(StartRate)), now, rampGrowth, 0, false
	d.curve, d.guessed, d.count.busy, d.server.lifted = c, true, false, true
}

// resumeAt starts the count of what the server accepts, and the rate's growth, again at end,
// the end of a pause.
func (d *decision) resumeAt(end time.Time) {
	if end.After(d.curve.since) {
		d.curve.since, d.count.epoch, d.count.accepted = end, end, 0
	}
}
