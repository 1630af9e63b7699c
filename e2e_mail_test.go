package main

import (
	"os/exec"
	"strings"
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

// slowMailServer starts a fake SMTP server whose messages spend most of their time in flight,
// closed when the test ends.
func slowMailServer(t *testing.T) *mailtest.Server {
	srv := newSMTP(t, func(s *mailtest.Server) { s.Latency = 50 * time.Millisecond })
	return srv
}

// killWhileMailing kills p with SIGKILL once srv has accepted 10 messages, and returns the
// messages srv accepted, counted by recipient.
func killWhileMailing(t *testing.T, srv *mailtest.Server, p *proc) (accepted map[string]int) {
	t.Helper()
	waitFor(t, "messages to be accepted", func() bool { return srv.Count() >= 10 })
	p.cmd.Process.Kill()
	p.wait(t, 5*time.Second)
	// Close waits for the connections' handlers: a message whose data had all arrived when
	// the client died is accepted all the same, as a real server would.
	srv.Close()
	return recipients(srv)
}

// TestE2EMailKillAndResume kills mail with SIGKILL while messages are in flight, then runs it
// again with --resume: nobody is mailed twice. The people whose message was in flight at the
// kill, which the server may have accepted, are unknown, named in the log, exit 1; everybody
// else is mailed once. --resume --resend mails the unknown once.
func TestE2EMailKillAndResume(t *testing.T) {
	const n, conns = 40, 4
	first := slowMailServer(t)
	rep := writeProvisioned(t, n)
	accepted := killWhileMailing(t, first, startMail(t, first, rep, "--concurrency", "4"))

	recorded := map[string]bool{}
	for email, status := range mailStatuses(t, mail.DefaultMailReport(rep)) {
		if status == "sent" {
			recorded[email] = true
			if accepted[email] != 1 {
				t.Errorf("%s is sent in the mail report, and the server accepted %d messages for them", email, accepted[email])
			}
		}
	}
	if inFlight := len(accepted) - len(recorded); len(recorded) < 10-conns || inFlight < 0 || inFlight > conns {
		t.Fatalf("%d sent in the mail report after the kill, %d accepted by the server: want at most %d unrecorded", len(recorded), len(accepted), conns)
	}

	second := newSMTP(t)
	r := startMail(t, second, rep, "--resume", "--concurrency", "4")
	code := r.wait(t, 20*time.Second)
	unknown := checkNobodyTwice(t, n, conns, accepted, recorded, recipients(second), mail.DefaultMailReport(rep), r.stderr.String())
	if want := exitCodeFor(unknown); code != want {
		t.Fatalf("resume: exit %d, want %d; output:\n%s", code, want, r.stderr)
	}
	checkOwnLinks(t, second.Messages(), n)

	resendUnknown(t, rep, unknown, 20*time.Second)
	_, lines := reportLines(t, mail.DefaultMailReport(rep))
	if c := countStatus(lines); len(lines) != n+1 || c["sent"] != n || c["skipped"] != 1 {
		t.Errorf("mail report after --resend: %d lines, %v; want %d sent and 1 skipped", len(lines), c, n)
	}
	t.Logf("killed with %d recorded and %d accepted; %d unknown, mailed by --resend", len(recorded), len(accepted), len(unknown))
}

// checkNobodyTwice checks a resumed run after a kill, given what the killed run's server
// accepted, the people its mail report recorded sent, and what the resumed run's server got:
// nobody is mailed twice; the people unknown in mailReport, at most conns+1, are mailed by
// neither run, or by the killed one unrecorded, and named in log; every other person is
// mailed once and sent. It returns the unknown.
func checkNobodyTwice(t *testing.T, n, conns int, accepted map[string]int, recorded map[string]bool, again map[string]int, mailReport, log string) (unknown []string) {
	t.Helper()
	status := mailStatuses(t, mailReport)
	for i := range n {
		email := mailEmail(i)
		switch total := accepted[email] + again[email]; {
		case total > 1:
			t.Errorf("%s got %d messages", email, total)
		case status[email] == "unknown":
			unknown = append(unknown, email)
			if again[email] > 0 || recorded[email] {
				t.Errorf("%s is unknown, but was recorded sent or mailed by the resumed run", email)
			}
			if !strings.Contains(log, "email="+email) {
				t.Errorf("the log does not name %s, unknown", email)
			}
		case status[email] != "sent" || total != 1:
			t.Errorf("%s: %s, %d messages; want sent once", email, status[email], total)
		}
	}
	// Each connection's message, and one more: the one whose result the run was writing down
	// at the kill while its worker had already journaled the next.
	if len(unknown) > conns+1 {
		t.Errorf("%d unknown, more than the %d messages that can be in flight and the one being recorded", len(unknown), conns)
	}
	return unknown
}

// exitCodeFor is the exit status of a resumed run that leaves the people unknown.
func exitCodeFor(unknown []string) int {
	if len(unknown) > 0 {
		return exitRowsFailed
	}
	return exitOK
}

// resendUnknown runs mail --resume --resend on report for each of the people unknown, against
// a server of its own, which it returns; the run must exit 0 within timeout and mail each of
// them once, and nobody else.
func resendUnknown(t *testing.T, report string, unknown []string, timeout time.Duration) *mailtest.Server {
	t.Helper()
	srv := newSMTP(t)
	resend := []string{"--resume"}
	for _, email := range unknown {
		resend = append(resend, "--resend", email)
	}
	if code := startMail(t, srv, report, resend...).wait(t, timeout); code != exitOK {
		t.Fatalf("mail --resume --resend: exit %d, want 0", code)
	}
	checkResent(t, srv, unknown)
	return srv
}

// checkResent checks that srv got one message for each of the people of resend, and no other.
func checkResent(t *testing.T, srv *mailtest.Server, resend []string) {
	t.Helper()
	got := recipients(srv)
	for _, email := range resend {
		if got[email] != 1 {
			t.Errorf("--resend %s: %d messages, want 1", email, got[email])
		}
	}
	if srv.Count() != len(resend) {
		t.Errorf("--resend of %d people: %d messages", len(resend), srv.Count())
	}
}
