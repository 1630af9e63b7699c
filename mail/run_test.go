package mail

import (
	"context"
	"errors"
	"maps"
	"mime"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

func TestEachPersonGetsTheirOwnLink(t *testing.T) {
	t.Parallel()
	srv, o, logs := serverOptions(t)
	o.ReplyTo = "help@acme.example"
	var started []int
	progressed := 0
	o.Started = func(lines, messages int) { started = append(started, lines, messages, progressed) }
	o.Progress = func(Result) { progressed++ }
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{6, 4, 0}; !slices.Equal(started, want) || progressed != 6 {
		t.Errorf("Started got (lines, messages, progress so far) %v, want %v once; Progress called %d times, want 6", started, want, progressed)
	}
	if got := statuses(t, DefaultMailReport(o.Report)); !maps.Equal(got, wantStatuses) {
		t.Errorf("statuses = %v, want %v", got, wantStatuses)
	}
	if sum.Counts[StatusSent] != 4 || sum.Counts[StatusSkipped] != 2 || sum.Attempts != 4 || sum.Retries != 0 {
		t.Errorf("summary = %+v", sum)
	}
	lines := readMailReport(t, DefaultMailReport(o.Report))
	msgs := srv.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want 4", len(msgs))
	}
	owner := map[string]person{}
	for _, p := range people[:4] {
		owner[p.email] = p
	}
	owner["dan@example.com"] = people[5]
	allTokens := []string{"tok-ana", "tok-zoe", "tok-cara", "tok-ana2", "tok-dan"}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Fatalf("envelope to %v, want one recipient", m.To)
		}
		p, ok := owner[m.To[0]]
		if !ok {
			t.Fatalf("a message to %s, who should get none", m.To[0])
		}
		if m.From != "it@acme.example" {
			t.Errorf("envelope from %s", m.From)
		}
		msg := parseMessage(t, m.Data)
		// Decoded, since quoted-printable may break a link across lines of the raw message.
		decoded := msg.text + msg.html
		for _, tok := range allTokens {
			in := strings.Contains(decoded, tok)
			if want := tok == p.token; in != want {
				t.Errorf("message to %s: holds %s = %v, want %v", p.email, tok, in, want)
			}
		}
		if !strings.Contains(msg.text, loginURL(p.token)) || !strings.Contains(msg.html, `href="`+loginURL(p.token)+`"`) {
			t.Errorf("message to %s: the link is not in both parts:\n%s\n%s", p.email, msg.text, msg.html)
		}
		h := msg.header
		to, err := h.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != p.email || to[0].Name != strings.TrimSpace(p.name) {
			t.Errorf("To = %v (%v), want %q <%s>", to, err, p.name, p.email)
		}
		if d, err := h.Date(); err != nil || d.IsZero() {
			t.Errorf("Date %q: %v", h.Get("Date"), err)
		}
		if h.Get("MIME-Version") != "1.0" || h.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("MIME-Version %q, Auto-Submitted %q", h.Get("MIME-Version"), h.Get("Auto-Submitted"))
		}
		if rt := h.Get("Reply-To"); rt != "<help@acme.example>" {
			t.Errorf("Reply-To = %q", rt)
		}
		id := h.Get("Message-ID")
		if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@acme.example>") || lines[p.row][3] != id {
			t.Errorf("Message-ID %q, in the mail report %q", id, lines[p.row][3])
		}
		if lines[p.row][4] != "1" || lines[p.row][6] == "" {
			t.Errorf("mail report line %v: want 1 attempt and a time", lines[p.row])
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		wantSubject := map[string]string{"es-ES": "Su enlace de acceso a Ideanote", "fr-CA": "Votre lien de connexion à Ideanote"}[p.locale]
		if wantSubject == "" {
			wantSubject = "Your Ideanote login link"
		}
		if subject != wantSubject {
			t.Errorf("subject to %s = %q, want %q", p.email, subject, wantSubject)
		}
	}
	// Accented names and subjects travel as RFC 2047 encoded words, never as raw 8-bit headers.
	for _, m := range msgs {
		head, _, _ := strings.Cut(string(m.Data), "\r\n\r\n")
		for _, r := range head {
			if r > 127 {
				t.Errorf("a raw non-ASCII character in the headers:\n%s", head)
				break
			}
		}
		if m.To[0] == "zoe@example.com" && !strings.Contains(head, "=?UTF-8?") {
			t.Errorf("no encoded word in the headers of Zoë's message:\n%s", head)
		}
	}
	if strings.Contains(logs.String(), "tok-") {
		t.Errorf("a link in the log:\n%s", logs)
	}
	if dup := lines[6]; !strings.Contains(dup[5], "row 2") {
		t.Errorf("the duplicate's line does not say whose: %v", dup)
	}
}

