// Command pacecheck measures pacing accuracy: N rows sent at --rate R through the reader, pool,
// pacer and client to a fake that allows exactly R requests a second. It prints the elapsed time
// against N/R and the 429 answers; the goal is within 3% plus one request latency, with no 429.
//
// "Exactly R a second" is by default a sliding window: at most R requests in any second, as an
// API's "60 requests a minute" is meant. -server bucket instead makes it a token bucket of rate
// R and burst -server-burst: with burst 1, any two requests closer than 1/R at the server are
// refused, so a millisecond of scheduling jitter anywhere between the two draws a 429.
//
//	go run ./internal/cmd/pacecheck -rates 20,100 -seconds 10
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
	"github.com/ideanote-provision/ideanote-provision/internal/people"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

func main() {
	rates := flag.String("rates", "20,100", "rates to measure, requests per second")
	seconds := flag.Float64("seconds", 10, "length of each run at its rate: N = R x seconds")
	concurrency := flag.Int("concurrency", 4, "requests in flight at most")
	latency := flag.Duration("latency", 2*time.Millisecond, "answer delay of the fake")
	server := flag.String("server", "window", "the fake's limit: window (R in any second) or bucket (token bucket)")
	serverBurst := flag.Int("server-burst", 1, "burst of the fake's token bucket, with -server bucket")
	flag.Parse()
	rs, err := toolkit.Floats(*rates)
	if err != nil {
		toolkit.Exit(2, "-rates:", err)
	}
	failed := false
	for _, r := range rs {
		if r == 0 {
			toolkit.Exit(2, "-rates: a rate of 0 has no pace to check")
		}
		n := int(r * *seconds)
		ok, err := measure(r, n, *concurrency, *server, *serverBurst, *latency)
		if err != nil {
			toolkit.Exit(1, err)
		}
		failed = failed || !ok
	}
	if failed {
		os.Exit(1)
	}
}

// measure sends n rows at rate r and prints the outcome; ok when within the goal.
func measure(r float64, n, concurrency int, server string, serverBurst int, latency time.Duration) (bool, error) {
	var in bytes.Buffer
	if err := people.Write(&in, n, 1); err != nil {
		return false, err
	}
	srv, _ := toolkit.NewFakeIdeanote(latency)
	srv.Start()
	defer srv.Close()
	limit := fmt.Sprintf("window of %g a second", r)
	switch server {
	case "window":
		srv.SetWindowLimit(int(r), time.Second)
	case "bucket":
		srv.SetRateLimit(r, serverBurst)
		limit = fmt.Sprintf("token bucket %g/s burst %d", r, serverBurst)
	default:
		return false, fmt.Errorf("-server %q: window or bucket", server)
	}

	reader, err := input.NewCSV(&in, input.Options{})
	if err != nil {
		return false, err
	}
	client, closeIdle := toolkit.Client(srv.URL, srv.SpaceID, srv.APIToken, concurrency)
	defer closeIdle()
	job := &provision.Job{Source: reader, Emit: func(provision.Result) error { return nil },
		Pool: &provision.Pool{
			Endpoint:    client,
			Pacer:       pace.New(r, 1),
			Concurrency: concurrency,
		}}
	start := time.Now()
	sum, err := job.Run(context.Background())
	elapsed := time.Since(start)
	if err != nil {
		return false, err
	}
	counts := srv.Count()
	ideal := time.Duration(float64(n) / r * float64(time.Second))
	// Burst 1: the first request leaves at once, the n-th (n-1)/r later, and its answer takes a
	// latency more; the goal allows 3% of n/r plus one request's latency.
	goal := time.Duration(float64(ideal)*1.03) + latency
	ok := counts[http.StatusTooManyRequests] == 0 && elapsed <= goal && sum.Counts[provision.StatusOK] == n
	verdict := "ok"
	if !ok {
		verdict = "MISSED"
	}
	fmt.Printf("rate %g/s (fake: %s), %d rows, concurrency %d: elapsed %.3f s, N/R %.3f s (%+.2f%%), goal %.3f s, 429s %d, rows ok %d, requests %d: %s\n",
		r, limit, n, concurrency, elapsed.Seconds(), ideal.Seconds(), 100*(elapsed.Seconds()/ideal.Seconds()-1), goal.Seconds(),
		counts[http.StatusTooManyRequests], sum.Counts[provision.StatusOK], sum.Attempts, verdict)
	return ok, nil
}
