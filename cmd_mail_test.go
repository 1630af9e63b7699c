package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// reportHeader is the header of a provisioning report.
const reportHeader = "row,email,sub,name,team,locale,status,user_id,session_token,login_url,widget_url,attempts,http_status,error,finished_at\n"

// mailToken is the session token of person i of writeProvisioned: tokens of one length, so
// that none is a part of another.
func mailToken(i int) string { return fmt.Sprintf("tok%03dQx7", i) }
func mailLink(i int) string  { return "https://acme.ideanote.io/login/session/" + mailToken(i) }
func mailEmail(i int) string { return fmt.Sprintf("person%03d@example.com", i) }

// writeProvisioned writes, in a folder of its own, the report of a provisioning run in which
// the n people mailEmail(i) are ok with the link mailLink(i), every other one French; then a
// failed row (no link), which is never mailed.
func writeProvisioned(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(reportHeader)
	for i := range n {
		locale := []string{"en", "fr-CA"}[i%2]
		fmt.Fprintf(&b, "%d,%s,,Person %d,Ops,%s,ok,u%d,%s,%s,,1,200,,2026-11-23T02:00:00Z\n",
			i+2, mailEmail(i), i, locale, i, mailToken(i), mailLink(i))
	}
	fmt.Fprintf(&b, "%d,failed@example.com,,Failed,,,failed,,,,,6,503,HTTP 503,2026-11-23T02:00:00Z\n", n+2)
	return testfile.Temp(t, "report.csv", b.String())
}

// mailArgs are the flags of a mail run on report against srv, nothing paced, no bar.
func mailArgs(srv *mailtest.Server, report string, extra ...string) []string {
	args := []string{"mail", "--from", "IT <it@acme.example>", "--rate", "0", "--progress", "never"}
	if srv != nil {
		args = append(args, "--smtp-url", srv.URL())
	}
	return append(append(args, extra...), report)
}

// invokeMail runs the program in-process, bounded in time.
func invokeMail(t *testing.T, vars map[string]string, args ...string) invocation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return invokeEnv(ctx, vars, nil, args...)
}

// mailStatuses returns the status of each email of a mail report.
func mailStatuses(t *testing.T, path string) map[string]string {
	t.Helper()
	header, lines := reportLines(t, path)
	if got := strings.Join(header, ","); got != strings.Join(mail.ReportColumns, ",") {
		t.Errorf("mail report header %s", got)
	}
	out := make(map[string]string)
	for _, l := range lines {
		out[l["email"]] = l["status"]
	}
	return out
}

// messageText parses a message as a mail program would (net/mail, mime/multipart) and returns
// the address of its To header and its parts, decoded and joined.
func messageText(t *testing.T, raw []byte) (to, body string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	addr, err := netmail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", mt, err)
	}
	var b strings.Builder
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return addr.Address, b.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&b, p); err != nil {
			t.Fatal(err)
		}
	}
}

// checkOwnLinks checks that every message the server accepted went to one person of
// writeProvisioned and holds their link and no one else's; it returns how many each got.
func checkOwnLinks(t *testing.T, msgs []mailtest.Message, n int) map[int]int {
	t.Helper()
	got := make(map[int]int)
	for _, m := range msgs {
		var i int
		if len(m.To) != 1 || func() bool { _, err := fmt.Sscanf(m.To[0], "person%03d@example.com", &i); return err != nil }() {
			t.Errorf("a message to %v", m.To)
			continue
		}
		got[i]++
		to, body := messageText(t, m.Data)
		if to != m.To[0] || !strings.Contains(body, mailLink(i)) {
			t.Errorf("the message to %s is addressed to %s, or does not hold their link", m.To[0], to)
		}
		for j := range n {
			if j != i && strings.Contains(body, mailToken(j)) {
				t.Errorf("the message to %s holds the token of %s", m.To[0], mailEmail(j))
			}
		}
	}
	return got
}

