package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/cronline"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
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
	return testfile.Temp(t, "people.csv", "email,name\nana@example.com,Ana\n"), filepath.Join(t.TempDir(), "report.csv")
}

func TestProvisionMail(t *testing.T) {
	t.Parallel()
	api, smtp := startServers(t)
	dir := t.TempDir()
	input := testfile.Temp(t, "people.csv", "email,name\nana@example.com,Ana\nnot-an-email,Bad\nbob@example.com,Bob\n")
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
	input := testfile.Temp(t, "people.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\ncy@example.com,Cy\n")
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

// TestMailOptionsNameTheirFlag checks that a mail option refused names the flag of the command
// that was run: mail's --rate and --concurrency are --mail-rate and --mail-concurrency under
// --mail, and provisioning's own --rate is still --rate.
func TestMailOptionsNameTheirFlag(t *testing.T) {
	t.Parallel()
	api := newAPI(t)
	input, report := anaAndReport(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--mail-rate", "-1"}, "ideanote-provision: --mail-rate must be 0 (no limit) or at least 0.0167 (one message a minute)"},
		{[]string{"--mail-concurrency", "100"}, "ideanote-provision: --mail-concurrency must be between 1 and 64 connections"},
		{[]string{"--rate", "-1"}, "ideanote-provision: --rate must be 0 (no limit) or at least 0.0167 (one request a minute)"},
	} {
		got := provisionMail(t, api, nil, input, report, append([]string{"--smtp-url", "smtp://127.0.0.1:1"}, tt.args...)...)
		if got.code != exitUsage || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q; stderr:\n%s", tt.args, got.code, exitUsage, tt.want, got.stderr)
		}
	}
	if len(api.Requests()) != 0 {
		t.Errorf("%d requests, want none", len(api.Requests()))
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "-1"}, "ideanote-provision: --rate must be 0 (no limit) or at least 0.0167 (one message a minute)"},
		{[]string{"--concurrency", "100"}, "ideanote-provision: --concurrency must be between 1 and 64 connections"},
	} {
		got := invokeMail(t, nil, mailArgs(nil, report, append([]string{"--smtp-url", "smtp://127.0.0.1:1"}, tt.args...)...)...)
		if got.code != exitUsage || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("mail %v: exit %d, want %d and %q; stderr:\n%s", tt.args, got.code, exitUsage, tt.want, got.stderr)
		}
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
	victim := testfile.Temp(t, "victim.csv", "row,email,status\n")
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

// With --state, the state remembers a report until its mail run mails everyone in it.

// nightly runs the README's nightly line on report against api, the state in dir, with the SMTP
// server smtp (nil: one that cannot be reached).
func nightly(t *testing.T, api *provisiontest.Server, smtp *mailtest.Server, input, report, dir string) invocation {
	t.Helper()
	url := "smtp://127.0.0.1:1"
	if smtp != nil {
		url = smtp.URL()
	}
	return provisionMail(t, api, nil, input, report, "--state", filepath.Join(dir, "state.db"), "--only-changes", "--resume",
		"--smtp-url", url)
}

// nights starts a fake Ideanote API, closed when the test ends, and returns it with a folder
// for the state and the reports of n nights, wave-1.csv to wave-n.csv.
func nights(t *testing.T, n int) (api *provisiontest.Server, dir string, reports []string) {
	api = newAPI(t)
	dir = t.TempDir()
	for i := range n {
		reports = append(reports, filepath.Join(dir, fmt.Sprintf("wave-%d.csv", i+1)))
	}
	return api, dir, reports
}

