package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	rpt "github.com/ideanote-provision/ideanote-provision/report"
)

// cronLine runs the README's cron line: provision with --state --only-changes --resume, then
// --mail, against the fake Ideanote api and the fake SMTP server smtp.
func cronLine(t *testing.T, api *provisiontest.Server, smtp *mailtest.Server, input, report, dir string) *proc {
	t.Helper()
	return start(t, api, input, report, "--state", filepath.Join(dir, "state.db"), "--only-changes", "--resume",
		"--mail", "--from", "IT <it@acme.example>", "--smtp-url", smtp.URL(), "--mail-rate", "0", "--mail-concurrency", "4",
		"--metrics-file", filepath.Join(dir, "ideanote.prom"))
}

// checkLinks fails unless each message holds the link the report gives its recipient.
func checkLinks(t *testing.T, msgs []mailtest.Message, report string) {
	t.Helper()
	_, lines := reportLines(t, report)
	links := map[string]string{}
	for _, l := range lines {
		links[l["email"]] = l["login_url"]
	}
	for _, m := range msgs {
		_, body := messageText(t, m.Data)
		if link := links[m.To[0]]; link == "" || !strings.Contains(body, link) {
			t.Errorf("the message to %s does not hold their link %q", m.To[0], link)
		}
	}
}

// TestE2ECronLineMails runs the one cron line of a nightly wave: provisioned and mailed; killed
// with SIGKILL while mailing and run again, nobody is mailed twice: the people whose message
// was in flight at the kill are unknown (exit 1), everybody else mailed once; mail --resume
// --resend mails the unknown once; the next night, only the new and changed people.
func TestE2ECronLineMails(t *testing.T) {
	const n, conns = 40, 4
	api := newAPI(t)
	first := slowMailServer(t)
	dir := t.TempDir()
	input, report := writeInput(t, dir, n), filepath.Join(dir, "wave-1.csv")

	accepted := killWhileMailing(t, first, cronLine(t, api, first, input, report, dir))
	recorded := map[string]bool{}
	// Resumed, the mail report is written beside its place until it is complete.
	for email, status := range mailStatuses(t, rpt.TempPath(mail.DefaultMailReport(report))) {
		if status == "sent" {
			recorded[email] = true
		}
	}
	if inFlight := len(accepted) - len(recorded); inFlight < 0 || inFlight > conns {
		t.Fatalf("%d sent in the mail report after the kill, %d accepted by the server", len(recorded), len(accepted))
	}
	provisioned := ok200(api)

	second := newSMTP(t)
	r := cronLine(t, api, second, input, report, dir)
	code := r.wait(t, 30*time.Second)
	unknown := checkNobodyTwice(t, n, conns, accepted, recorded, recipients(second), mail.DefaultMailReport(report), r.stderr.String())
	if want := exitCodeFor(unknown); code != want {
		t.Fatalf("the cron line again: exit %d, want %d; output:\n%s", code, want, r.stderr)
	}
	if ok200(api) != provisioned {
		t.Errorf("the second run provisioned %d people again", ok200(api)-provisioned)
	}
	checkLinks(t, second.Messages(), report)
	if c := mailStatuses(t, mail.DefaultMailReport(report)); len(c) != n {
		t.Errorf("mail report: %d people, want %d", len(c), n)
	}
	prom := testfile.Read(t, filepath.Join(dir, "ideanote.prom"))
	for _, want := range []string{`ideanote_provision_rows{status="skipped"} 40`, "ideanote_provision_exit_code 0",
		fmt.Sprintf(`ideanote_mail_messages{status="sent"} %d`, n-len(unknown)),
		fmt.Sprintf(`ideanote_mail_messages{status="unknown"} %d`, len(unknown)),
		fmt.Sprintf("ideanote_mail_exit_code %d", exitCodeFor(unknown))} {
		if !strings.Contains(prom, want) {
			t.Errorf("the metrics file lacks %q:\n%s", want, prom)
		}
	}
	t.Logf("killed with %d recorded and %d accepted; %d unknown", len(recorded), len(accepted), len(unknown))

	// Checked, the unknown are mailed on purpose, once.
	resent := resendUnknown(t, report, unknown, 30*time.Second)
	checkLinks(t, resent.Messages(), report)
	for email, status := range mailStatuses(t, mail.DefaultMailReport(report)) {
		if status != "sent" {
			t.Errorf("%s is %s after --resend, want sent", email, status)
		}
	}

	// The next night: two new people and one changed; only they are provisioned and mailed.
	staff := strings.Replace(testfile.Read(t, input), "Person 7\n", "Person Seven\n", 1) + "person100@example.com,Person 100\nperson101@example.com,Person 101\n"
	testfile.Write(t, input, staff)
	third := newSMTP(t)
	night2 := filepath.Join(dir, "wave-2.csv")
	if code := cronLine(t, api, third, input, night2, dir).wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("the next night: exit %d", code)
	}
	got := recipients(third)
	if len(got) != 3 || got[mailEmail(7)] != 1 || got["person100@example.com"] != 1 || got["person101@example.com"] != 1 {
		t.Errorf("the next night mailed %v, want person007, person100 and person101 once", got)
	}
	checkLinks(t, third.Messages(), night2)
}
