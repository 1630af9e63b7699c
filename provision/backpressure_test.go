package provision_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// The back-pressure measurement runs the real pool and pacer against the fake server limited to
// half of --rate, and reports the share of 429 answers and the run time against the ideal
// (rows / server rate). It is a benchmark so that `go test ./...` does not run it:
//
//	go test ./provision -run '^$' -bench Backpressure -benchtime 1x
//
// Goal (issue 3): 429s < 5% of requests and time <= 1.2x the ideal.
var (
	bpScale  = flag.Float64("bp.scale", 1, "back-pressure benchmark: multiply the row counts by this")
	bpServer = flag.String("bp.server", "window", "back-pressure benchmark: the fake's limit, window (N in any second) or bucket (token bucket)")
	bpBurst  = flag.Int("bp.burst", 1, "back-pressure benchmark: token-bucket burst of the fake server, with -bp.server bucket")
	bpTrace  = flag.Bool("bp.trace", false, "back-pressure benchmark: log the pacer's rate at every 429")
)

func BenchmarkBackpressure(b *testing.B) {
	for _, c := range []struct {
		rate, server float64
		rows         int
	}{
		{rate: 4, server: 2, rows: 200},
		{rate: 20, server: 10, rows: 500},
	} {
		rows := max(int(float64(c.rows)**bpScale), 1)
		name := fmt.Sprintf("rate%g_server%g_rows%d_%s", c.rate, c.server, rows, *bpServer)
		if *bpServer == "bucket" {
			name += fmt.Sprintf("_burst%d", *bpBurst)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				m := measureBackpressure(b, c.rate, c.server, *bpBurst, rows)
				b.ReportMetric(m.pct429, "%429")
				b.ReportMetric(m.ratio, "x_ideal")
				b.ReportMetric(m.elapsed.Seconds(), "s_run")
				b.Logf("%s: %d requests, %d ok, %d x 429 (%.1f%%), %.1fs for an ideal %.1fs (%.2fx), final rate %.2f/s",
					name, m.requests, m.ok, m.throttled, m.pct429, m.elapsed.Seconds(), m.ideal.Seconds(), m.ratio, m.finalRate)
			}
		})
	}
}

type bpResult struct {
	requests, ok, throttled int
	pct429, ratio           float64
	elapsed, ideal          time.Duration
	finalRate               float64
}

func measureBackpressure(tb testing.TB, clientRate, serverRate float64, burst, rows int) bpResult {
	tb.Helper()
	srv := provisiontest.NewServer()
	defer srv.Close()
	if *bpServer == "window" {
		srv.SetWindowLimit(int(serverRate), time.Second)
	} else {
		srv.SetRateLimit(serverRate, burst)
	}
	pacer := provision.NewPacer(clientRate, 1)
	pool := &provision.Pool{
		Endpoint:    &ideanote.Client{BaseURL: srv.URL, SpaceID: srv.SpaceID, APIToken: srv.APIToken, HTTPClient: srv.Client()},
		Pacer:       pacer,
		Concurrency: 4,
		MaxAttempts: 20,
		Timeout:     10 * time.Second,
	}
	in := make(chan provision.Row)
	out := make(chan provision.Result, rows)
	go func() {
		for i := range rows {
			in <- provision.Row{Line: i + 2, User: provision.User{Email: "u" + strconv.Itoa(i) + "@example.com"}}
		}
		close(in)
	}()
	start := time.Now()
	if *bpTrace {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			seen := 0
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if n := pacer.Throttles(); n != seen {
					seen = n
					tb.Logf("%6.2fs 429 #%d, rate now %.2f/s", time.Since(start).Seconds(), n, pacer.Rate())
				}
			}
		}()
	}
	if err := pool.Run(context.Background(), in, out); err != nil {
		tb.Fatal(err)
	}
	elapsed := time.Since(start)
	close(out)
	ok := 0
	for res := range out {
		if res.Status == provision.StatusOK {
			ok++
		}
	}
	count := srv.Count()
	reqs := srv.Requests()
	total := len(reqs)
	if *bpTrace {
		for i := 1; i < len(reqs); i++ {
			if reqs[i].Status == http.StatusTooManyRequests {
				tb.Logf("%6.2fs 429, %v after the request before (%d)", reqs[i].Time.Sub(start).Seconds(), reqs[i].Time.Sub(reqs[i-1].Time).Round(time.Millisecond), reqs[i-1].Status)
			}
		}
	}
	r := bpResult{requests: total, ok: ok, throttled: count[http.StatusTooManyRequests], elapsed: elapsed,
		ideal: time.Duration(float64(rows) / serverRate * float64(time.Second)), finalRate: pacer.Rate()}
	r.pct429 = 100 * float64(r.throttled) / float64(total)
	r.ratio = elapsed.Seconds() / r.ideal.Seconds()
	if ok != rows {
		tb.Errorf("%d of %d rows ok", ok, rows)
	}
	return r
}