// TestUnprovisionedPeopleAreCounted checks that the people an interrupted provisioning run never
// reached (not_attempted, no link) are counted apart from the rest skipped: the run ends well
// for those with a link, and the operator must hear that the provisioning run is not finished.
func TestUnprovisionedPeopleAreCounted(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	t.Cleanup(srv.Close)
	ps := append(slices.Clone(people),
		person{row: 8, email: "eve@example.com", name: "Eve", status: "not_attempted"},
		person{row: 9, email: "fay@example.com", name: "Fay", status: "not_attempted"})
	o, _ := testOptions(t, srv, ps)
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unprovisioned != 2 || sum.Counts[StatusSkipped] != 4 || sum.Counts[StatusSent] != 4 {
		t.Errorf("unprovisioned %d, skipped %d, sent %d; want 2, 4, 4", sum.Unprovisioned, sum.Counts[StatusSkipped], sum.Counts[StatusSent])
	}
}

func TestSMTPAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    func(*mailtest.Server)
		want      map[int]string
		wantErr   error
		attempts  int    // of cara's message
		errorText string // in cara's line
		waits     int
		deferred  int // 4xx answers counted in the summary
	}{
		{"4xx then accepted", func(s *mailtest.Server) {
			s.ReplyToRcpt("cara@example.com", mailtest.Reply{Code: 451, Text: "4.7.1 greylisted, try again"})
		}, wantStatuses, nil, 2, "", 1, 1},
		{"dropped connection then accepted", func(s *mailtest.Server) {
			s.ReplyToRcpt("cara@example.com", mailtest.Drop)
		}, wantStatuses, nil, 2, "", 1, 0},
		{"421 closing then accepted", func(s *mailtest.Server) {
			s.ReplyToRcpt("cara@example.com", mailtest.Reply{Code: 421, Text: "4.7.0 too many connections"})
		}, wantStatuses, nil, 2, "", 1, 1},
		{"4xx until given up", func(s *mailtest.Server) {
			s.ReplyToRcpt("cara@example.com", mailtest.Reply{Code: 452, Text: "4.2.2 mailbox full"}, mailtest.Reply{Code: 452, Text: "4.2.2 mailbox full"},
				mailtest.Reply{Code: 452, Text: "4.2.2 mailbox full"})
		}, peopleStatuses("sent", map[int]string{5: "failed"}), ErrFailed, 3, "gave up after 3 attempts: RCPT TO: 452 4.2.2 mailbox full", 2, 3},
		{"5xx for one address", func(s *mailtest.Server) {
			s.ReplyToRcpt("cara@example.com", mailtest.Reply{Code: 550, Text: "5.1.1 no such user here"})
		}, peopleStatuses("sent", map[int]string{5: "failed"}), ErrFailed, 1, "RCPT TO: 550 5.1.1 no such user here", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer()
			defer srv.Close()
			tt.script(srv)
			o, _ := testOptions(t, srv, people)
			o.MaxAttempts = 3
			var waits []time.Duration
			o.Concurrency = 1 // the waits are recorded from one goroutine
			o.Wait = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			sum, err := Run(context.Background(), o)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if sum.Throttled != tt.deferred {
				t.Errorf("%d 4xx answers counted, want %d", sum.Throttled, tt.deferred)
			}
			path := DefaultMailReport(o.Report)
			if got := statuses(t, path); !maps.Equal(got, tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
			cara := readMailReport(t, path)[5]
			if cara[4] != strconv.Itoa(tt.attempts) || cara[5] != tt.errorText {
				t.Errorf("cara's line = %v, want %d attempts and error %q", cara, tt.attempts, tt.errorText)
			}
			if len(waits) != tt.waits {
				t.Errorf("waited %v, want %d waits", waits, tt.waits)
			}
			for i, d := range waits {
				if hi := time.Second << i; d < 0 || d >= hi { // full jitter: any wait below the doubled base
					t.Errorf("wait %d = %v, want in [0, %v)", i+1, d, hi)
				}
			}
			sent := 0
			for _, st := range tt.want {
				if st == "sent" {
					sent++
				}
			}
			if srv.Count() != sent {
				t.Errorf("the server accepted %d messages, want %d", srv.Count(), sent)
			}
		})
	}
}

