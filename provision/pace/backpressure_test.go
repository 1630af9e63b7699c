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
// A cell takes milliseconds; internal/cmd/ratematrix measures the same over loopback, in real time.
//
//	go test ./provision/pace -run Backpressure -v -sim.table
var simTable = flag.Bool("sim.table", false, "back-pressure tests: log the whole table")

type simResult struct {
	requests, throttled, failed int
	wall                        time.Duration
}

func (r simResult) share() float64 { return 100 * float64(r.throttled) / float64(max(r.requests, 1)) }

// simulate sends rows through a pool at --rate rate to a simulated server behind limit.
// The run starts phase into the bubble's clock, and so into a fixed window aligned on it.
func simulate(t *testing.T, limit provisiontest.Limit, policy pace.Policy, rows, workers int, phase time.Duration) simResult {
	t.Helper()
	return simulateRuns(t, limit, workers, phase, simRun{policy: policy, rows: rows})[0]
}

// simRun is one run of simulateRuns: its policy, its rows, and when it starts after the first.
type simRun struct {
	policy pace.Policy
	rows   int
	after  time.Duration
}

// simulateRuns sends each run's rows through a pool of its own, all to one simulated server
// behind limit, as runs started on one machine (or two) share the API's limit. Each result's
// wall is from that run's start.
func simulateRuns(t *testing.T, limit provisiontest.Limit, workers int, phase time.Duration, runs ...simRun) []simResult {
	t.Helper()
	res := make([]simResult, len(runs))
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(phase)
		var mu sync.Mutex
		rnd := rand.New(rand.NewPCG(1, 2))
		tr := &provisiontest.LimitedTransport{Limiter: provisiontest.NewLimiter(limit), Latency: 2 * time.Millisecond,
			Jitter: func() time.Duration {
				mu.Lock()
				defer mu.Unlock()
				return time.Duration(rnd.Int64N(int64(500 * time.Microsecond)))
			}}
		var wg sync.WaitGroup
		for i, run := range runs {
			wg.Go(func() {
				time.Sleep(run.after)
				res[i] = runPool(t, tr, run.policy, run.rows, workers)
			})
		}
		wg.Wait()
	})
	return res
}