func TestMailSendsEachTheirOwnLink(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	rep := writeProvisioned(t, 5)
	prom := filepath.Join(t.TempDir(), "mail.prom")
	got := invokeMail(t, nil, mailArgs(srv, rep, "--metrics-file", prom)...)
	if got.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if n := checkOwnLinks(t, srv.Messages(), 5); len(n) != 5 || srv.Count() != 5 {
		t.Errorf("messages by person %v (%d accepted), want one each for 5", n, srv.Count())
	}
	st := mailStatuses(t, filepath.Join(filepath.Dir(rep), "report.mail.csv"))
	if st["failed@example.com"] != "skipped" || st[mailEmail(4)] != "sent" || len(st) != 6 {
		t.Errorf("mail report statuses %v", st)
	}
	if strings.Contains(got.stderr, "tok") {
		t.Errorf("a token in the log:\n%s", got.stderr)
	}
	if !strings.Contains(got.stderr, "msg=done") || !strings.Contains(got.stderr, "sent=5") {
		t.Errorf("no summary line:\n%s", got.stderr)
	}
	m := readMetrics(t, prom)
	want := map[string]float64{"ideanote_mail_messages{sent}": 5, "ideanote_mail_messages{skipped}": 1,
		"ideanote_mail_messages{failed}": 0, "ideanote_mail_messages{not_attempted}": 0, "ideanote_mail_messages{written}": 0,
		"ideanote_mail_messages{rendered}": 0, "ideanote_mail_requests_total": 5, "ideanote_mail_throttled_total": 0,
		"ideanote_mail_exit_code": 0}
	for k, v := range want {
		if g, ok := m[k]; !ok || g != v {
			t.Errorf("%s = %v (present: %v), want %v", k, g, ok, v)
		}
	}
}

func TestMailMetricsCountDeferred(t *testing.T) {
	t.Parallel()
	p := mailMetrics(mail.Summary{Tally: provision.Tally[mail.Status]{Counts: provision.Counts[mail.Status]{mail.StatusSent: 3}, Attempts: 5, Throttled: 2}})
	r := p.Run
	if p.Prefix != metrics.MailPrefix || r.Unit != "messages" || r.Requests != 5 || r.Throttled != 2 || r.Counts["sent"] != 3 || len(r.Statuses) != len(mail.Statuses) {
		t.Errorf("mailMetrics = %+v", p)
	}
}

func TestMailOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(*mailtest.Server)
		env    map[string]string
		args   []string
		code   int
		stderr string
		want   map[string]int // statuses counted in the mail report
	}{
		{name: "login refused aborts", code: exitAborted, stderr: "refused the login",
			server: func(s *mailtest.Server) { s.User, s.Password = "it", "the-right-one" },
			env:    map[string]string{"IDEANOTE_SMTP_PASSWORD": "a-wrong-one"}, args: []string{"--concurrency", "1"},
			want: map[string]int{"not_attempted": 4, "skipped": 1}},
		{name: "sender refused aborts", code: exitAborted, stderr: "550",
			server: func(s *mailtest.Server) { s.RefuseSender = true }, args: []string{"--concurrency", "1"},
			want: map[string]int{"not_attempted": 4, "skipped": 1}},
		{name: "5xx for one address", code: exitRowsFailed, stderr: "550 5.1.1 no such user",
			server: func(s *mailtest.Server) {
				s.ReplyToRcpt(mailEmail(2), mailtest.Reply{Code: 550, Text: "5.1.1 no such user here"})
			},
			want: map[string]int{"sent": 3, "failed": 1, "skipped": 1}},
		{name: "quota spent aborts, naming the flag that resumes", code: exitAborted, stderr: "run again with --resume once it is renewed",
			server: func(s *mailtest.Server) {
				s.ReplyToRcpt(mailEmail(2), mailtest.Reply{Code: 550, Text: "5.4.5 Daily sending quota exceeded"})
			}, args: []string{"--concurrency", "1"},
			want: map[string]int{"sent": 2, "not_attempted": 2, "skipped": 1}},
		{name: "template names a missing field", code: exitUsage, stderr: "Surname",
			args: []string{"--template", "TEMPLATE"}},
		{name: "no sender", code: exitUsage, stderr: "--from", args: []string{"--from", ""}},
		{name: "concurrency 0", code: exitUsage, stderr: "--concurrency", args: []string{"--concurrency", "0"}},
		{name: "rate below one a minute", code: exitUsage, stderr: "--rate must be 0 (no limit) or at least 0.0167", args: []string{"--rate", "0.00001"}},
		{name: "rate NaN", code: exitUsage, stderr: "--rate", args: []string{"--rate", "NaN"}},
		{name: "dry run into a folder", code: exitUsage, stderr: "give --dry-run or --out-dir, not both", args: []string{"--dry-run", "--out-dir", "OUTDIR"}},
		{name: "password as a flag", code: exitUsage, stderr: "never a flag", args: []string{"--smtp-password=" + secret}},
		{name: "not a report", code: exitUsage, stderr: "not a report of ideanote-provision", args: []string{"NOT-A-REPORT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newSMTP(t, tt.server)
			rep := writeProvisioned(t, 4)
			var args []string
			provisioned := rep
			for _, a := range mailArgs(srv, rep, tt.args...) {
				switch a {
				case "TEMPLATE":
					a = testfile.Temp(t, "welcome.txt", "Hello {{.Surname}}, {{.Link}}\n")
				case "OUTDIR":
					a = filepath.Join(t.TempDir(), "eml")
					defer func() {
						if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
							t.Errorf("--out-dir %s was made: %v", a, err)
						}
					}()
				case "NOT-A-REPORT":
					rep = testfile.Temp(t, "people.csv", "email,name\na@x.com,A\n")
					continue
				case provisioned:
					continue // the report, put last below: it may have been replaced
				}
				args = append(args, a)
			}
			args = append(args, rep)
			got := invokeMail(t, tt.env, args...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", got.code, tt.code, tt.stderr, got.stderr)
			}
			if strings.Contains(got.stderr+got.stdout, secret[:8]) {
				t.Errorf("the password is shown:\n%s", got.stderr)
			}
			if tt.want == nil {
				if srv.Connections() != 0 {
					t.Errorf("a configuration error made %d connections", srv.Connections())
				}
				return
			}
			counts := map[string]int{}
			for _, s := range mailStatuses(t, mail.DefaultMailReport(rep)) {
				counts[s]++
			}
			if fmt.Sprint(counts) != fmt.Sprint(tt.want) {
				t.Errorf("mail report statuses %v, want %v", counts, tt.want)
			}
		})
	}
}

func TestMailDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	rep := writeProvisioned(t, 3)
	got := invokeMail(t, nil, mailArgs(srv, rep, "--dry-run")...)
	if got.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if srv.Connections() != 0 {
		t.Errorf("a dry run connected %d times", srv.Connections())
	}
	for _, want := range []string{"the first message (row 2), as " + mailEmail(0), "Hello Person", mailLink(0)} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, mailToken(1)) || strings.Contains(got.stdout, mailToken(2)) {
		t.Errorf("stdout holds another person's link:\n%s", got.stdout)
	}
	if _, err := os.Stat(mail.DefaultMailReport(rep)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run wrote a mail report: %v", err)
	}
}

// mail --dry-run --to, repeated, prints the messages of the people named; an address not in
// the report is a usage error naming it.
func TestMailDryRunTo(t *testing.T) {
	t.Parallel()
	rep := writeProvisioned(t, 4)
	got := invokeMail(t, nil, mailArgs(nil, rep, "--dry-run", "--to", mailEmail(1), "--to", mailEmail(3))...)
	if got.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	for _, want := range []string{"as " + mailEmail(1), mailLink(1), "as " + mailEmail(3), mailLink(3)} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, mailToken(0)) || strings.Contains(got.stdout, mailToken(2)) {
		t.Errorf("stdout holds a message not asked for:\n%s", got.stdout)
	}
	got = invokeMail(t, nil, mailArgs(nil, rep, "--dry-run", "--overwrite", "--to", "stranger@example.com")...)
	if got.code != exitUsage || !strings.Contains(got.stderr, "--to stranger@example.com: not in the report") {
		t.Errorf("exit %d, want %d naming the address; stderr:\n%s", got.code, exitUsage, got.stderr)
	}
}

