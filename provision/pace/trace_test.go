package pace_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// The traces record, per simulated cell, every decision the Finder takes on a 429: how it read
// it, the rate before and after, and the pause it asked for; and, per cell, the outcome. They
// are golden files: a change of behaviour shows as their diff, and a change meant to keep
// behaviour (a restructure) must leave them byte-identical.
//
//	go test ./provision/pace -run Traces -update   # write them again
var update = flag.Bool("update", false, "trace tests: write the golden traces instead of checking them")

// traceRates are the server rates of the traced matrix, in requests a second.
var traceRates = []float64{1, 5, 20, 50, 100}

// traceCell is one cell of the traced matrix.
type traceCell struct {
	name   string
	limit  provisiontest.Limit
	server float64 // the limit's rate, requests a second
	mult   float64 // --rate as a multiple of server; 0 for --rate 0
	rows   int
	// first is the rows of another run at the same --rate, started half this one's N/R before
	// it, on the same limit (two runs on one limit); 0 for none. The trace is this run's.
	first int
}

// traceCells is the traced matrix: at each rate, every limiter of provisiontest.Limits
// (windows of 3 s), windows of 1 and 10 s, a bucket shared with a rival client for the first
// 30% of the job, and at one a second windows of 60 s and a bucket of burst 60 (Ideanote's 60
// a minute); --rate at x1, x2, x5 and 0; N/R of 10 s (2 minutes
// at one a second), or three windows when longer.
func traceCells() []traceCell {
	var cells []traceCell
	for _, r := range traceRates {
		rows := int(10 * r)
		if r < 5 {
			rows = int(120 * r)
		}
		kinds := provisiontest.Limits(r)
		n := func(per time.Duration) int { return int(r * per.Seconds()) }
		kinds = append(kinds,
			provisiontest.NamedLimit{Name: "fixed-1s", Limit: provisiontest.Limit{Kind: provisiontest.FixedWindow, N: n(time.Second), Per: time.Second}},
			provisiontest.NamedLimit{Name: "sliding-1s-counted", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: n(time.Second), Per: time.Second, CountRefused: true}},
			provisiontest.NamedLimit{Name: "sliding-10s-counted", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: n(10 * time.Second), Per: 10 * time.Second, CountRefused: true}},
			// As nginx limit_req burst=R nodelay and HAProxy http_req_rate(3s) deny 429 are
			// configured in bench-limiters.sh: neither sends Retry-After.
			provisiontest.NamedLimit{Name: "nginx-burst-noRA", Limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: max(int(r), 1), NoRetryAfter: true}},
			provisiontest.NamedLimit{Name: "haproxy-3s-counted-noRA", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: n(3 * time.Second), Per: 3 * time.Second, CountRefused: true, NoRetryAfter: true}},
		)
		if r == 1 {
			kinds = append(kinds,
				provisiontest.NamedLimit{Name: "bucket-b60", Limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 60}},
				provisiontest.NamedLimit{Name: "fixed-60s", Limit: provisiontest.Limit{Kind: provisiontest.FixedWindow, N: n(time.Minute), Per: time.Minute}},
				provisiontest.NamedLimit{Name: "sliding-60s-counted", Limit: provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: n(time.Minute), Per: time.Minute, CountRefused: true}},
			)
		}
		// A colleague's run at the whole limit for the first 3 s of a 10-s job, then none: N/R
		// is 1.3 at best, and the table's N/R counts the rival's time. (At one a second, 36 s of
		// the 2 minutes.)
		rival := time.Duration(0.3 * float64(rows) / r * float64(time.Second))
		kinds = append(kinds, provisiontest.NamedLimit{Name: "bucket-b1-rival", Limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 1, RivalRate: r, RivalFor: rival}})
		for _, k := range kinds {
			rows := max(rows, int(3*k.Per.Seconds()*r)) // a run crosses three windows at least
			for _, mult := range []float64{1, 2, 5, 0} {
				cells = append(cells, traceCell{name: fmt.Sprintf("%s/x%g", k.Name, mult), limit: k.Limit, server: r, mult: mult, rows: rows})
			}
		}
		// Two runs on one limit, as an operator starts a second wave while the first runs: the
		// first three times this one's rows, this one started half its N/R after.
		for _, mult := range []float64{1, 2, 5, 0} {
			cells = append(cells, traceCell{name: fmt.Sprintf("bucket-b1-two-runs/x%g", mult), limit: provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 1},
				server: r, mult: mult, rows: rows, first: 3 * rows})
		}
	}
	return cells
}

