package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/progress"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/wave"
	"github.com/spf13/cobra"
)

// demoUsers is testdata/users.csv, built in so that the demo runs from anywhere.
//
//go:embed testdata/users.csv
var demoUsers []byte

func newDemoCmd(env environ) *cobra.Command {
	var reportPath, mailDir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole job, provision then mail, against built-in fakes on 127.0.0.1 (no network, no token)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), reportPath, mailDir, env.stdout, env.stderr)
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "demo-report.csv", "report `path`")
	cmd.Flags().StringVar(&mailDir, "mail-dir", "demo-mail", "`folder` for the messages mailed, as .eml files")
	return cmd
}

// runDemo provisions the built-in users against a fake Ideanote on 127.0.0.1 through the real
// reader, client, pool and report code, then mails them (demoMail). The fake answers one
// request with 503 to show a retry.
func runDemo(ctx context.Context, reportPath, mailDir string, stdout, stderr io.Writer) error {
	srv := provisiontest.NewServer()
	defer srv.Close()
	srv.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
		if n == 3 {
			return &provisiontest.Reply{Status: http.StatusServiceUnavailable, Body: `{"message":"demo: a passing outage"}`}
		}
		return nil
	}
	fmt.Fprintf(stdout, "demo: a fake Ideanote listens on %s\n", srv.URL)
	o := &options{Options: wave.Options{
		Input: "-", Stdin: bytes.NewReader(demoUsers), SpaceID: srv.SpaceID, APIToken: srv.APIToken, BaseURL: srv.URL,
		HTTPClient: srv.Client(), Subdomain: "demo", WidgetID: "df828665bf", Report: reportPath, Overwrite: true,
		Rate: 20, Burst: 1, Concurrency: 4, Timeout: 5 * time.Second, MaxAttempts: 6, MaxWait: 15 * time.Minute,
	}, delimiter: "auto", progress: "auto", logFormat: "text"}
	err := execute(ctx, o, stderr)
	if err != nil && !errors.Is(err, wave.ErrRowsFailed) {
		return err
	}
	fmt.Fprintf(stdout, "demo: %d requests received by the fake; report written to %s (mode 0600: it holds login links)\n", len(srv.Requests()), progress.AbsPath(reportPath))
	if link := firstLink(reportPath); link != "" {
		fmt.Fprintf(stdout, "demo: first login link: %s\n", link)
	}
	if merr := demoMail(ctx, reportPath, mailDir, stdout, stderr); merr != nil {
		return merr
	}
	return err
}

// firstLink returns the login_url of the ok row of a report that comes first in the input: the
// person whose message the demo shows.
func firstLink(path string) string {
	lines, _ := report.ReadLines(path)
	link, first := "", 0
	for _, l := range lines {
		if l.Status == string(provision.StatusOK) && (first == 0 || l.Row < first) {
			link, first = l.LoginURL, l.Row
		}
	}
	return link
}
