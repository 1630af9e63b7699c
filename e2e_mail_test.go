package main

import (
	"os/exec"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// startMail runs the built binary's mail command on report against srv, nothing paced.
func startMail(t *testing.T, srv *mailtest.Server, report string, flags ...string) *proc {
	t.Helper()
	args := append([]string{"mail", "--from", "IT <it@acme.example>", "--smtp-url", srv.URL(), "--progress", "never",
		"--rate", "0"}, flags...)
	return launch(t, exec.Command(binary(t), append(args, report)...))
}

// recipients counts the messages of srv by recipient.
func recipients(srv *mailtest.Server) map[string]int {
	got := make(map[string]int)
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

// TestE2EMailKillAndResume kills mail with SIGKILL while messages are in flight, then runs it
// again with --resume: everyone is mailed once, but for the messages the server accepted and
// the killed run could not record, which are mailed twice. There are at most as many of those
// as connections.
func TestE2EMailKillAndResume(t *testing.T) {
	const n, conns = 40, 4
	first := mailtest.NewUnstartedServer()
	first.Latency = 50 * time.Millisecond // messages spend most of their time in flight
	first.Start()
	defer first.Close()
	rep := writeProvisioned(t, n)
	p := startMail(t, first, rep, "--concurrency", "4")
	waitFor(t, "messages to be accepted", func() bool { return first.Count() >= 10 })
	p.cmd.Process.Kill()
	p.wait(t, 5*time.Second)
	// Close waits for the connections' handlers: a message whose data had all arrived when
	// the client died is accepted all the same, as a real server would.
	first.Close()
	accepted := recipients(first)

	recorded := map[string]bool{}
	for email, status := range mailStatuses(t, mail.DefaultMailReport(rep)) {
		if status == "sent" {
			recorded[email] = true
			if accepted[email] != 1 {
				t.Errorf("%s is sent in the mail report, and the server accepted %d messages for them", email, accepted[email])
			}
		}
	}
	inFlight := len(accepted) - len(recorded)
	if len(recorded) < 10-conns || inFlight < 0 || inFlight > conns {
		t.Fatalf("%d sent in the mail report after the kill, %d accepted by the server: want at most %d unrecorded", len(recorded), len(accepted), conns)
	}

	second := mailtest.NewServer()
	defer second.Close()
	r := startMail(t, second, rep, "--resume", "--concurrency", "4")
	if code := r.wait(t, 20*time.Second); code != exitOK {
		t.Fatalf("resume: exit %d, want 0; output:\n%s", code, r.stderr)
	}
	again := recipients(second)
	twice := 0
	for i := range n {
		email := mailEmail(i)
		switch total := accepted[email] + again[email]; {
		case recorded[email] && again[email] > 0:
			t.Errorf("%s was recorded as sent, and mailed again by the resume", email)
		case total == 2:
			twice++
		case total != 1:
			t.Errorf("%s got %d messages", email, total)
		}
	}
	if twice > inFlight {
		t.Errorf("%d people mailed twice, with %d messages in flight at the kill", twice, inFlight)
	}
	checkOwnLinks(t, second.Messages(), n)
	mailStatuses(t, mail.DefaultMailReport(rep)) // checks the header
	_, lines := reportLines(t, mail.DefaultMailReport(rep))
	if c := countStatus(lines); len(lines) != n+1 || c["sent"] != n || c["skipped"] != 1 {
		t.Errorf("mail report after the resume: %d lines, %v; want %d sent and 1 skipped", len(lines), c, n)
	}
	t.Logf("killed with %d recorded and %d in flight; %d mailed twice", len(recorded), inFlight, twice)
}
