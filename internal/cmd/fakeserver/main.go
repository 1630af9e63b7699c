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
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

func main() {
	rate := flag.Float64("rate", 0, "requests per second the fake allows (429 beyond); 0 = no limit")
	burst := flag.Int("burst", 1, "burst of the fake's limit")
	limit := flag.String("limit", "", "the fake's limiter at -rate, one of provisiontest.Limits by name (e.g. fixed-3s); default a token bucket of -burst")
	latency := flag.Duration("latency", 0, "delay of every answer")
	flag.Parse()

	srv := provisiontest.NewUnstartedServer()
	srv.Latency = *latency
	srv.MaxRecorded = 1 // nothing reads them; a million would cost gigabytes
	var once sync.Once
	var first time.Time
	srv.Intercept = func(int, *provisiontest.Request) *provisiontest.Reply {
		once.Do(func() { first = time.Now() })
		return nil
	}
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
			fmt.Fprintf(os.Stderr, "fakeserver: -limit %q needs -rate and one of the names of provisiontest.Limits\n", *limit)
			os.Exit(2)
		}
	}
	fmt.Printf("export IDEANOTE_BASE_URL=%s\nexport IDEANOTE_SPACE_ID=%s\nexport IDEANOTE_API_TOKEN=%s\n",
		srv.URL, provisiontest.DefaultSpaceID, provisiontest.DefaultAPIToken)
	os.Stdout.Sync()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	<-sigs
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
	if !first.IsZero() {
		fmt.Fprintf(os.Stderr, "; first at %s", first.Format(time.RFC3339Nano))
	}
	fmt.Fprintln(os.Stderr)
}