// TestMailRefusesADryRunsReport checks that mail refuses, exit 2 and saying what it is, the
// report of a provisioning dry run, which has no link: by its name (report.dry-run.csv), and by
// its lines once renamed. It writes no mail report.
func TestMailRefusesADryRunsReport(t *testing.T) {
	srv := newAPI(t)
	smtp := newSMTP(t)
	in := testfile.Temp(t, "in.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\n")
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"--dry-run", "--subdomain", "acme", in}, {"--dry-run", "--subdomain", "acme", "--report", "wave.csv", in}} {
		if got := invoke(t, srv, args...); got.code != exitOK {
			t.Fatalf("dry run %v: exit %d; stderr:\n%s", args, got.code, got.stderr)
		}
	}
	// A dry run given --report wave.csv writes wave.dry-run.csv; renamed, its lines still say
	// what it is.
	if err := os.Rename("wave.dry-run.csv", "renamed.csv"); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []string{"report.dry-run.csv", "renamed.csv"} {
		got := invokeMail(t, nil, mailArgs(smtp, rep)...)
		if got.code != exitUsage || !strings.Contains(got.stderr, "dry run") || !strings.Contains(got.stderr, rep) {
			t.Errorf("mail %s: exit %d, want %d naming it a dry run's report; stderr:\n%s", rep, got.code, exitUsage, got.stderr)
		}
		if _, err := os.Stat(mail.DefaultMailReport(rep)); err == nil {
			t.Errorf("mail %s wrote a mail report", rep)
		}
	}
	if smtp.Connections() != 0 {
		t.Errorf("%d SMTP connections", smtp.Connections())
	}
}

func TestMailResumeAndLock(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	rep := writeProvisioned(t, 3)
	if got := invokeMail(t, nil, mailArgs(srv, rep)...); got.code != exitOK {
		t.Fatalf("first run: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	// Refused before anything is sent: no bar, no closing lines, only the error.
	if got := invokeMail(t, nil, mailArgs(srv, rep, "--progress", "always")...); got.code != exitUsage ||
		!strings.Contains(got.stderr, "--resume") || strings.Contains(got.stderr, "mailing") || strings.Contains(got.stderr, "Mail report:") {
		t.Errorf("second run without --resume: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if got := invokeMail(t, nil, mailArgs(srv, rep, "--resume")...); got.code != exitOK {
		t.Errorf("--resume: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	unlock, err := lock.Lock(mail.DefaultMailReport(rep))
	if err != nil {
		t.Fatal(err)
	}
	got := invokeMail(t, nil, mailArgs(srv, rep, "--resume")...)
	unlock()
	if got.code != exitAborted || !strings.Contains(got.stderr, ".lock") {
		t.Errorf("run on a locked mail report: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if srv.Count() != 3 {
		t.Errorf("%d messages accepted, want 3: nobody twice", srv.Count())
	}
}

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
	night2 := testfile.Temp(t, "night2.csv", strings.ReplaceAll(testfile.Read(t, r1), "Qx7", "Zy9")) // new tokens
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
	got := invoke(t, srv, "--report", rep, "--rate", "0", "--subdomain", "acme", testfile.Temp(t, "in.csv", people(2)))
	if got.code != exitAborted || !strings.Contains(got.stderr, "a mail run, pid") {
		t.Errorf("exit %d, want %d naming the mail run; stderr:\n%s", got.code, exitAborted, got.stderr)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("%d requests sent", len(srv.Requests()))
	}
}

// TestMailClosingLines checks the plain lines for a person at a terminal.
func TestMailClosingLines(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	srv.ReplyToRcpt(mailEmail(1), mailtest.Reply{Code: 550, Text: "5.1.1 no such user here"})
	rep := writeProvisioned(t, 3)
	got := invokeMail(t, nil, mailArgs(srv, rep, "--progress", "always")...)
	if got.code != exitRowsFailed {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	for _, want := range []string{"mailing: 4 people in", "2 sent, 1 failed, 1 skipped", "Mail report: " + mail.DefaultMailReport(rep),
		"2 people have been mailed their login link", "1 message failed", "--resume", "1 person was skipped",
		"The report " + rep + " still holds every login link", "delete it once everyone is mailed"} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
		}
	}
}

func TestMailHelpListsEssentialFlagsFirst(t *testing.T) {
	t.Parallel()
	got := invokeEnv(context.Background(), nil, nil, "mail", "--help")
	order := []string{"Usage:", "mail [flags] REPORT", "Example:", "Essential flags:", "--smtp-url", "--from", "--out-dir", "--link",
		"--mail-report", "--resume", "--dry-run", "Templates:", "--template", "Output:", "--metrics-file", "Sending (tuning):",
		"--rate", "(default 2)", "--concurrency", "(default 2)"}
	inOrder(t, "mail --help", got.stdout, order)
}

// TestMailExitStatus checks the mail errors in the one mapping to exit codes.
func TestMailExitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"config", &provision.ConfigError{Err: errors.New("no sender")}, exitUsage},
		{"mail report exists", &provision.ConfigError{Err: fmt.Errorf("%w: x", mail.ErrExists)}, exitUsage},
		{"mail report not written", fmt.Errorf("%w: r.mail.csv: no space left on device", mail.ErrMailReport), exitIncomplete},
		{"interrupted", context.Canceled, exitInterrupted},
		{"aborted", fmt.Errorf("%w: connect: 535 no", mail.ErrAborted), exitAborted},
		{"locked", fmt.Errorf("%w: %w", mail.ErrAborted, lock.ErrLocked), exitAborted},
		{"failed", mail.ErrFailed, exitRowsFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exitStatus(tt.err); got != tt.code {
				t.Errorf("exitStatus(%v) = %d, want %d", tt.err, got, tt.code)
			}
		})
	}
}

