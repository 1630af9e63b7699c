// Command startcheck measures how long the built binary takes from its start to its first
// request, on a large input: it starts the fake of package provisiontest, runs the binary
// against it, interrupts the run once the first request has arrived, and prints the delay.
//
//	go build -o /tmp/ideanote-provision . && go run ./internal/cmd/gencsv -o /tmp/people.csv
//	go run ./internal/cmd/startcheck -bin /tmp/ideanote-provision -input /tmp/people.csv
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
)

func main() {
	bin := flag.String("bin", "", "the built ideanote-provision")
	input := flag.String("input", "", "input CSV")
	runs := flag.Int("runs", 5, "measurements")
	flag.Parse()
	if *bin == "" || *input == "" {
		toolkit.Exit(2, "-bin and -input are required")
	}
	dir, err := os.MkdirTemp("", "startcheck")
	if err != nil {
		toolkit.Exit(1, err)
	}
	defer os.RemoveAll(dir)
	var worst time.Duration
	for i := range *runs {
		d, err := once(*bin, *input, filepath.Join(dir, fmt.Sprintf("report-%d.csv", i)))
		if err != nil {
			toolkit.Exit(1, err)
		}
		fmt.Printf("run %d: first request %.1f ms after the process started\n", i+1, float64(d.Microseconds())/1000)
		worst = max(worst, d)
	}
	fmt.Printf("worst: %.1f ms\n", float64(worst.Microseconds())/1000)
}

// once runs the binary, from exec to the first request the fake receives.
func once(bin, input, reportPath string) (time.Duration, error) {
	srv, firstc := toolkit.NewFakeIdeanote(0)
	srv.Start()
	defer srv.Close()
	cmd := exec.Command(bin, "--rate", "0", "--concurrency", "32", "--subdomain", "acme",
		"--progress", "auto", "--report", reportPath, input)
	cmd.Env = append(os.Environ(), toolkit.Env(srv)...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var d time.Duration
	select {
	case first := <-firstc:
		d = first.Sub(start)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return 0, fmt.Errorf("no request within 10 s")
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait() // exit status 130 is expected
	return d, nil
}
