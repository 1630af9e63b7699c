// Command ratematrix runs the pool against the fake Ideanote behind every kind of rate limiter,
// at client rates that match the server's, exceed it, or are unlimited, and prints per cell the
// share of 429 answers, the wall time over N/R and the rows failed:
//
//	go run ./internal/cmd/ratematrix                          # the whole matrix, about 8 minutes
//	go run ./internal/cmd/ratematrix -kinds bucket-b1 -rates 1,0
//	go run ./internal/cmd/ratematrix -kinds fixed-3s -rates 0 -phase 2.75s   # where the window starts matters
//	go run ./internal/cmd/ratematrix -target http://127.0.0.1:8081 -label nginx-strict -server-rate 20
//
// With -target the cells go to a real limiter in front of internal/fakeserver (see
// bench-limiters.sh), with the fake's space and token; the 429s are counted by the pool.
//
// Goal per cell: no row failed, 429s at most 2% of requests (1% at x1), wall at most 1.1 x N/R.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

func main() {
	rows := flag.Int("rows", 200, "rows a cell sends")
	serverRate := flag.Float64("server-rate", 20, "the server's limit, requests a second (windows: 3 s worth per 3 s)")
	workers := flag.Int("workers", 8, "--concurrency of the pool")
	latency := flag.Duration("latency", 2*time.Millisecond, "answer delay of the fake")
	kindList := flag.String("kinds", "all", "comma-separated limiter kinds, or all: "+kindNames())
	rateList := flag.String("rates", "1,2,5,0", "client --rate as multiples of the server's rate; 0 is --rate 0 (no limit)")
	target := flag.String("target", "", "base URL of a limiter in front of internal/fakeserver, instead of the in-process fakes")
	label := flag.String("label", "", "with -target, the limiter's name in the table")
	header := flag.Bool("header", true, "print the table's header")
	rest := flag.Duration("rest", 4*time.Second, "with -target, the wait before each cell, for the limiter to forget the one before")
	flag.DurationVar(&phase, "phase", -1, "start each cell this far into a 3-s window of the clock, where the fixed windows start (e.g. 2.75s); negative: wherever it falls")
	flag.Parse()

	var selected []provisiontest.NamedLimit
	for _, k := range provisiontest.Limits(*serverRate) {
		if *kindList == "all" || contains(strings.Split(*kindList, ","), k.Name) {
			selected = append(selected, k)
		}
	}
	if *target != "" {
		selected = []provisiontest.NamedLimit{{Name: *label}}
	}
	if len(selected) == 0 {
		toolkit.Exit(2, "no such kind; kinds:", kindNames())
	}
	mults, err := toolkit.Floats(*rateList)
	if err != nil {
		toolkit.Exit(2, "-rates:", err)
	}

	if *header {
		fmt.Printf("%d rows, server %g/s (N/R %.1f s), %d workers, fake latency %v\n\n", *rows, *serverRate,
			float64(*rows) / *serverRate, *workers, *latency)
		fmt.Println("| limiter | --rate | requests | 429s | wall / N/R | rows failed | goal |")
		fmt.Println("|---|---|---|---|---|---|---|")
	}
	missed := 0
	for _, k := range selected {
		for _, m := range mults {
			var c cell
			if *target != "" {
				time.Sleep(*rest)
				c = measureTarget(*target, m**serverRate, *rows, *workers)
			} else {
				c = measure(k.Limit, m**serverRate, *rows, *workers, *latency)
			}
			rate := fmt.Sprintf("%g (x%g)", m**serverRate, m)
			if m == 0 {
				rate = "0 (no limit)"
			}
			share := 100 * float64(c.throttled) / float64(max(c.requests, 1))
			ratio := c.wall.Seconds() / (float64(*rows) / *serverRate)
			maxShare := 2.0
			if m == 1 {
				maxShare = 1
			}
			verdict := "met"
			if c.failed > 0 || share > maxShare || ratio > 1.1 {
				verdict, missed = "**missed**", missed+1
			}
			fmt.Printf("| %s | %s | %d | %d (%.1f%%) | %.2f | %d | %s |\n", k.Name, rate, c.requests, c.throttled, share, ratio, c.failed, verdict)
		}
	}
	if *header {
		fmt.Printf("\n%d cells missed the goal\n", missed)
	}
}

// phase is where in the clock's 3-s windows each cell starts; negative for anywhere.
var phase time.Duration

type cell struct {
	requests, throttled, failed int
	wall                        time.Duration
}

// measure sends rows to a fake behind limit, through the pool as the CLI builds it.
func measure(limit provisiontest.Limit, rate float64, rows, workers int, latency time.Duration) cell {
	srv, _ := toolkit.NewFakeIdeanote(latency)
	srv.Start()
	defer srv.Close()
	srv.SetLimit(limit)
	if phase >= 0 {
		// The fixed windows are aligned on the clock: wait for the phase asked for.
		per := 3 * time.Second
		now := time.Now()
		wait := (phase - now.Sub(now.Truncate(per)) + per) % per
		time.Sleep(wait)
	}
	_, results, wall := runPool(srv.URL, rate, rows, workers)
	c := cell{wall: wall}
	for _, res := range results {
		if res.Status != provision.StatusOK {
			c.failed++
		}
	}
	for code, n := range srv.Count() {
		c.requests += n
		if code == http.StatusTooManyRequests {
			c.throttled += n
		}
	}
	return c
}

// measureTarget sends rows to a limiter at target, in front of internal/fakeserver.
func measureTarget(target string, rate float64, rows, workers int) cell {
	pool, results, wall := runPool(target, rate, rows, workers)
	c := cell{wall: wall, throttled: pool.Throttles()}
	for _, res := range results {
		c.requests += res.Attempts
		if res.Status != provision.StatusOK {
			c.failed++
		}
	}
	return c
}

// runPool sends rows people to the fake's workspace at baseURL through a pool of workers paced
// at rate, and returns the pool, its results and the time it took; it exits the program if the
// run fails.
func runPool(baseURL string, rate float64, rows, workers int) (*provision.Pool, []provision.Result, time.Duration) {
	client, closeIdle := toolkit.Client(baseURL, provisiontest.DefaultSpaceID, provisiontest.DefaultAPIToken, workers)
	defer closeIdle()
	pool := &provision.Pool{Endpoint: client, Pacer: newPacer(rate), Concurrency: workers}
	in := make(chan provision.Row)
	out := make(chan provision.Result, rows)
	go func() {
		for i := range rows {
			in <- provision.Row{Line: i + 2, User: provision.User{Email: "u" + strconv.Itoa(i) + "@example.com"}}
		}
		close(in)
	}()
	start := time.Now()
	if err := pool.Run(context.Background(), in, out); err != nil {
		toolkit.Exit(1, err)
	}
	wall := time.Since(start)
	close(out)
	var results []provision.Result
	for res := range out {
		results = append(results, res)
	}
	return pool, results, wall
}

func kindNames() string {
	var names []string
	for _, k := range provisiontest.Limits(1) {
		names = append(names, k.Name)
	}
	return strings.Join(names, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}
