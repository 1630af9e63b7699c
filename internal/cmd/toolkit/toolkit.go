// Package toolkit holds what the tools under internal/cmd share: how they give up, the fake
// Ideanote they measure against and the environment that points the binary at it, waiting for
// an interrupt, lists of rates, and a session client with a connection for every worker.
package toolkit

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// Exit prints the tool's name and a, as fmt.Println does, on standard error, and exits with
// code: 1 when the measurement failed, 2 for a flag that cannot be used.
func Exit(code int, a ...any) {
	fmt.Fprintln(os.Stderr, append([]any{filepath.Base(os.Args[0]) + ":"}, a...)...)
	os.Exit(code)
}

// NewFakeIdeanote returns the fake Ideanote of package provisiontest, not started, answering
// after latency, and a channel that receives the time of its first request. It records one
// request only: nothing reads them, and a million would cost gigabytes.
func NewFakeIdeanote(latency time.Duration) (*provisiontest.Server, <-chan time.Time) {
	srv := provisiontest.NewUnstartedServer()
	srv.Latency = latency
	srv.MaxRecorded = 1
	first := make(chan time.Time, 1)
	srv.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
		if n == 1 {
			first <- time.Now()
		}
		return nil
	}
	return srv, first
}

// Env is the environment, NAME=value, that points the binary at srv, started.
func Env(srv *provisiontest.Server) []string {
	return []string{"IDEANOTE_BASE_URL=" + srv.URL, "IDEANOTE_SPACE_ID=" + srv.SpaceID, "IDEANOTE_API_TOKEN=" + srv.APIToken}
}

// WaitForInterrupt returns when the process is interrupted (SIGINT) or terminated.
func WaitForInterrupt() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	<-sigs
	signal.Stop(sigs)
}

// Floats parses list, numbers of 0 or more separated by commas.
func Floats(list string) ([]float64, error) {
	var fs []float64
	for _, s := range strings.Split(list, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(f >= 0) {
			return nil, fmt.Errorf("%q is not a number of 0 or more", s)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// Client returns a session client of the workspace space at baseURL with an idle connection
// kept for each of workers (twice over), as a run of that concurrency keeps them, and the
// function that closes them.
func Client(baseURL, space, token string, workers int) (*ideanote.Client, func()) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = workers * 2
	return &ideanote.Client{BaseURL: baseURL, SpaceID: space, APIToken: token, HTTPClient: &http.Client{Transport: t}},
		t.CloseIdleConnections
}