// TestTraces simulates every cell of the traced matrix and compares its trace with the golden
// file of its server rate, and the outcome of every cell with testdata/trace/table.md.
func TestTraces(t *testing.T) {
	t.Parallel()
	cells := traceCells()
	traces := make([]string, len(cells))
	lines := make([]string, len(cells))
	for i, c := range cells {
		t.Run(fmt.Sprintf("r%g/%s", c.server, c.name), func(t *testing.T) {
			f := pace.NewFinder(c.mult * c.server)
			tr := &recorder{Finder: f}
			var r simResult
			if c.first > 0 {
				nr := time.Duration(float64(c.rows) / c.server * float64(time.Second))
				rs := simulateRuns(t, c.limit, simWorkers, 0, simRun{policy: pace.NewFinder(c.mult * c.server), rows: c.first},
					simRun{policy: tr, rows: c.rows, after: nr / 2})
				r = together(rs[0], rs[1], nr/2)
			} else {
				r = simulate(t, c.limit, tr, c.rows, simWorkers, 0)
			}
			lines[i] = tableLine(c, r)
			traces[i] = fmt.Sprintf("== %s: %s\n%s", c.name, c.limit, tr.b.String())
		})
	}
	files := map[string]*strings.Builder{}
	var order []string
	for i, c := range cells {
		name := fmt.Sprintf("r%g.txt", c.server)
		b, ok := files[name]
		if !ok {
			b = &strings.Builder{}
			files[name] = b
			order = append(order, name)
		}
		b.WriteString(traces[i])
	}
	table := &strings.Builder{}
	table.WriteString("| server | cell | requests | 429s | wall / N/R | rows failed | goal |\n|---|---|---|---|---|---|---|\n")
	missed := 0
	for _, l := range lines {
		table.WriteString(l)
		if strings.HasSuffix(l, "missed |\n") {
			missed++
		}
	}
	fmt.Fprintf(table, "\n%d of %d cells missed the goal\n", missed, len(lines))
	files["table.md"] = table
	order = append(order, "table.md")
	for _, name := range order {
		golden(t, filepath.Join("testdata", "trace", name), files[name].String())
	}
}

// together is two runs' results as one: their requests, 429s and failures, and the wall from the
// first one's start, b starting after a.
func together(a, b simResult, after time.Duration) simResult {
	return simResult{requests: a.requests + b.requests, throttled: a.throttled + b.throttled, failed: a.failed + b.failed,
		wall: max(a.wall, after+b.wall)}
}

// tableLine is a cell's line of table.md: the goal is no row failed, 429s at most 2% of
// requests (1% at x1), wall at most 1.1 x N/R. N/R counts what else the limit serves: the
// rival's time at the whole limit, the rows of the other run (together).
func tableLine(c traceCell, r simResult) string {
	nr := float64(c.rows+c.first)/c.server + c.limit.RivalFor.Seconds()
	ratio := r.wall.Seconds() / nr
	maxShare := 2.0
	if c.mult == 1 {
		maxShare = 1
	}
	verdict := "met"
	if r.failed > 0 || r.share() > maxShare || ratio > 1.1 {
		verdict = "missed"
	}
	return fmt.Sprintf("| %g/s | %s | %d | %d (%.1f%%) | %.2f | %d | %s |\n", c.server, c.name, r.requests, r.throttled, r.share(), ratio, r.failed, verdict)
}

// golden compares got with the file at path, or writes it there with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from this run (write it again with -update, and show the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff is the first line that differs, and the ones around it.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n-%s\n+%s", i+1, wl, gl)
		}
	}
	return ""
}

// recorder is a Policy that writes down every 429 a Finder hears and what it decided.
type recorder struct {
	*pace.Finder
	start time.Time
	b     strings.Builder
}

