// Package demo runs the whole job, provision then mail, against the fakes of provisiontest and
// mailtest on 127.0.0.1: no network, no token.
package demo

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
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// users is testdata/users.csv, built in so that the demo runs from anywhere.
//
//go:embed testdata/users.csv
var users []byte

// Commands are the two commands as the command line runs them, with their log, bar and
// closing lines: the demo shows them as an operator sees them.
type Commands struct {
	Provision func(context.Context, wave.Options) error
	Mail      func(context.Context, mail.Options) error
}

// Run provisions the built-in users against a fake Ideanote on 127.0.0.1 through the real
// reader, client, pool and report code, then mails them (runMail); stdout takes what the demo
// says. The fake answers one request with 503 to show a retry.
func Run(ctx context.Context, reportPath, mailDir string, stdout io.Writer, c Commands) error {
	srv := provisiontest.NewServer()
	defer srv.Close()
	srv.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
		if n == 3 {
			return &provisiontest.Reply{Status: http.StatusServiceUnavailable, Body: `{"message":"demo: a passing outage"}`}
		}
		return nil
	}
	fmt.Fprintf(stdout, "demo: a fake Ideanote listens on %s\n", srv.URL)
	err := c.Provision(ctx, wave.Options{
		Input: "-", Stdin: bytes.NewReader(users), StdinName: "internal/demo/testdata/users.csv (built in)", SpaceID: srv.SpaceID, APIToken: srv.APIToken, BaseURL: srv.URL,
		HTTPClient: srv.Client(), Subdomain: "demo", WidgetID: "df828665bf", Report: reportPath, Overwrite: true,
		Rate: 20, Burst: 1, Concurrency: 4, Timeout: 5 * time.Second, MaxAttempts: 6, MaxWait: 15 * time.Minute,
	})
	if err != nil && !errors.Is(err, wave.ErrRowsFailed) {
		return err
	}
	fmt.Fprintf(stdout, "demo: %d requests received by the fake; report written to %s (mode 0600: it holds login links)\n", len(srv.Requests()), progress.AbsPath(reportPath))
	if link := firstLink(reportPath); link != "" {
		fmt.Fprintf(stdout, "demo: first login link: %s\n", link)
	}
	if merr := runMail(ctx, reportPath, mailDir, stdout, c.Mail); merr != nil {
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
