package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// provisionMail runs ideanote-provision INPUT --mail in-process against api and smtp.
func provisionMail(t *testing.T, api *provisiontest.Server, smtp *mailtest.Server, input, report string, extra ...string) invocation {
	t.Helper()
	args := []string{"--subdomain", "acme", "--progress", "never", "--rate", "0", "--report", report,
		"--mail", "--from", "IT <it@acme.example>", "--mail-rate", "0"}
	if smtp != nil {
		args = append(args, "--smtp-url", smtp.URL())
	}
	return invoke(t, api, append(append(args, extra...), input)...)
}

// startServers starts a fake Ideanote API and a fake SMTP server, closed when the test ends.
func startServers(t *testing.T) (*provisiontest.Server, *mailtest.Server) {
	api := newAPI(t)
	smtp := newSMTP(t)
	return api, smtp
}

// anaAndReport writes an export of one person, Ana, and names a report in a folder of its own.
func anaAndReport(t *testing.T) (input, report string) {
	t.Helper()
	return writeFile(t, "people.csv", "email,name\nana@example.com,Ana\n"), filepath.Join(t.TempDir(), "report.csv")
}

func TestProvisionMail(t *testing.T) {
	t.Parallel()
	api, smtp := startServers(t)
	dir := t.TempDir()
	input := writeFile(t, "people.csv", "email,name\nana@example.com,Ana\nnot-an-email,Bad\nbob@example.com,Bob\n")
	report := filepath.Join(dir, "report.csv")
	got := provisionMail(t, api, smtp, input, report)
	// A row invalid, everyone else mailed: the worse of the two runs, 1.
	if got.code != exitRowsFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", got.code, exitRowsFailed, got.stderr)
	}
	st := mailStatuses(t, mail.DefaultMailReport(report))
	if st["ana@example.com"] != "sent" || st["bob@example.com"] != "sent" || smtp.Count() != 2 {
		t.Errorf("mail report %v, %d messages; want ana and bob sent", st, smtp.Count())
	}
	// Again with --resume: nobody provisioned or mailed twice.
	got = provisionMail(t, api, smtp, input, report, "--resume")
	if got.code != exitRowsFailed || smtp.Count() != 2 {
		t.Errorf("resume: exit %d, %d messages; want 1 and still 2; stderr:\n%s", got.code, smtp.Count(), got.stderr)
	}
}

func TestProvisionMailWorseExit(t *testing.T) {
	t.Parallel()
	api, smtp := startServers(t)
	smtp.ReplyToRcpt("bob@example.com", mailtest.Reply{Code: 550, Text: "5.4.5 Daily sending quota exceeded"})
	input := writeFile(t, "people.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\ncy@example.com,Cy\n")
	report := filepath.Join(t.TempDir(), "report.csv")
	got := provisionMail(t, api, smtp, input, report, "--mail-concurrency", "1")
	if got.code != exitAborted || !strings.Contains(got.stderr, "quota") {
		t.Fatalf("exit %d, want %d (provisioned, then the mail run aborted); stderr:\n%s", got.code, exitAborted, got.stderr)
	}
	if st := mailStatuses(t, mail.DefaultMailReport(report)); st["cy@example.com"] != "not_attempted" {
		t.Errorf("mail report %v", st)
	}
}

func TestProvisionMailChecksFirst(t *testing.T) {
	t.Parallel()
	api := newAPI(t)
	input, report := anaAndReport(t)
	// Nowhere to send: refused before anyone is provisioned.
	got := provisionMail(t, api, nil, input, report)
	if got.code != exitUsage || !strings.Contains(got.stderr, "nowhere to send") || len(api.Requests()) != 0 {
		t.Errorf("exit %d, %d requests; want %d and none; stderr:\n%s", got.code, len(api.Requests()), exitUsage, got.stderr)
	}
	// A link this run does not write: nobody could be mailed once everyone is provisioned.
	got = provisionMail(t, api, nil, input, report, "--smtp-url", "smtp://127.0.0.1:1", "--link", "widget")
	if got.code != exitUsage || !strings.Contains(got.stderr, "--widget-url or --widget-id") || len(api.Requests()) != 0 {
		t.Errorf("--link widget without a widget: exit %d, %d requests; stderr:\n%s", got.code, len(api.Requests()), got.stderr)
	}
	got = invoke(t, api, "--widget-id", "w1", "--progress", "never", "--report", report, "--mail", "--from", "IT <it@acme.example>",
		"--smtp-url", "smtp://127.0.0.1:1", input)
	if got.code != exitUsage || !strings.Contains(got.stderr, "--subdomain or --webapp-url") || len(api.Requests()) != 0 {
		t.Errorf("--link login without a web-app link: exit %d, %d requests; stderr:\n%s", got.code, len(api.Requests()), got.stderr)
	}
	// A mail flag without --mail is a mistake.
	got = invoke(t, api, "--subdomain", "acme", "--progress", "never", "--report", report, "--from", "IT <it@acme.example>", input)
	if got.code != exitUsage || !strings.Contains(got.stderr, "--from is a flag of --mail") {
		t.Errorf("--from without --mail: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	// A dry run mails nobody.
	smtp := newSMTP(t)
	got = provisionMail(t, api, smtp, input, report, "--dry-run")
	if got.code != exitOK || smtp.Connections() != 0 || !strings.Contains(got.stderr, "nobody is mailed") {
		t.Errorf("--dry-run --mail: exit %d, %d connections; stderr:\n%s", got.code, smtp.Connections(), got.stderr)
	}
}

// The mail report's lock is held from before provisioning: a run that cannot take it (another
// run mails this report) provisions nobody.
func TestProvisionMailOneLock(t *testing.T) {
	t.Parallel()
	api, smtp := startServers(t)
	input, report := anaAndReport(t)
	unlock, err := mail.LockMailReport(mail.Options{Report: report})
	if err != nil {
		t.Fatal(err)
	}
	got := provisionMail(t, api, smtp, input, report)
	unlock()
	if got.code != exitAborted || !strings.Contains(got.stderr, "in use") || len(api.Requests()) != 0 {
		t.Errorf("exit %d, %d requests; want %d and none; stderr:\n%s", got.code, len(api.Requests()), exitAborted, got.stderr)
	}
}

// A mail run that refuses to start once people are provisioned (here a link planted at the
// mail report's name) is an abort, exit 3, not "nothing was sent" (2): the people were
// provisioned, and the message says how to mail them.
func TestProvisionMailRefusedAfterProvisioning(t *testing.T) {
	t.Parallel()
	api, smtp := startServers(t)
	input, report := anaAndReport(t)
	victim := writeFile(t, "victim.csv", "row,email,status\n")
	if err := os.Symlink(victim, mail.DefaultMailReport(report)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	got := provisionMail(t, api, smtp, input, report)
	if len(api.Requests()) == 0 {
		t.Skipf("the mail report was refused before provisioning; stderr:\n%s", got.stderr)
	}
	if got.code != exitAborted || !strings.Contains(got.stderr, "nobody was mailed") || smtp.Count() != 0 {
		t.Errorf("exit %d, %d messages; want %d and none; stderr:\n%s", got.code, smtp.Count(), exitAborted, got.stderr)
	}
}
