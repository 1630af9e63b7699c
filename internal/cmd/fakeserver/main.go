// Command fakeserver runs the fake Ideanote of package provisiontest on a loopback port, for
// measuring the built binary (memory, start-up) outside of a test. It prints the environment a
// run needs, then serves until interrupted, and prints what it received.
//
//	go run ./internal/cmd/fakeserver -rate 0 > /tmp/fake.env &
//	. /tmp/fake.env && ideanote-provision --rate 0 --subdomain acme people.csv
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

func main() {
	rate := flag.Float64("rate", 0, "requests per second the fake allows (429 beyond); 0 = no limit")
	burst := flag.Int("burst", 1, "burst of the fake's limit")
	limit := flag.String("limit", "", "the fake's limiter at -rate, one of provisiontest.Limits by name (e.g. fixed-3s); default a token bucket of -burst")
	latency := flag.Duration("latency", 0, "delay of every answer")
	flag.Parse()

	srv, firstc := toolkit.NewFakeIdeanote(*latency)
	srv.Start()
	defer srv.Close()
	if *rate > 0 {
		srv.SetRateLimit(*rate, *burst)
	}
	if *limit != "" {
		found := false
		for _, l := range provisiontest.Limits(*rate) {
			if l.Name == *limit && *rate > 0 {
				srv.SetLimit(l.Limit)
				found = true
			}
		}
		if !found {
			toolkit.Exit(2, fmt.Sprintf("-limit %q needs -rate and one of the names of provisiontest.Limits", *limit))
		}
	}
	for _, kv := range toolkit.Env(srv) {
		fmt.Println("export " + kv)
	}
	os.Stdout.Sync()

	toolkit.WaitForInterrupt()
	counts := srv.Count()
	codes := make([]int, 0, len(counts))
	total := 0
	for c, n := range counts {
		codes = append(codes, c)
		total += n
	}
	sort.Ints(codes)
	fmt.Fprintf(os.Stderr, "fakeserver: %d requests", total)
	for _, c := range codes {
		fmt.Fprintf(os.Stderr, ", %d: %d", c, counts[c])
	}
	select {
	case first := <-firstc:
		fmt.Fprintf(os.Stderr, "; first at %s", first.Format(time.RFC3339Nano))
	default:
	}
	fmt.Fprintln(os.Stderr)
}
