package pace_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// The back-pressure tests run the real pool, pacer and client against every limiter kind of
// provisiontest, simulated in a synctest bubble: 200 rows at a server allowing 20 a second,
// 8 workers, 2 ms of latency and up to half a millisecond of jitter on the way to the server.
// A cell takes milliseconds; internal/ratematrix measures the same over loopback, in real time.
//
//	go test ./provision/pace -run Backpressure -v -sim.table
var simTable = flag.Bool("sim.table", false, "back-pressure tests: log the whole table")

type simResult struct {
	requests, throttled, failed int
	wall                        time.Duration
}

func (r simResult) share() float64 { return 100 * float64(r.throttled) / float64(max(r.requests, 1)) }

// simulate sends rows through a pool at --rate rate to a simulated server behind limit.
func simulate(t *testing.T, limit provisiontest.Limit, policy pace.Policy, rows, workers int) simResult {
	t.Helper()
	var res simResult
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		rnd := rand.New(rand.NewPCG(1, 2))
		tr := &provisiontest.LimitedTransport{Limiter: provisiontest.NewLimiter(limit), Latency: 2 * time.Millisecond,
			Jitter: func() time.Duration {
				mu.Lock()
				defer mu.Unlock()
				return time.Duration(rnd.Int64N(int64(500 * time.Microsecond)))
			}}
		pool := &provision.Pool{
			Endpoint: &ideanote.Client{BaseURL: "http://ideanote.test", SpaceID: provisiontest.DefaultSpaceID,
				APIToken: provisiontest.DefaultAPIToken, HTTPClient: &http.Client{Transport: tr}},
			Pacer:       pace.NewWithPolicy(policy, 1),
			Concurrency: workers,
		}
		in := make(chan provision.Row)
		out := make(chan provision.Result, rows)
		go func() {
			defer close(in)
			for i := range rows {
				in <- provision.Row{Line: i + 2, User: provision.User{Email: "u" + strconv.Itoa(i) + "@example.com"}}
			}
		}()
		start := time.Now()
		if err := pool.Run(context.Background(), in, out); err != nil {
			t.Fatal(err)
		}
		res.wall = time.Since(start)
		close(out)
		for r := range out {
			res.requests += r.Attempts
			if r.Status != provision.StatusOK {
				res.failed++
			}
		}
		res.throttled = pool.Throttles()
	})
	return res
}

// TestBackpressure checks the goal of every cell of the matrix: no row failed, 429s at most 2%
// of requests (1% when --rate matches the server), wall time at most 1.1 x N/R. Cells that
// cannot meet it are listed in misses with the bounds they keep, and why.
func TestBackpressure(t *testing.T) {
	t.Parallel()
	const server, rows, workers = 20.0, 200, 8
	ideal := time.Duration(rows / server * float64(time.Second))
	var table []string
	for _, k := range provisiontest.Limits(server) {
		for _, mult := range []float64{1, 2, 5, 0} {
			name := fmt.Sprintf("%s/x%g", k.Name, mult)
			t.Run(name, func(t *testing.T) {
				var policy pace.Policy = pace.NewFinder(mult * server)
				if *simTrace != "" && strings.Contains(name, *simTrace) {
					policy = &tracer{Policy: policy, t: t}
				}
				r := simulate(t, k.Limit, policy, rows, workers)
				ratio := r.wall.Seconds() / ideal.Seconds()
				table = append(table, fmt.Sprintf("| %s | x%g | %d | %d (%.1f%%) | %.2f | %d |", k.Name, mult, r.requests, r.throttled, r.share(), ratio, r.failed))
				maxShare, maxRatio := 2.0, 1.1
				if mult == 1 {
					maxShare = 1
				}
				if m, ok := misses[name]; ok {
					maxShare, maxRatio = m.share, m.ratio
				}
				if r.failed > 0 || r.share() > maxShare || ratio > maxRatio {
					t.Errorf("%d rows failed, %d of %d requests 429 (%.1f%%, at most %.1f%%), wall %.2f x N/R (at most %.2f)",
						r.failed, r.throttled, r.requests, r.share(), maxShare, ratio, maxRatio)
				}
			})
		}
	}
	if *simTable {
		t.Log("\n| limiter | --rate | requests | 429s | wall / N/R | rows failed |\n|---|---|---|---|---|---|")
		for _, line := range table {
			t.Log(line)
		}
	}
}

// misses are the cells that cannot meet the goal, with the bounds they keep (a little above
// what they measure, so that a change that makes them worse fails).
//
// Without a configured rate (x0) the start's growth fills a 3-s window in 1.2 s, at 150 a
// second, and the server's Retry-After, 2 s for a wait of 1.8 s, puts the first estimate 10%
// high: a second 429 follows, whose Retry-After (a second) the pool keeps whole, a window
// being closed until it ends. This simulation starts a fixed window with the run, so that the
// fixed window behaves as the sliding one; over loopback (internal/ratematrix) a run starts
// anywhere in a fixed window, and that cell meets the goal.
var misses = map[string]struct{ share, ratio float64 }{
	"fixed-3s/x0":           {1.5, 1.15},
	"sliding-3s/x0":         {1.5, 1.15},
	"sliding-3s-counted/x0": {1.5, 1.15},
}

var simTrace = flag.String("sim.trace", "", "back-pressure tests: log the 429s and rates of the cells whose name contains this")

var simTraceAll = flag.Bool("sim.trace.all", false, "back-pressure tests: with -sim.trace, log every answer")

// tracer logs what a policy hears of 429s and the rate it sets.
type tracer struct {
	pace.Policy
	t     *testing.T
	start time.Time
}

func (tr *tracer) Observe(now time.Time, o pace.Outcome) time.Duration {
	if tr.start.IsZero() {
		tr.start = now
	}
	before := tr.Policy.Rate(now)
	d := tr.Policy.Observe(now, o)
	if *simTraceAll {
		tr.t.Logf("%7.3fs %v sent at %.3fs, rate %.2f", now.Sub(tr.start).Seconds(), o.Action, o.Sent.Sub(tr.start).Seconds(), before)
	}
	if o.Action == provision.Throttled {
		tr.t.Logf("%7.3fs 429 sent at %.3fs, Retry-After %v: rate %.2f -> %.2f, pause %v", now.Sub(tr.start).Seconds(),
			o.Sent.Sub(tr.start).Seconds(), o.RetryAfter, before, tr.Policy.Rate(now.Add(d)), d)
	}
	return d
}