func (r *recorder) Observe(now time.Time, o pace.Outcome) time.Duration {
	d, before := observeFrom(r.Finder, &r.start, now, o)
	if o.Action == provision.Throttled {
		probe := ""
		if o.Probe {
			probe = " probe"
		}
		fmt.Fprintf(&r.b, "%8.3fs 429%s sent %.3fs gap %v RA %v: %s; rate %.3f -> %.3f, pause %v\n",
			now.Sub(r.start).Seconds(), probe, o.Sent.Sub(r.start).Seconds(), o.Gap.Round(100*time.Microsecond), o.RetryAfter,
			pace.Reading(r.Finder), before, r.Finder.Rate(now.Add(d)), d.Round(100*time.Microsecond))
	}
	return d
}

// Every reading of a 429 is taken somewhere in the traced matrix, but a late start, which
// needs a timer that fires late (TestFinderJitter): a reading nothing takes goes.
func TestReadingsTraced(t *testing.T) {
	t.Parallel()
	var all strings.Builder
	for _, r := range traceRates {
		b, err := os.ReadFile(filepath.Join("testdata", "trace", fmt.Sprintf("r%g.txt", r)))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, name := range pace.Readings() {
		if name != "late start" && !strings.Contains(all.String(), ": "+name+";") {
			t.Errorf("no 429 of the traced matrix is read %q", name)
		}
	}
}

// TestTwoRunsSweep runs two runs on one limit over more operating points than the traced
// matrix holds: a token bucket of burst 1 at each traced rate, the first run 2 or 6 times the
// second's rows, the second started 0.1 to 1.5 of its N/R after the first, both at --rate x1,
// x2, x5 and 0. Each cell's line, and a summary, are the golden file two-runs.md: wall over
// (N_A+N_B)/R, and 429s as a share of both runs' requests. Where two Finders cut each other's
// ceilings (see BENCHMARKS.md, "Two runs on one limit") its diff shows.
func TestTwoRunsSweep(t *testing.T) {
	t.Parallel()
	type cell struct {
		server, off, mult float64
		ratio             int
	}
	var cells []cell
	for _, r := range traceRates {
		for _, ratio := range []int{2, 6} {
			for _, off := range []float64{0.1, 0.5, 1.5} {
				for _, mult := range []float64{1, 2, 5, 0} {
					cells = append(cells, cell{r, off, mult, ratio})
				}
			}
		}
	}
	walls := make([]float64, len(cells))
	lines := make([]string, len(cells))
	t.Run("cells", func(t *testing.T) {
		for i, c := range cells {
			t.Run(fmt.Sprintf("r%g/a%d/off%g/x%g", c.server, c.ratio, c.off, c.mult), func(t *testing.T) {
				t.Parallel()
				rows := int(10 * c.server)
				if c.server < 5 {
					rows = int(120 * c.server)
				}
				nr := time.Duration(float64(rows) / c.server * float64(time.Second))
				after := time.Duration(c.off * float64(nr))
				l := provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: c.server, Burst: 1}
				rs := simulateRuns(t, l, simWorkers, 0, simRun{policy: pace.NewFinder(c.mult * c.server), rows: c.ratio * rows},
					simRun{policy: pace.NewFinder(c.mult * c.server), rows: rows, after: after})
				r := together(rs[0], rs[1], after)
				walls[i] = r.wall.Seconds() / (float64((c.ratio+1)*rows) / c.server)
				lines[i] = fmt.Sprintf("| %g/s | %d x | %g | x%g | %d | %d (%.1f%%) | %.2f | %d |\n", c.server, c.ratio, c.off, c.mult,
					r.requests, r.throttled, r.share(), walls[i], r.failed)
			})
		}
	})
	var b strings.Builder
	b.WriteString("| server | first run's rows | second started (N/R) | --rate | requests | 429s | wall / (N_A+N_B)/R | rows failed |\n|---|---|---|---|---|---|---|---|\n")
	over15, over3, worst, logs := 0, 0, 0.0, 0.0
	for i, l := range lines {
		b.WriteString(l)
		w := walls[i]
		if w > 1.5 {
			over15++
		}
		if w > 3 {
			over3++
		}
		worst, logs = max(worst, w), logs+math.Log(w)
	}
	fmt.Fprintf(&b, "\n%d cells: geometric mean %.3f, above 1.5 x %d, above 3 x %d, worst %.2f\n",
		len(walls), math.Exp(logs/float64(len(walls))), over15, over3, worst)
	golden(t, filepath.Join("testdata", "trace", "two-runs.md"), b.String())
}
