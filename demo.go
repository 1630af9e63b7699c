package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// demoUsers is testdata/users.csv, built in so that the demo runs from anywhere.
//
//go:embed testdata/users.csv
var demoUsers []byte

// runDemo provisions the built-in users against a fake Ideanote on 127.0.0.1 through the real
// reader, client, pool and report code. The fake answers one request with 503 to show a retry.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ideanote-provision demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reportPath := fs.String("report", "demo-report.csv", "report `path`")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return errHelp
		}
		return usagef("%v", err)
	}
	srv := provisiontest.NewServer()
	defer srv.Close()
	srv.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
		if n == 3 {
			return &provisiontest.Reply{Status: http.StatusServiceUnavailable, Body: `{"message":"demo: a passing outage"}`}
		}
		return nil
	}
	fmt.Fprintf(stdout, "demo: a fake Ideanote listens on %s\n", srv.URL)
	o := &options{
		input: "-", spaceID: srv.SpaceID, apiToken: srv.APIToken, baseURL: srv.URL,
		subdomain: "demo", widgetID: "df828665bf", reportPath: *reportPath, overwrite: true,
		rate: 20, burst: 1, concurrency: 4, timeout: 5 * time.Second, maxAttempts: 6, maxWait: 15 * time.Minute,
		delimiter: "auto", progress: "auto", logFormat: "text",
	}
	err := execute(ctx, o, bytes.NewReader(demoUsers), stderr, srv.Client())
	if err != nil && err != errRowsFailed {
		return err
	}
	abs, _ := filepath.Abs(*reportPath)
	fmt.Fprintf(stdout, "demo: %d requests received by the fake; report written to %s (mode 0600: it holds login links)\n", len(srv.Requests()), abs)
	if link := firstLink(*reportPath); link != "" {
		fmt.Fprintf(stdout, "demo: first login link: %s\n", link)
	}
	return err
}

// firstLink returns the login_url of the first ok row of a report.
func firstLink(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		return ""
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		if r[col["status"]] == "ok" {
			return r[col["login_url"]]
		}
	}
	return ""
}
