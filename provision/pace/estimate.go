package pace

import "time"

// sums is what the server accepted over the epochs counted, and the pauses between them, for
// the sums reading.
type sums struct {
	accepted, time float64       // acceptances and seconds of the epochs counted, and the pauses between
	counted        bool          // the latest epoch is in the sums
	rest           time.Duration // the pause the server needed after the latest cut, as modelled
}

// with is s with an epoch of span seconds that accepted accepted, from epoch, counted, and the
// pause before it, after the cut at lastCut, as long as the server needed it, as modelled: a
// pause kept whole past a window's reopening is the pool's loss, not the server's limit.
func (s sums) with(epoch, lastCut time.Time, accepted, span float64) sums {
	if s.counted {
		s.time += min(epoch.Sub(lastCut), s.rest).Seconds()
	}
	s.accepted += accepted
	s.time += span
	s.counted = true
	return s
}

// spentBurst is how an early 429 read as jitter would have been read as a bucket's burst spent,
// kept until a 429 soon after tells that it was one, or fewAccepted acceptances that it was not.
type spentBurst struct {
	est, reserve float64 // the estimate and reserve of a spent burst; est 0 when none is kept
	margin       float64 // the margin before the jitter reading widened it
	span         float64 // the seconds over which the burst was spent
}

// evidence is what a 429 for an attempt sent since the latest cut gives the estimators: the
// server accepted accepted attempts over span, the latest spaced at lastOK, then refused one
// spaced at sent; the pause is its Retry-After, in whole seconds rounded up, so the true wait
// (rest) is taken to end half a second before.
type evidence struct {
	sent       float64       // the rate that spaced the refused attempt
	span       float64       // seconds from the epoch, the end of the latest pause, to the 429
	rest       time.Duration // the wait the server needs, as the estimators take it
	taken      time.Duration // the pause to come: shorter when the pool probes
	accepted   float64       // what the server accepted over span
	overall    float64       // accepted over span and rest
	beyond     float64       // what it accepted beyond the overall rate: a burst
	many       bool          // fewAccepted or more accepted
	sums       sums          // the sums with this epoch, or not (see cut)
	windowSums bool          // a window that has accepted anything: the sums measure it
	spent      spentBurst    // the reading of a spent burst kept from an early 429, if any
	guessed    bool          // the latest cut knew nothing: this 429 is not measured against it
}

// cut reads a 429 for an attempt sent since the latest cut from what the server accepted since
// the latest pause (readCut) and sets the rate from what that reading concludes (conclude): the
// estimate, resumed once the pause is over (or at the probe), just under the rate not to climb
// back to, growing as the reading says. The count of what the server accepts starts again then;
// it returns that pause, pause or the probe's shorter one.
func (d *decision) cut(now time.Time, o Outcome, pause time.Duration) time.Duration {
	e := d.evidence(now, o, pause)
	if d.curve.lifted > 0 {
		// The first cut after a lift: refused under twice the ceiling lifted, that ceiling was
		// this run's own limit, and the refusals read busy were of a limit that counts refused
		// requests, not another client's: none are read busy any more.
		d.server.alone = d.server.alone || e.sent < 2*d.curve.lifted && !d.server.heldLong
		d.curve.lifted = 0
	}
	d.sums = e.sums
	if d.reopening.retryAfter > 0 {
		d.reopening.accepted, d.reopening.span = e.accepted, e.span
	}
	d.spent, d.guessed = spentBurst{}, false // unless the reading keeps them
	d.reading = d.readCut(now, o, e)
	est, hi, growth := d.conclude(now, o, e)
	c := &d.curve
	c.rate = max(min(est, hi*(1-margin)), Floor)
	c.growth, c.hi, c.lastCut = growth, hi, now
	// A ceiling from a reading that measured nothing, while another client held the limit, is
	// that client's, not this rate's: lifted once the server accepts again (see lift).
	c.busy = d.count.busy && (d.reading == readGuess || d.reading == readGuessTooHigh || d.reading == readTooHigh)
	if d.count.firstCut.IsZero() {
		d.count.firstCut = now
	}
	c.since = now.Add(pause) // the rate a probe's interval is read at
	taken := d.probed(now, o, pause)
	c.since = now.Add(taken)
	d.count.epoch, d.count.accepted = c.since, 0
	return taken
}