// A night whose mail run fails leaves its people provisioned and remembered by the state, so
// that no later report lists them: the next night's line mails them, with --resume, after its
// own people, and forgets the report once everyone in it is mailed.
func TestNightlyMailHeals(t *testing.T) {
	t.Parallel()
	api, dir, w := nights(t, 3)
	w1, w2, w3 := w[0], w[1], w[2]

	// Night 1: the SMTP server is down.
	input := writeInput(t, dir, 8)
	got := nightly(t, api, nil, input, w1, dir)
	if got.code != exitAborted {
		t.Fatalf("night 1: exit %d, want %d; stderr:\n%s", got.code, exitAborted, got.stderr)
	}
	for email, status := range mailStatuses(t, mail.DefaultMailReport(w1)) {
		if status != "not_attempted" {
			t.Errorf("night 1: %s is %s, want not_attempted", email, status)
		}
	}

	// A run without --mail says which report is still to mail, and how.
	got = invoke(t, api, "--subdomain", "acme", "--progress", "never", "--rate", "0", "--report", filepath.Join(dir, "plain.csv"),
		"--state", filepath.Join(dir, "state.db"), "--only-changes", input)
	exitOKSaying(t, "a run without --mail", got.code, got.stderr, "not all mailed", w1, "ideanote-provision mail --resume")

	// Nor does a dry run, which changes nothing.
	got = provisionMail(t, api, nil, input, w1, "--smtp-url", "smtp://127.0.0.1:1", "--dry-run",
		"--state", filepath.Join(dir, "state.db"), "--only-changes")
	exitOKSaying(t, "--dry-run --mail", got.code, got.stderr, "not all mailed")

	// Night 2: two new people; the server is back. Tonight's and night 1's are mailed, once.
	smtp := newSMTP(t)
	input = writeInput(t, dir, 10)
	got = nightly(t, api, smtp, input, w2, dir)
	if got.code != exitOK {
		t.Fatalf("night 2: exit %d, want %d; stderr:\n%s", got.code, exitOK, got.stderr)
	}
	rcpt := recipients(smtp)
	for i := range 10 {
		if rcpt[mailEmail(i)] != 1 {
			t.Errorf("night 2: %s mailed %d times, want once", mailEmail(i), rcpt[mailEmail(i)])
		}
	}
	if len(rcpt) != 10 {
		t.Errorf("night 2 mailed %v", rcpt)
	}
	if len(mailStatuses(t, mail.DefaultMailReport(w2))) != 2 {
		t.Errorf("night 2's mail report: %v, want its 2 new people", mailStatuses(t, mail.DefaultMailReport(w2)))
	}
	if !strings.Contains(got.stderr, "earlier report mailed") || !strings.Contains(got.stderr, w1) {
		t.Errorf("night 2's log does not name night 1's report mailed:\n%s", got.stderr)
	}
	// Night 1's people got night 1's links, night 2's theirs.
	var first, second []mailtest.Message
	for _, m := range smtp.Messages() {
		if m.To[0] == mailEmail(8) || m.To[0] == mailEmail(9) {
			second = append(second, m)
		} else {
			first = append(first, m)
		}
	}
	checkLinks(t, first, w1)
	checkLinks(t, second, w2)

	// Night 3: nobody new. Night 1's report is mailed completely: not tried again.
	before, err := os.Stat(mail.DefaultMailReport(w1))
	if err != nil {
		t.Fatal(err)
	}
	got = nightly(t, api, smtp, input, w3, dir)
	if got.code != exitOK || smtp.Count() != 10 || strings.Contains(got.stderr, "mailing an earlier report") {
		t.Errorf("night 3: exit %d, %d messages in all; want 0 and still 10, no earlier report; stderr:\n%s", got.code, smtp.Count(), got.stderr)
	}
	if after, err := os.Stat(mail.DefaultMailReport(w1)); err != nil || !os.SameFile(before, after) {
		t.Errorf("night 3 ran a mail run on night 1's report (its mail report was written again): %v", err)
	}
}

