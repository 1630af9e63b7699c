package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/mail"
)

// TestMailResumeFromAnotherRun resumes, with the mail report of last night's report, tonight's
// report that gives the same people new links: refused, nobody mailed; with a mail report of
// its own, everyone gets their new link.
func TestMailResumeFromAnotherRun(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	r1 := writeProvisioned(t, 5)
	if got := invokeMail(t, nil, mailArgs(srv, r1)...); got.code != exitOK || srv.Count() != 5 {
		t.Fatalf("first night: exit %d, %d messages; stderr:\n%s", got.code, srv.Count(), got.stderr)
	}
	b, err := os.ReadFile(r1)
	if err != nil {
		t.Fatal(err)
	}
	night2 := writeFile(t, "night2.csv", strings.ReplaceAll(string(b), "Qx7", "Zy9")) // new tokens
	got := invokeMail(t, nil, mailArgs(srv, night2, "--resume", "--mail-report", mail.DefaultMailReport(r1))...)
	if got.code != exitUsage || !strings.Contains(got.stderr, "belongs to another provisioning run") || !strings.Contains(got.stderr, "--mail-report of its own") {
		t.Errorf("--resume with another run's mail report: exit %d, want %d; stderr:\n%s", got.code, exitUsage, got.stderr)
	}
	if srv.Count() != 5 {
		t.Fatalf("%d messages, want the first night's 5", srv.Count())
	}
	if got := invokeMail(t, nil, mailArgs(srv, night2)...); got.code != exitOK {
		t.Fatalf("second night: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	for _, m := range srv.Messages()[5:] {
		if _, body := messageText(t, m.Data); !strings.Contains(body, "Zy9") {
			t.Errorf("the message to %s does not hold their new link", m.To[0])
		}
	}
	if srv.Count() != 10 {
		t.Errorf("%d messages, want 5 a night", srv.Count())
	}
	_, lines := reportLines(t, mail.DefaultMailReport(night2))
	if len(lines) != 6 {
		t.Errorf("the second mail report has %d lines, want the report's 6", len(lines))
	}
}

// TestMailWaitsForProvisioning mails a report whose provisioning run still holds it: exit 3,
// nothing sent, and the message names the lock.
func TestMailWaitsForProvisioning(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	rep := writeProvisioned(t, 3)
	unlock, err := lock.Lock(rep) // as a provisioning run writing it holds it
	if err != nil {
		t.Fatal(err)
	}
	got := invokeMail(t, nil, mailArgs(srv, rep)...)
	unlock()
	if got.code != exitAborted || !strings.Contains(got.stderr, lock.Path(rep)) || !strings.Contains(got.stderr, "the report "+rep+" is in use") {
		t.Errorf("exit %d, want %d naming the lock; stderr:\n%s", got.code, exitAborted, got.stderr)
	}
	if srv.Connections() != 0 {
		t.Errorf("%d connections to the server", srv.Connections())
	}
}

// TestProvisioningWaitsForMail provisions into a report that a mail run holds: exit 3, told
// that a mail run holds it, and nothing sent.
func TestProvisioningWaitsForMail(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	rep := filepath.Join(t.TempDir(), "report.csv")
	unlock, err := lock.LockAs(rep, "a mail run") // as mail holds it
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	got := invoke(t, srv, "--report", rep, "--rate", "0", "--subdomain", "acme", writeFile(t, "in.csv", people(2)))
	if got.code != exitAborted || !strings.Contains(got.stderr, "a mail run, pid") {
		t.Errorf("exit %d, want %d naming the mail run; stderr:\n%s", got.code, exitAborted, got.stderr)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("%d requests sent", len(srv.Requests()))
	}
}