// evidence gathers what the estimators read of a 429 for an attempt sent since the latest cut.
// Every epoch goes into the sums, pauses included as long as they were, for an estimate that
// the rounding of any one Retry-After does not sway; but not one that grew from nothing, which
// spent most of its time below the limit, unless the server's quota ran out in it (a window).
func (d *decision) evidence(now time.Time, o Outcome, pause time.Duration) evidence {
	e := evidence{sent: d.curve.spacing(o.Sent), span: now.Sub(d.count.epoch).Seconds(), rest: pause,
		accepted: float64(d.count.accepted), many: d.count.accepted >= fewAccepted, spent: d.spent, guessed: d.guessed}
	if o.RetryAfter >= time.Second {
		e.rest -= 500 * time.Millisecond // the true wait lies in the second before
	}
	if d.reopening.retryAfter > 0 {
		// Taken to reopen as early as it can: the probe, if accepted, says it reopened in the
		// second's first reopenProbe, and an estimate too high draws a 429 that corrects it,
		// one too low nothing (see reopening).
		e.rest = o.RetryAfter - time.Second
	}
	e.overall = e.accepted / (e.span + e.rest.Seconds())
	e.beyond = max(e.accepted-e.overall*e.span, 1)
	e.sums = d.sums
	if d.curve.growth < fineGrowth || o.RetryAfter >= 2*time.Second || d.curve.fastAt(o.Sent) {
		e.sums = e.sums.with(d.count.epoch, d.curve.lastCut, e.accepted, e.span)
	} else {
		e.sums.counted = false
	}
	e.taken = e.rest
	if p := d.probeAfter(now, o.RetryAfter); p > 0 {
		if !d.server.windowed && d.count.lastOK > 0 {
			p = time.Duration(float64(time.Second) / d.count.lastOK) // about an interval at the new rate
		}
		e.taken = min(e.rest, p)
	}
	e.sums.rest = e.taken
	e.windowSums = d.server.windowed && e.sums.accepted > 0
	return e
}