// runPool sends rows through a pool of workers paced by policy, over tr.
func runPool(t *testing.T, tr http.RoundTripper, policy pace.Policy, rows, workers int) simResult {
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
	var res simResult
	start := time.Now()
	if err := pool.Run(context.Background(), in, out); err != nil {
		t.Error(err)
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
	return res
}

// TestBackpressure checks the goal of every cell of the matrix: no row failed, 429s at most 2%
// of requests (1% when --rate matches the server), wall time at most 1.1 x N/R.
func TestBackpressure(t *testing.T) {
	t.Parallel()
	var table []string
	for _, k := range provisiontest.Limits(simServer) {
		for _, mult := range []float64{1, 2, 5, 0} {
			name := fmt.Sprintf("%s/x%g", k.Name, mult)
			t.Run(name, func(t *testing.T) {
				table = append(table, checkCell(t, name, k.Limit, simServer, mult, simRows, 0))
			})
		}
	}
	if *simTable {
		t.Log("\n| cell | requests | 429s | wall / N/R | rows failed |\n|---|---|---|---|---|")
		for _, line := range table {
			t.Log(line)
		}
	}
}

// TestBackpressureWindowPhase checks the goal of the fixed-window cells wherever the run starts
// in the server's window, a quarter of a second apart: a first 429 near a window's end has a
// Retry-After of a second, one near its start of three.
func TestBackpressureWindowPhase(t *testing.T) {
	t.Parallel()
	for _, k := range provisiontest.Limits(simServer) {
		if k.Kind != provisiontest.FixedWindow {
			continue
		}
		for _, mult := range []float64{2, 5, 0} {
			for phase := time.Duration(0); phase < k.Per; phase += k.Per / 12 {
				name := fmt.Sprintf("%s/x%g/%v", k.Name, mult, phase)
				t.Run(name, func(t *testing.T) {
					if line := checkCell(t, name, k.Limit, simServer, mult, simRows, phase); *simTable {
						t.Log(line)
					}
				})
			}
		}
	}
}

// misses are the cells that miss the goal, with the bounds they keep (a little above what they
// measure, so that a change that makes them worse fails).
var misses = map[string]struct{ share, ratio float64 }{
	// At Ideanote's scale, buckets of one a second: see TestBackpressureAtIdeanoteScale.
	"bucket-1s-b1/x0":  {2, 1.17},
	"bucket-1s-b60/x5": {2.5, 1.1},
	"bucket-1s-b60/x0": {3.3, 1.1},
	// The fast start of --rate 0 sends more at once than the growth it replaced: a window it
	// spends refuses the attempts in flight with the first, and a tolerant bucket lets it past
	// its rate (see BENCHMARKS.md).
	"sliding-60s-counted/x0": {2, 1.11},
	"bucket-b1-tol/x0":       {2.5, 1.1},
	"fixed-3s/x0/1.5s":       {2.5, 1.1},
	"fixed-3s/x0/1.75s":      {2.5, 1.1},
	"fixed-3s/x0/2s":         {2.5, 1.1},
	"fixed-3s/x0/2.25s":      {2.5, 1.1},
	"fixed-3s/x0/2.5s":       {2.5, 1.1},
	"fixed-3s/x0/2.75s":      {2.5, 1.1},
}

// TestBackpressureAtIdeanoteScale checks the goal at the limit Ideanote documents, 60 requests a
// minute: 600 rows (N/R 10 minutes) behind a token bucket of one a second with a burst of 1 or
// of 60, fixed windows of 60 a minute started at several points of the minute, and sliding
// ones, counting refused requests or not.
//
// At --rate 1, the default, every cell meets it with no 429. The cells that cannot, and why,
// are in misses, and their figures in BENCHMARKS.md.
func TestBackpressureAtIdeanoteScale(t *testing.T) {
	t.Parallel()
	const server, rows = 1.0, 600
	kinds := []provisiontest.NamedLimit{
		{Name: "bucket-1s-b1", Limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: 1, Burst: 1}},
		{Name: "bucket-1s-b60", Limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: 1, Burst: 60}},
		{Name: "fixed-60s", Limit: provisiontest.Limit{Kind: provisiontest.FixedWindow, N: 60, Per: time.Minute}},
		{Name: "sliding-60s", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: 60, Per: time.Minute}},
		{Name: "sliding-60s-counted", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: 60, Per: time.Minute, CountRefused: true}},
	}
	for _, k := range kinds {
		phases := []time.Duration{0}
		if k.Kind == provisiontest.FixedWindow {
			phases = append(phases, 20*time.Second, 45*time.Second, 59*time.Second)
		}
		for _, mult := range []float64{1, 2, 5, 0} {
			for _, phase := range phases {
				name := fmt.Sprintf("%s/x%g", k.Name, mult)
				if phase > 0 {
					name += "/" + phase.String()
				}
				t.Run(name, func(t *testing.T) {
					if line := checkCell(t, name, k.Limit, server, mult, rows, phase); *simTable {
						t.Log(line)
					}
				})
			}
		}
	}
}

