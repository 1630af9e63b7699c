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
	return writeFile(t, "report.csv", b.String())
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
					a = writeFile(t, "welcome.txt", "Hello {{.Surname}}, {{.Link}}\n")
				case "OUTDIR":
					a = filepath.Join(t.TempDir(), "eml")
					defer func() {
						if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
							t.Errorf("--out-dir %s was made: %v", a, err)
						}
					}()
				case "NOT-A-REPORT":
					rep = writeFile(t, "people.csv", "email,name\na@x.com,A\n")
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
	file := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	rep := writeProvisioned(t, 2)
	got := invokeMail(t, nil, mailArgs(srv, rep, "--smtp-password-file", file)...)
	noSecret(t, outcome{code: got.code, stdout: got.stdout, stderr: got.stderr}, secret)
	if got.code != exitOK || srv.Count() != 2 {
		t.Errorf("exit %d, %d messages; stderr:\n%s", got.code, srv.Count(), got.stderr)
	}
	if !strings.Contains(got.stderr, "readable by other users") {
		t.Errorf("no warning about the file's mode:\n%s", got.stderr)
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