// readCut is the estimators' reading of a 429, the first case that matches, each documented
// with its constant (type reading) and concluded by its case of conclude; readGuess when none
// matches. It reads the decision only. Details the constants leave out:
//
//   - readEarly: a strict bucket at its own rate refuses an attempt that arrives a little
//     early, 0.5 s in, as a bucket of burst 10 at half the rate does when its burst runs out.
//     Read as jitter, but the reading of a spent burst is kept, and the probe waits for a
//     token at its rate: a bucket whose burst ran out takes the probe and refuses what
//     follows. Not without a Retry-After, where no probe comes.
//   - readTooHigh: not from a window that has accepted anything, where a refusal soon after
//     reopening says where the window's requests lie: the sums, however few accepted.
//   - readSpentWindow: a Retry-After of 1 s counts once the server refused a probe: a bucket
//     takes a probe one interval on, a window of a second refuses it until it ends, and its
//     429s, each after its quota, were read as a bucket's rate crossed (the rate ran to twice
//     the window's, 7 429s in 10 s at 50 a second). When the quota went in less than a
//     second, the window holds that much a second, and the estimate stays under it: taken
//     over the span and half a second, a sliding window of 50 a second was read as 37.
//   - readWiden: also the 429 right after a growth crossing, refused at the rate accepted just
//     below it: the crossing put the limit above that rate, so jitter crossed it. A strict
//     bucket of 50 a second refuses a gap 0.3 ms short; cut a quarter, it took 1.3 x N/R to
//     climb back at 1% a second. Only that first 429: a bucket that tolerates early attempts
//     crosses higher, and its next 429 is read as too high.
//   - readSpentBurst: not when, after 0.75 s at a rate not growing, the refused attempt
//     followed the one before closer than that rate (a late start): the refusal may be a
//     strict bucket's at the right rate; the guess costs a quick climb and a 429.
func (d *decision) readCut(now time.Time, o Outcome, e evidence) reading {
	c, n, ra := d.curve, d.count, o.RetryAfter
	switch {
	case e.many && (ra >= 2*time.Second || ra == time.Second && d.server.noProbes):
		return readSpentWindow
	case d.crossed(o.Sent):
		return readStepCrossed
	case e.spent.est > 0 && n.sinceThrottle < fewAccepted:
		return readBurstAfterAll
	case e.many && (c.hi == 0 || e.guessed) && !c.ramping(o.Sent) && e.span < 1 && ra > 0 && ra <= time.Second && n.sinceThrottle >= fewAccepted:
		return readEarly
	case c.growth == fineGrowth && n.lastOK > 0 && n.accepted >= 2:
		return readFineCrossed
	case e.guessed && n.accepted < 2 && e.sent <= c.rate*1.05 && !e.windowSums:
		return readGuessTooHigh
	case d.reading == readGrowthCrossed && n.lastOK > 0 && e.sent <= n.lastOK*1.05:
		return readWiden
	case c.hi > 0 && !e.many && !e.windowSums:
		return readTooHigh
	case d.server.strict && c.margin < maxMargin && n.lastOK > 0 && e.sent <= n.lastOK*1.05 && n.sinceThrottle >= fewAccepted,
		e.many && (c.hi == 0 || e.guessed) && e.span >= 1 && !c.ramping(o.Sent):
		return readWiden
	case (e.many && e.sums.counted || e.windowSums) && c.hi > 0 && e.sums.time > 0:
		return readSums
	case e.many && c.hi > 0 && c.ramping(o.Sent) && n.lastOK > 0:
		return readGrowthCrossed
	case e.many && !(e.span >= 0.75 && o.Gap > 0 && o.Gap < time.Duration(float64(time.Second)/e.sent) && !c.ramping(o.Sent)):
		return readSpentBurst
	}
	return readGuess
}