func TestMailPasswordFile(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t, func(s *mailtest.Server) { s.User, s.Password = "it", secret })
	file := readableSecretFile(t, "smtp-password")
	rep := writeProvisioned(t, 2)
	got := invokeMail(t, nil, mailArgs(srv, rep, "--smtp-password-file", file)...)
	noSecret(t, outcome{code: got.code, stdout: got.stdout, stderr: got.stderr}, secret)
	exitOKSaying(t, "a password file others can read", got.code, got.stderr, "readable by other users")
	if srv.Count() != 2 {
		t.Errorf("%d messages, want 2", srv.Count())
	}
}

// TestMailPasswordFileErrorKeepsItsCause checks that the error wraps why the file could not be
// read, and does not echo its path (a password pasted in its place would be shown).
func TestMailPasswordFileErrorKeepsItsCause(t *testing.T) {
	t.Parallel()
	o := &mailOptions{Options: mail.Options{Concurrency: 1}, output: output{progress: "never", logFormat: "text"}, passwordFile: filepath.Join(t.TempDir(), "pw-"+secret)}
	err := o.check(func(string, ...any) {})
	var ue *provision.ConfigError
	if !errors.As(err, &ue) || !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), secret) {
		t.Errorf("check = %v, want a usage error wrapping fs.ErrNotExist, without the path", err)
	}
}