// TestBackpressureWithoutRetryAfter runs limiters outside the matrix, which answer 429 without
// Retry-After: a bucket of burst 10 and windows. Their goal is not the matrix's: without a word of
// when a window reopens the pool doubles its pauses from a quarter of a second, and takes up to
// 1.5 x N/R (bounded at 1.6 here). What must hold is that no row fails and the pool does not hammer the server.
func TestBackpressureWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	n, per := int(3*simServer), 3*time.Second
	kinds := []provisiontest.NamedLimit{
		{Name: "bucket-b10-noRA", Limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: simServer, Burst: 10, NoRetryAfter: true}},
		{Name: "fixed-3s-noRA", Limit: provisiontest.Limit{Kind: provisiontest.FixedWindow, N: n, Per: per, NoRetryAfter: true}},
		{Name: "sliding-3s-noRA", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: n, Per: per, NoRetryAfter: true}},
		{Name: "sliding-3s-counted-noRA", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: n, Per: per, NoRetryAfter: true, CountRefused: true}},
	}
	for _, k := range kinds {
		for _, mult := range []float64{1, 2, 5, 0} {
			name := fmt.Sprintf("%s/x%g", k.Name, mult)
			t.Run(name, func(t *testing.T) {
				r := simulate(t, k.Limit, pace.NewFinder(mult*simServer), simRows, simWorkers, 0)
				ratio := r.wall.Seconds() / (simRows / simServer)
				if r.failed > 0 || r.share() > 4 || ratio > 1.6 {
					t.Errorf("%d rows failed, %d of %d requests 429 (%.1f%%, at most 4%%), wall %.2f x N/R (at most 1.6)",
						r.failed, r.throttled, r.requests, r.share(), ratio)
				}
				if *simTable {
					t.Logf("| %s | %d | %d (%.1f%%) | %.2f | %d |", name, r.requests, r.throttled, r.share(), ratio, r.failed)
				}
			})
		}
	}
}

// The matrix of the back-pressure tests: the server's rate, the rows of a cell, and the workers.
const simServer, simRows, simWorkers = 20.0, 200, 8

// checkCell simulates one cell, rows at mult times the server's rate (0: no limit), and checks
// its goal, returning its line of the table.
func checkCell(t *testing.T, name string, limit provisiontest.Limit, server, mult float64, rows int, phase time.Duration) string {
	t.Helper()
	var policy pace.Policy = pace.NewFinder(mult * server)
	if *simTrace != "" && strings.Contains(name, *simTrace) {
		policy = &tracer{Policy: policy, t: t}
	}
	r := simulate(t, limit, policy, rows, simWorkers, phase)
	ratio := r.wall.Seconds() / (float64(rows) / server)
	maxShare := 2.0
	if mult == 1 {
		maxShare = 1
	}
	maxRatio := 1.1
	if m, ok := misses[name]; ok {
		maxShare, maxRatio = m.share, m.ratio
	}
	if r.failed > 0 || r.share() > maxShare || ratio > maxRatio {
		t.Errorf("%d rows failed, %d of %d requests 429 (%.1f%%, at most %.1f%%), wall %.2f x N/R (at most %.2f)",
			r.failed, r.throttled, r.requests, r.share(), maxShare, ratio, maxRatio)
	}
	return fmt.Sprintf("| %s | %d | %d (%.1f%%) | %.2f | %d |", name, r.requests, r.throttled, r.share(), ratio, r.failed)
}

var simTrace = flag.String("sim.trace", "", "back-pressure tests: log the 429s and rates of the cells whose name contains this")

var simTraceAll = flag.Bool("sim.trace.all", false, "back-pressure tests: with -sim.trace, log every answer")

// observeFrom passes o to p and returns p's pause and its rate before o; start, the time of
// the first outcome, is set on the first.
func observeFrom(p pace.Policy, start *time.Time, now time.Time, o pace.Outcome) (d time.Duration, before float64) {
	if start.IsZero() {
		*start = now
	}
	before = p.Rate(now)
	return p.Observe(now, o), before
}

// tracer logs what a policy hears of 429s and the rate it sets.
type tracer struct {
	pace.Policy
	t     *testing.T
	start time.Time
}