// conclude is what the estimators' reading of a 429 (d.reading, from readCut) concludes: the
// server's limit as est, the rate not to climb back to, how fast to climb, and what it learns
// of the server, the margin, the guess, the burst's reading kept.
func (d *decision) conclude(now time.Time, o Outcome, e evidence) (est, hi, growth float64) {
	lastOK := d.count.lastOK
	switch d.reading {
	case readSpentWindow:
		if o.RetryAfter == time.Second && e.span < 1 {
			// A window of a second that took all it accepted in less: it holds that much a
			// second, and no more.
			est, _, d.server.reserve = spentWindow(e.accepted, e.span, time.Duration((1-e.span)*float64(time.Second)), e.sent)
			// It reopens a second after the first of them: probed then, two intervals on, one
			// for the refused attempt a window that counts refusals keeps (one was refused).
			// The pause of a whole second cost 0.2-0.8 s at each such 429.
			d.reopening = reopening{retryAfter: o.RetryAfter, end: now.Add(o.RetryAfter), accepted: e.accepted, span: e.span,
				probe: d.count.epoch.Add(time.Second + 2*d.curve.intervalAt(est))}
			return est, est, climbGrowth
		}
		est, hi, d.server.reserve = spentWindow(e.accepted, e.span, e.rest, e.sent)
		return est, hi, climbGrowth
	case readStepCrossed:
		// The limit lies between the two: resume at the one accepted. A bucket that refuses a
		// step above the rate it accepts has little or no burst.
		d.server.reserve, d.server.strict, d.server.stepped = 1, true, true
		if d.curve.growth == rampGrowth && e.sent < 2*lastOK {
			return lastOK, e.sent, fineGrowth
		}
		return lastOK, lastOK, climbGrowth
	case readBurstAfterAll:
		// In a fraction of a second, grow from the burst's estimate until the rate is crossed.
		d.server.reserve, d.curve.margin = e.spent.reserve, e.spent.margin
		if e.spent.span < shortSpan {
			d.guessed = true
			return e.spent.est, e.sent, fineGrowth
		}
		return e.spent.est, e.sent, climbGrowth
	case readEarly:
		d.spent = spentBurst{est: e.overall, reserve: e.beyond, margin: d.curve.margin, span: e.span}
		return d.widen(e.sent)
	case readFineCrossed:
		// Now to a quarter of the step.
		return lastOK, lastOK, climbGrowth
	case readGuessTooHigh:
		d.guessed = true
		return guessRate(e.sent), e.sent, rampGrowth
	case readTooHigh:
		// A quarter less, or down to twice what the server accepted since the first 429 over
		// 2 s or more, when that is lower: a bucket refusing as fast as it accepts would
		// otherwise take a 429 for each quarter. Twice, because a bucket of burst 1 loses what
		// a pause leaves unused.
		est := e.sent * 0.75
		if since := now.Sub(d.count.firstCut).Seconds(); since >= 2 && d.count.sinceFirst > 0 && !d.count.busy {
			est = min(est, max(2*float64(d.count.sinceFirst)/since, e.sent*0.25))
		}
		return est, e.sent, climbGrowth
	case readWiden:
		return d.widen(e.sent)
	case readSums:
		// A bucket's burst, once measured, is taken out of the sums: it was spent once, it is
		// no rate.
		sum := e.sums.accepted
		if !d.server.windowed && d.server.reserve > 1 {
			sum = max(sum-d.server.reserve, 1)
		}
		est = sum / (e.sums.time + e.taken.Seconds())
		if d.server.reserve > 1 {
			est = max(est, (e.accepted-d.server.reserve)/e.span)
		}
		return est, min(est, e.sent), climbGrowth
	case readGrowthCrossed:
		// At 50 a second, 4% an interval: the limit lies just above the latest acceptance, and
		// the server refused so fine a step: a bucket of little or no burst, as for readStepCrossed.
		d.server.reserve, d.server.strict, d.server.stepped = 1, true, true
		return lastOK, e.sent, climbGrowth
	case readSpentBurst:
		// The wait taken for the rate weighs much in a span of a second or less: grow from
		// there until the rate is crossed.
		d.server.reserve, d.guessed = e.beyond, true
		return e.overall, e.sent, fineGrowth
	}
	d.guessed = true // readGuess
	if d.curve.fastAt(o.Sent) {
		// Refused in the fast start with little accepted: taken as sent at StartRate.
		return guessRate(StartRate), e.sent, rampGrowth
	}
	return guessRate(e.sent), e.sent, rampGrowth
}

// spentWindow reads a window whose quota ran out: it accepted accepted attempts over span
// seconds, and reopened rest later. The limit is what it accepted over both, the ceiling a
// little above it (no higher than sent, the rate refused), and the reserve what it accepted
// beyond that limit.
func spentWindow(accepted, span float64, rest time.Duration, sent float64) (est, hi, reserve float64) {
	est = accepted / (span + rest.Seconds())
	return est, min(est*(1+2*margin), sent), max(accepted-est*span, 1)
}

// guessRate is where the rate starts again, growing, when a 429 refused sent and nothing tells
// the limit: half of it, StartRate at most.
func guessRate(sent float64) float64 { return min(sent/2, StartRate) }

// widen reads a 429 at a rate the server sustained as jitter crossing the limit: the rate holds,
// attempts are spaced a little wider rather than cut, and the server is strict.
func (d *decision) widen(sent float64) (est, hi, growth float64) {
	d.curve.margin, d.server.strict = min(2*d.curve.margin, maxMargin), true
	return min(d.count.lastOK, sent), sent, climbGrowth
}
