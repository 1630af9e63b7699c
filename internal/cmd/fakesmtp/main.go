// Command fakesmtp runs the fake SMTP server of package mailtest on a loopback port, for
// measuring the built binary's mail command (memory, throughput) outside of a test. It prints
// the environment a run needs, then serves until interrupted, and prints what it received.
//
//	go run ./internal/cmd/fakesmtp > /tmp/smtp.env &
//	. /tmp/smtp.env && ideanote-provision mail --rate 0 --concurrency 8 --from 'IT <it@acme.com>' report.csv
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

func main() {
	latency := flag.Duration("latency", 0, "delay of the answer to every message")
	user := flag.String("user", "", "require AUTH PLAIN as this user (the password is printed with the environment)")
	flag.Parse()

	srv := mailtest.NewUnstartedServer()
	srv.Latency = *latency
	srv.MaxRecorded = 1 // nothing reads them; ten thousand would only cost memory
	if *user != "" {
		srv.User, srv.Password = *user, "fakesmtp-password"
	}
	srv.Start()
	defer srv.Close()
	start := time.Now()
	fmt.Printf("export IDEANOTE_SMTP_URL=%s\n", srv.URL())
	if srv.User != "" {
		fmt.Printf("export IDEANOTE_SMTP_PASSWORD=%s\n", srv.Password)
	}
	os.Stdout.Sync()

	toolkit.WaitForInterrupt()
	fmt.Fprintf(os.Stderr, "fakesmtp: %d messages accepted of %d received, over %d connections, in %s\n",
		srv.Count(), srv.Received(), srv.Connections(), time.Since(start).Round(time.Millisecond))
}