// A content filter may quote the URL it blocked, whole or cut short, or the token alone: the
// link is a login, so neither the mail report nor the log may show it or a part of it.
func TestReplyQuotingTheLinkHidesIt(t *testing.T) {
	t.Parallel()
	const tok = "a1b2c3d4e5f6a7b8c9d0_1733600000000"
	for name, text := range map[string]string{
		"whole link":   "5.7.1 Message rejected: URL " + loginURL(tok) + " is blocked by policy",
		"token alone":  "5.7.1 token " + tok + " is blocked",
		"cut short":    "5.7.1 URL " + loginURL(tok)[:len(loginURL(tok))-20] + " blocked",
		"HTML-escaped": "5.7.1 <a href=&quot;" + loginURL(tok) + "&quot;> blocked",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer()
			defer srv.Close()
			o, logs := testOptions(t, srv, []person{{row: 2, email: "ana@example.com", name: "Ana", status: "ok", token: tok}})
			srv.ReplyToMessage(1, mailtest.Reply{Code: 550, Text: text})
			if _, err := Run(context.Background(), o); !errors.Is(err, ErrFailed) {
				t.Fatalf("err = %v, want %v", err, ErrFailed)
			}
			line := readMailReport(t, DefaultMailReport(o.Report))[2]
			if line[2] != "failed" || !strings.Contains(line[5], "550 5.7.1") || !strings.Contains(line[5], "[link]") {
				t.Errorf("line %q: want failed, with the reply and [link] in its error", line)
			}
			for _, s := range []string{strings.Join(line, ","), logs.String()} {
				if strings.Contains(s, tok[:8]) || strings.Contains(s, tok[len(tok)-14:]) {
					t.Errorf("the link, or a part of it, is shown:\n%s", s)
				}
			}
		})
	}
}

// TestReportOfAStoppedResumeIsRefused checks that a report whose resumed provisioning run was
// stopped before its end, its new lines still in report.TempPath, is not mailed: the people
// only there would never get their link. Nothing is sent, nor any mail report written.
func TestReportOfAStoppedResumeIsRefused(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	for _, dry := range []bool{false, true} {
		o, _ := testOptions(t, srv, people[:2])
		o.DryRun = dry
		rest := writeReport(t, t.TempDir(), people[2:])
		if err := os.Rename(rest, report.TempPath(o.Report)); err != nil {
			t.Fatal(err)
		}
		_, err := Run(context.Background(), o)
		var ce *provision.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, report.ErrLeftOver) || !strings.Contains(named(err), "<Resume>") {
			t.Errorf("dry run %v: err = %v, want a provision.ConfigError (exit 2) wrapping report.ErrLeftOver, saying to finish with Resume", dry, err)
		}
		if _, err := os.Stat(DefaultMailReport(o.Report)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry run %v: a mail report was written: %v", dry, err)
		}
	}
	if srv.Connections() != 0 {
		t.Errorf("%d connections", srv.Connections())
	}
}

// TestReportLockedByAProvisioningRun mails a report that a provisioning run holds: nothing
// is sent, and the error says which run holds it.
func TestReportLockedByAProvisioningRun(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	unlock, err := lock.LockAs(o.Report, "a provisioning run")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = Run(context.Background(), o)
	if !errors.Is(err, ErrAborted) || !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("err = %v, want ErrAborted and lock.ErrLocked", err)
	}
	for _, want := range []string{"the report " + o.Report + " is in use", "a provisioning run, pid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if srv.Connections() != 0 {
		t.Errorf("%d connections", srv.Connections())
	}
	if _, err := os.Stat(DefaultMailReport(o.Report)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a mail report was written: %v", err)
	}
}

// TestMailRunHoldsTheReport checks that, while a mail run goes, the report's lock is held
// (a provisioning run on it exits 3, told that a mail run holds it), and that it is let go.
func TestMailRunHoldsTheReport(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.DryRun = true
	var during error
	o.Started = func(int, int) {
		unlock, err := lock.Lock(o.Report)
		if err == nil {
			unlock()
		}
		during = err
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(during, lock.ErrLocked) || !strings.Contains(during.Error(), "a mail run, pid") {
		t.Errorf("locking the report during the run: %v, want lock.ErrLocked naming a mail run", during)
	}
	unlock, err := lock.Lock(o.Report)
	if err != nil {
		t.Fatalf("the report is still locked after the run: %v", err)
	}
	unlock()
}

// TestMissingReport is told as a report that cannot be read, not as a lock file's trouble.
func TestMissingReport(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.DryRun = true
	o.Report += ".missing"
	_, err := Run(context.Background(), o)
	var ce *provision.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "reading the report") {
		t.Errorf("err = %v, want a provision.ConfigError wrapping fs.ErrNotExist", err)
	}
	if _, err := os.Stat(lock.Path(o.Report)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a lock file was left beside the missing report: %v", err)
	}
}