func (tr *tracer) Observe(now time.Time, o pace.Outcome) time.Duration {
	d, before := observeFrom(tr.Policy, &tr.start, now, o)
	if *simTraceAll {
		tr.t.Logf("%7.3fs %v sent at %.3fs, rate %.2f", now.Sub(tr.start).Seconds(), o.Action, o.Sent.Sub(tr.start).Seconds(), before)
	}
	if o.Action == provision.Throttled {
		tr.t.Logf("%7.3fs 429 sent at %.3fs, Retry-After %v: rate %.2f -> %.2f, pause %v", now.Sub(tr.start).Seconds(),
			o.Sent.Sub(tr.start).Seconds(), o.RetryAfter, before, tr.Policy.Rate(now.Add(d)), d)
	}
	return d
}

// loneLimits are limiters that refuse a retry sent after the whole Retry-After of the 429
// before it to a run alone, as another client's hold on the limit would: buckets counting
// refused requests whose Retry-After leaves that out, and buckets and windows behind a
// constant Retry-After of 1 s, counting refused requests or not.
var loneLimits = func() map[string]provisiontest.Limit {
	const s = time.Second
	return map[string]provisiontest.Limit{
		"bucket-1s-counted":       {Kind: provisiontest.TokenBucket, Rate: 1, Burst: 1, CountRefused: true},
		"bucket-1s-b60-counted":   {Kind: provisiontest.TokenBucket, Rate: 1, Burst: 60, CountRefused: true},
		"bucket-20-counted":       {Kind: provisiontest.TokenBucket, Rate: 20, Burst: 1, CountRefused: true},
		"bucket-0.5s-RA1":         {Kind: provisiontest.TokenBucket, Rate: 0.5, Burst: 1, RetryAfter: s},
		"sliding-3s-counted-RA1":  {Kind: provisiontest.SlidingWindow, N: 3, Per: 3 * s, CountRefused: true, RetryAfter: s},
		"sliding-10s-counted-RA1": {Kind: provisiontest.SlidingWindow, N: 10, Per: 10 * s, CountRefused: true, RetryAfter: s},
		"sliding-20s-counted-RA1": {Kind: provisiontest.SlidingWindow, N: 20, Per: 20 * s, CountRefused: true, RetryAfter: s},
		"fixed-10s-RA1":           {Kind: provisiontest.FixedWindow, N: 10, Per: 10 * s, RetryAfter: s},
		"fixed-60s-RA1":           {Kind: provisiontest.FixedWindow, N: 60, Per: 60 * s, RetryAfter: s},
	}
}()