// A night whose mail run fails and the next too: the exit status is the worst of all runs,
// and the report stays remembered; a report removed since is forgotten with a warning.
func TestNightlyMailForgetsRemovedReport(t *testing.T) {
	t.Parallel()
	api, dir, w := nights(t, 4)
	w1, w2, w3, w4 := w[0], w[1], w[2], w[3]
	// Night 1: the sending quota is spent.
	quota := newSMTP(t)
	for i := range 3 {
		quota.ReplyToRcpt(mailEmail(i), mailtest.Reply{Code: 550, Text: "5.4.5 Daily sending quota exceeded"})
	}
	if got := nightly(t, api, quota, writeInput(t, dir, 3), w1, dir); got.code != exitAborted || quota.Count() != 0 {
		t.Fatalf("night 1: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	// Night 2: one person refused by the server: exit 1 for night 2's run, and night 1's
	// report is mailed after it but for that person: still remembered.
	smtp := newSMTP(t)
	smtp.ReplyToRcpt(mailEmail(1), mailtest.Reply{Code: 550, Text: "5.1.1 no such user"})
	got := nightly(t, api, smtp, writeInput(t, dir, 4), w2, dir)
	if got.code != exitRowsFailed || recipients(smtp)[mailEmail(0)] != 1 || recipients(smtp)[mailEmail(3)] != 1 {
		t.Fatalf("night 2: exit %d, mailed %v; want %d; stderr:\n%s", got.code, recipients(smtp), exitRowsFailed, got.stderr)
	}
	if !strings.Contains(got.stderr, "earlier report not all mailed") || !strings.Contains(got.stderr, remedies[cronline.NextRun]) {
		t.Errorf("night 2's log does not say night 1's report is not all mailed, and what mails it:\n%s", got.stderr)
	}
	// Night 1's report removed: forgotten, with a warning naming it, once.
	for _, f := range []string{w1, mail.DefaultMailReport(w1)} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	other := newSMTP(t)
	got = nightly(t, api, other, writeInput(t, dir, 4), w3, dir)
	exitOKSaying(t, "night 3", got.code, got.stderr, "no longer exists", w1)
	if got = nightly(t, api, other, writeInput(t, dir, 4), w4, dir); strings.Contains(got.stderr, "no longer exists") {
		t.Errorf("night 4 warns again of the report removed:\n%s", got.stderr)
	}
}

// TestClosingLinesGiveAMailCommandThatWorks checks the mail command the closing lines give on a
// terminal: copied as it stands, it mails everyone. It gave --from 'IT <it@example.com>' whatever
// the environment (a sender not the operator's), and no --link widget after a run that writes
// widget links only, for which mail refused the report (exit 2).
func TestClosingLinesGiveAMailCommandThatWorks(t *testing.T) {
	t.Parallel()
	api, smtp := startServers(t)
	vars := serverVars(api)
	vars["IDEANOTE_MAIL_FROM"], vars["IDEANOTE_SMTP_URL"] = "IT <it@acme.example>", smtp.URL()
	const shown = "Mail each their own:\n  "
	mailed := 0
	for _, tt := range []struct {
		name string
		link []string
		want string // the command, of the report %s
	}{
		{"login links", []string{"--subdomain", "acme"}, "ideanote-provision mail %s\n"},
		{"widget links only", []string{"--widget-id", "w1"}, "ideanote-provision mail --link widget %s\n"},
	} {
		input := testfile.Temp(t, "people.csv", people(2))
		report := filepath.Join(t.TempDir(), "report.csv")
		args := append(append([]string{"--rate", "0", "--progress", "always", "--report", report}, tt.link...), input)
		got := invokeEnv(t.Context(), vars, nil, args...)
		if want := shown + fmt.Sprintf(tt.want, report); got.code != exitOK || !strings.Contains(got.stderr, want) {
			t.Errorf("%s: exit %d; the closing lines do not say %q:\n%s", tt.name, got.code, want, got.stderr)
			continue
		}
		_, command, _ := strings.Cut(got.stderr, shown)
		command, _, _ = strings.Cut(command, "\n")
		got = invokeEnv(t.Context(), vars, nil, strings.Fields(command)[1:]...)
		mailed += 2
		if got.code != exitOK || smtp.Count() != mailed {
			t.Errorf("%s: %s: exit %d, %d messages in all, want 0 and %d; stderr:\n%s", tt.name, command, got.code, smtp.Count(), mailed, got.stderr)
		}
	}
	// Without the environment, the sender and the server are placeholders to fill in, which
	// mail refuses as they are: never an example sender that would be used.
	input, report := anaAndReport(t)
	got := invoke(t, api, "--rate", "0", "--progress", "always", "--subdomain", "acme", "--report", report, input)
	want := shown + "ideanote-provision mail --from 'NAME <ADDRESS>' --smtp-url smtp://USER@HOST:587 " + report + "\n"
	if got.code != exitOK || !strings.Contains(got.stderr, want) {
		t.Fatalf("exit %d; the closing lines do not say %q:\n%s", got.code, want, got.stderr)
	}
	got = invoke(t, nil, "mail", "--from", "NAME <ADDRESS>", "--smtp-url", "smtp://USER@HOST:587", report)
	if got.code != exitUsage || !strings.Contains(got.stderr, "--from") {
		t.Errorf("the placeholders as they are: exit %d, want %d naming --from; stderr:\n%s", got.code, exitUsage, got.stderr)
	}
}