// TestMailPasswordNeverShown runs mail in the ways a password could leak, and checks that no
// 6 characters of it in a row are in stdout, stderr or the mail report.
func TestMailPasswordNeverShown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		serverPw  string // the password the fake takes; "" for no login at all
		args      func(srv *mailtest.Server) []string
		code      int
		stderrHas string
	}{
		{name: "login refused", serverPw: "another-password", code: exitAborted, stderrHas: "refused the login"},
		{name: "login accepted", serverPw: secret, code: exitOK},
		{name: "dry run", serverPw: secret, args: func(*mailtest.Server) []string { return []string{"--dry-run"} }, code: exitOK},
		{name: "password in the URL", serverPw: secret, code: exitUsage, stderrHas: "holds a password",
			args: func(srv *mailtest.Server) []string {
				return []string{"--smtp-url", "smtp://it:" + secret + "@" + srv.Addr}
			}},
		{name: "password but no user in the URL", serverPw: secret, code: exitUsage, stderrHas: "names no user",
			args: func(srv *mailtest.Server) []string { return []string{"--smtp-url", "smtp://" + srv.Addr} }},
		{name: "password as a flag", code: exitUsage, stderrHas: "never a flag",
			args: func(*mailtest.Server) []string { return []string{"--smtp-password=" + secret} }},
		{name: "password as a flag, spaced", code: exitUsage, stderrHas: "never a flag",
			args: func(*mailtest.Server) []string { return []string{"--password", secret} }},
		{name: "password as a flag, one dash", code: exitUsage, stderrHas: "never a flag",
			args: func(*mailtest.Server) []string { return []string{"-smtp-password", secret} }},
		{name: "password in an unknown flag", code: exitUsage,
			args: func(*mailtest.Server) []string { return []string{"--smtppassword=" + secret} }},
		{name: "password as the password file", code: exitUsage, stderrHas: "--smtp-password-file",
			args: func(*mailtest.Server) []string { return []string{"--smtp-password-file", secret} }},
	}
	for _, format := range []string{"text", "json"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				srv := newSMTP(t, func(s *mailtest.Server) {
					if tt.serverPw != "" {
						s.User, s.Password = "it", tt.serverPw
					}
				})
				rep := writeProvisioned(t, 3)
				args := []string{"--log-format", format}
				if tt.args != nil {
					args = append(args, tt.args(srv)...)
				}
				got := invokeMail(t, map[string]string{"IDEANOTE_SMTP_PASSWORD": secret}, mailArgs(srv, rep, args...)...)
				o := outcome{code: got.code, stdout: got.stdout, stderr: got.stderr}
				if b, err := os.ReadFile(mail.DefaultMailReport(rep)); err == nil {
					o.report = string(b)
				}
				noSecret(t, o, secret)
				if got.code != tt.code || !strings.Contains(got.stderr, tt.stderrHas) {
					t.Errorf("exit %d, want %d with %q; stderr:\n%s", got.code, tt.code, tt.stderrHas, got.stderr)
				}
				if tt.code == exitOK && tt.name != "dry run" && !strings.Contains(o.report, mailEmail(0)) { // a dry run writes none
					t.Errorf("mail report:\n%s", o.report)
				}
			})
		}
	}
}

// TestMailSaysTheProvisioningRunIsNotFinished checks mail on the report of an interrupted
// provisioning run: the people with a link are mailed (exit 0, as documented), and the log and
// the closing lines say that the others have no link because the run never reached them, and
// how to finish it, then mail them. They were only "skipped: no link", in a run that ended well.
func TestMailSaysTheProvisioningRunIsNotFinished(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	var b strings.Builder
	b.WriteString(reportHeader)
	for i := range 2 {
		fmt.Fprintf(&b, "%d,%s,,Person %d,,en,ok,u%d,%s,%s,,1,200,,2026-11-23T02:00:00Z\n", i+2, mailEmail(i), i, i, mailToken(i), mailLink(i))
	}
	b.WriteString("4,failed@example.com,,Failed,,,failed,,,,,6,503,HTTP 503,2026-11-23T02:00:00Z\n")
	for i := 2; i < 5; i++ {
		fmt.Fprintf(&b, "%d,%s,,Person %d,,,not_attempted,,,,,0,,interrupted,\n", i+3, mailEmail(i), i)
	}
	rep := testfile.Temp(t, "report.csv", b.String())
	got := invokeMail(t, nil, mailArgs(srv, rep, "--progress", "always")...)
	if got.code != exitOK || srv.Count() != 2 {
		t.Fatalf("exit %d, %d sent; want 0 and 2; stderr:\n%s", got.code, srv.Count(), got.stderr)
	}
	for _, want := range []string{
		"level=WARN msg=\"the provisioning run of this report is not finished", "not_provisioned=3",
		"4 people were skipped",
		"The provisioning run is not finished: 3 people have no link because it did not reach them (not_attempted). Finish it, then mail them:\n" +
			"  ideanote-provision --resume --report " + rep + " INPUT   (with the flags and the input of that run)\n" +
			"  ideanote-provision mail --resume " + rep + "   (with this run's mail flags)\n",
	} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
		}
	}
	// A report whose provisioning run finished draws no such line.
	got = invokeMail(t, nil, mailArgs(srv, writeProvisioned(t, 2), "--progress", "always")...)
	if got.code != exitOK || strings.Contains(got.stderr, "not finished") {
		t.Errorf("a finished run's report: exit %d; stderr:\n%s", got.code, got.stderr)
	}
}