// TestBackpressureAlone runs one run, alone, against limiters that refuse a retry sent after
// the whole Retry-After of the 429 before it, as a second run beside another does: buckets
// counting refused requests whose Retry-After leaves that out (Ideanote's 60 a minute among
// them), and buckets and windows behind a constant Retry-After of 1 s (HAProxy's deny ... hdr
// Retry-After 1), windows counting refused requests or not. Read as busy, such 429s cut
// nothing; a run lifts a ceiling once at most, and a lift the server then refuses under twice
// the ceiling it lifted says the run is alone: no 429 is read busy after. The bounds keep what
// the misreading costs, a little above what it measures. Lift after lift, reviews 5 and 6 found
// the first cells at 53-68% 429s (2.45-3.6 x N/R). The Finder before busy readings (1ec9c97),
// cell by cell: 2 (0.3%, 1.02 x), 4 (0.7%, 1.63), 4 (0.7%, 1.36), 6 (1.0%, 1.11), 7 (3.4%,
// 1.18), 2 (1.6%, 1.03), 6 (4.8%, 1.28), 7 (2.3%, 1.66), 9 (2.9%, 2.83), 17 (2.8%, 10.27): fewer
// 429s, but windows behind a constant Retry-After it took for their length, 3 to 10 x N/R.
func TestBackpressureAlone(t *testing.T) {
	t.Parallel()
	l := loneLimits
	cells := []struct {
		name         string
		limit        provisiontest.Limit
		rate         float64 // --rate; 0 for none
		rows         int
		share, ratio float64 // at most: % of requests, x N/R
	}{
		{"bucket-1s-counted/x2", l["bucket-1s-counted"], 2, 600, 2.5, 1.1},
		{"bucket-1s-counted/x2.5", l["bucket-1s-counted"], 2.5, 600, 5, 1.3},
		{"bucket-1s-counted/x3", l["bucket-1s-counted"], 3, 600, 6, 1.15},
		{"bucket-1s-b60-counted/x2", l["bucket-1s-b60-counted"], 2, 600, 2, 1},
		{"bucket-0.5s-RA1/x0", l["bucket-0.5s-RA1"], 0, 200, 18, 1.15},
		{"sliding-3s-counted-RA1/x2", l["sliding-3s-counted-RA1"], 2, 120, 8, 1.15},
		{"sliding-3s-counted-RA1/x5", l["sliding-3s-counted-RA1"], 5, 120, 14, 1.35},
		{"sliding-10s-counted-RA1/x2", l["sliding-10s-counted-RA1"], 2, 120, 10, 1.95},
		{"sliding-20s-counted-RA1/x2", l["sliding-20s-counted-RA1"], 2, 300, 19, 1.4},
		{"fixed-60s-RA1/x0", l["fixed-60s-RA1"], 0, 600, 14, 1},
	}
	for _, c := range cells {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{Finder: pace.NewFinder(c.rate)}
			r := simulate(t, c.limit, rec, c.rows, simWorkers, 0)
			ratio := r.wall.Seconds() / (float64(c.rows) / c.limit.PerSecond())
			busy := strings.Count(rec.b.String(), ": busy;")
			if r.failed > 0 || r.share() > c.share || ratio > c.ratio {
				t.Errorf("%d rows failed, %d of %d requests 429 (%.1f%%, at most %.1f%%), wall %.2f x N/R (at most %.2f), %d read busy",
					r.failed, r.throttled, r.requests, r.share(), c.share, ratio, c.ratio, busy)
			}
			if *simTable {
				t.Logf("| %s | %d | %d (%.1f%%) | %.2f | %d busy |", c.name, r.requests, r.throttled, r.share(), ratio, busy)
			}
		})
	}
}

// TestBackpressureLoneSweep runs one run alone against limiters that refuse a retry sent after
// the whole Retry-After, at --rate x1 to x10 and 0, as the reviews of busy readings did by
// hand: buckets counting refused requests, and buckets and windows behind a constant
// Retry-After of 1 s. Whatever the cell, a lone run never draws a quarter of its requests as
// 429s nor takes three times N/R (today the worst are 22.7% and 2.66 x; lift after lift, before
// one lift a run, 68% and 3.6 x).
func TestBackpressureLoneSweep(t *testing.T) {
	t.Parallel()
	limits := []struct {
		name string
		rows int
	}{
		{"bucket-1s-counted", 600}, {"bucket-1s-b60-counted", 600}, {"bucket-0.5s-RA1", 200},
		{"sliding-3s-counted-RA1", 120}, {"sliding-10s-counted-RA1", 300}, {"sliding-20s-counted-RA1", 300},
		{"fixed-10s-RA1", 300}, {"fixed-60s-RA1", 600}, {"bucket-20-counted", 400},
	}
	for _, l := range limits {
		limit := loneLimits[l.name]
		for _, mult := range []float64{1, 2, 2.5, 3, 10, 0} {
			t.Run(fmt.Sprintf("%s/x%g", l.name, mult), func(t *testing.T) {
				t.Parallel()
				r := simulate(t, limit, pace.NewFinder(mult*limit.PerSecond()), l.rows, simWorkers, 0)
				ratio := r.wall.Seconds() / (float64(l.rows) / limit.PerSecond())
				if r.failed > 0 || r.share() > 25 || ratio > 3 {
					t.Errorf("%d rows failed, %d of %d requests 429 (%.1f%%, at most 25%%), wall %.2f x N/R (at most 3)",
						r.failed, r.throttled, r.requests, r.share(), ratio)
				}
			})
		}
	}
}
