package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

var (
	policy = flag.String("policy", "finder", "pacing policy: finder (the CLI's) or fixed (--rate as given, learning nothing)")
	trace  = flag.Bool("trace", false, "print every 429, how it was read and the rate it leads to, on stderr")
)

// newPacer is the pacer the CLI builds for --rate rate, or one with the -policy asked for.
func newPacer(rate float64) *pace.Pacer {
	var p pace.Policy = pace.NewFinder(rate)
	if *policy == "fixed" {
		p = pace.Fixed(rate)
	}
	if *trace {
		p = &tracer{Policy: p, start: time.Now()}
	}
	return pace.NewWithPolicy(p, 1)
}

// tracer prints what a policy hears of 429s and the rate it sets.
type tracer struct {
	pace.Policy
	start time.Time
}

func (t *tracer) Observe(now time.Time, o pace.Outcome) time.Duration {
	before := t.Policy.Rate(now)
	d := t.Policy.Observe(now, o)
	if o.Action == provision.Throttled {
		read := "" // how the 429 was read, as the simulated traces say it
		if f, ok := t.Policy.(*pace.Finder); ok {
			read = f.Reading() + "; "
		}
		fmt.Fprintf(os.Stderr, "%7.3fs 429 sent at %.3fs after a gap of %v, Retry-After %v: %srate %.2f -> %.2f, pause %v\n", now.Sub(t.start).Seconds(),
			o.Sent.Sub(t.start).Seconds(), o.Gap.Round(time.Microsecond), o.RetryAfter, read, before, t.Policy.Rate(now.Add(d)), d)
	}
	return d
}
