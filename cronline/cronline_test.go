package cronline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// rank ranks errors as the command line's exit statuses do, for the errors these tests meet.
func rank(err error) int {
	var ce *provision.ConfigError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, wave.ErrRowsFailed), errors.Is(err, mail.ErrFailed):
		return 1
	case errors.Is(err, wave.ErrIncomplete):
		return 4
	case errors.As(err, &ce):
		return 2
	}
	return 3
}

func TestReportToMail(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"ok", context.Background(), nil, true},
		{"rows failed", context.Background(), wave.ErrRowsFailed, true},
		{"report incomplete", context.Background(), wave.ErrIncomplete, true},
		{"aborted", context.Background(), provision.ErrAborted, true},
		{"input unreadable", context.Background(), provision.ErrInput, true},
		{"refused by its options", context.Background(), provision.Configf("no"), false},
		{"interrupted", canceled, context.Canceled, false},
		{"interrupted after a clean end", canceled, nil, false},
		{"interrupted as it aborted", canceled, provision.ErrAborted, false},
	}
	for _, tt := range tests {
		if got := reportToMail(Interrupted(tt.ctx, tt.err), tt.err); got != tt.want {
			t.Errorf("%s: reportToMail = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// mailer is a MailRun that records the reports it is asked to mail and ends as told.
type mailer struct {
	calls []mail.Options
	end   func(mail.Options) error
}

func (m *mailer) run(_ context.Context, o mail.Options) (mail.Summary, error) {
	m.calls = append(m.calls, o)
	return mail.Summary{}, m.end(o)
}

func (m *mailer) reports() []string {
	var r []string
	for _, o := range m.calls {
		r = append(r, filepath.Base(o.Report))
	}
	return r
}

// fakeAPI starts a fake Ideanote, closed when the test ends.
func fakeAPI(t *testing.T) *provisiontest.Server {
	api := provisiontest.NewServer()
	t.Cleanup(api.Close)
	return api
}

// night returns the options of one night's line on api, its report named name in dir.
func night(t *testing.T, api *provisiontest.Server, dir, name string, people int, m *mailer) Options {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range people {
		fmt.Fprintf(&b, "p%d@acme.com,Person %d\n", i, i)
	}
	input := filepath.Join(dir, "staff.csv")
	testfile.Write(t, input, b.String())
	report := filepath.Join(dir, name)
	p := wave.Options{Input: input, Report: report, Resume: true, Subdomain: "acme",
		State: filepath.Join(dir, "state.db"), OnlyChanges: true,
		BaseURL: api.URL, SpaceID: api.SpaceID, APIToken: api.APIToken, HTTPClient: api.Client(),
		Burst: 1, Concurrency: 2, Timeout: 10 * time.Second, MaxAttempts: 2, MaxWait: time.Minute}
	return Options{
		Provision:  p,
		Mail:       MailOf(p, mail.Options{}), // the mail run of report, resumed with it
		WithMail:   true,
		MailRun:    m.run,
		ExitStatus: rank,
	}
}

// mailDownNight runs night 1 on api, its report wave-1.csv in dir with 2 people, and fails the
// test unless its mail run aborts, as with the SMTP server down: the state then remembers the
// report for a later night to mail. edit, when not nil, changes the options first. It returns
// the options run.
func mailDownNight(t *testing.T, api *provisiontest.Server, dir string, edit func(*Options)) Options {
	t.Helper()
	o := night(t, api, dir, "wave-1.csv", 2, &mailer{end: func(mail.Options) error { return mail.ErrAborted }})
	if edit != nil {
		edit(&o)
	}
	if _, err := Run(context.Background(), o); !errors.Is(err, mail.ErrAborted) {
		t.Fatalf("night 1: %v, want the mail run's abort", err)
	}
	return o
}

// A night whose mail run fails is remembered by the state and mailed, with resume, after the
// next night's own report; once everyone in it is mailed the state forgets it.
func TestRunMailsEarlierReports(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	down := &mailer{end: func(mail.Options) error { return fmt.Errorf("%w: the server cannot be reached", mail.ErrAborted) }}
	sum, err := Run(context.Background(), night(t, api, dir, "wave-1.csv", 3, down))
	if !errors.Is(err, mail.ErrAborted) || !sum.Mailed || !errors.Is(sum.MailErr, mail.ErrAborted) || sum.ProvisionErr != nil {
		t.Fatalf("night 1: %+v, %v; want the mail run's abort", sum, err)
	}
	if got := down.reports(); !slices.Equal(got, []string{"wave-1.csv"}) || !down.calls[0].MailReportLocked || !down.calls[0].Resume {
		t.Fatalf("night 1 mailed %v (locked %v, resume %v), want wave-1.csv, its mail report locked, resumed as the report is",
			got, down.calls[0].MailReportLocked, down.calls[0].Resume)
	}

	up := &mailer{end: func(mail.Options) error { return nil }}
	if _, err := Run(context.Background(), night(t, api, dir, "wave-2.csv", 4, up)); err != nil {
		t.Fatalf("night 2: %v", err)
	}
	if got := up.reports(); !slices.Equal(got, []string{"wave-2.csv", "wave-1.csv"}) {
		t.Fatalf("night 2 mailed %v, want tonight's then night 1's", got)
	}
	if earlier := up.calls[1]; !earlier.Resume || earlier.MailReportLocked {
		t.Errorf("night 1's report mailed with resume %v, locked %v; want resume, its own lock", earlier.Resume, earlier.MailReportLocked)
	}

	up.calls = nil
	if _, err := Run(context.Background(), night(t, api, dir, "wave-3.csv", 4, up)); err != nil {
		t.Fatalf("night 3: %v", err)
	}
	if got := up.reports(); !slices.Equal(got, []string{"wave-3.csv"}) {
		t.Errorf("night 3 mailed %v, want only tonight's: the state forgot the reports mailed", got)
	}
}

// A mail run refused by its options (exit 2, "nothing was sent") follows a provisioning run
// that sent: the line reads it as an abort, and writes no mail metrics.
func TestRunRefusedMailIsAbort(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	refused := &mailer{end: func(mail.Options) error { return provision.Configf("a template at fault") }}
	o := night(t, api, dir, "wave-1.csv", 2, refused)
	o.Provision.State, o.Provision.OnlyChanges = "", false
	sum, err := Run(context.Background(), o)
	if !errors.Is(err, mail.ErrAborted) || rank(err) != 3 || sum.Mailed {
		t.Fatalf("%+v, %v; want an abort, the mail run not counted as run", sum, err)
	}
	if !strings.Contains(err.Error(), "a template at fault") {
		t.Errorf("%v: the mail run's reason is lost", err)
	}
	// The problem, not the flags: the command line adds how to mail them.
	if ne, ok := errors.AsType[*NotMailedError](err); !ok || ne.Report != o.Provision.Report || strings.Contains(err.Error(), "--") {
		t.Errorf("%v: want a NotMailedError of %s that names no flag", err, o.Provision.Report)
	}
}

// The worse of two errors is the one of higher exit status; a tie keeps the first.
func TestWorse(t *testing.T) {
	t.Parallel()
	o := &Options{ExitStatus: rank}
	rows, aborted := wave.ErrRowsFailed, mail.ErrAborted
	if got := o.worse(rows, aborted); got != aborted {
		t.Errorf("worse(rows, aborted) = %v", got)
	}
	if got := o.worse(aborted, rows); got != aborted {
		t.Errorf("worse(aborted, rows) = %v", got)
	}
	if got := o.worse(nil, rows); got != rows {
		t.Errorf("worse(nil, rows) = %v", got)
	}
}

// A remedy is logged as a hint in the command line's words, and the line names no flag itself.
func TestRunHintsInTheCommandLinesWords(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	var log strings.Builder
	o := night(t, api, t.TempDir(), "wave-1.csv", 2, &mailer{end: func(mail.Options) error { return nil }})
	o.Log = slog.New(slog.NewTextHandler(&log, nil))
	o.Remedies = map[Remedy]string{RunAgain: "run it again"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted: nobody is mailed
	if _, err := Run(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want the interruption", err)
	}
	_, rest, ok := strings.Cut(log.String(), "nobody is mailed")
	if !ok {
		t.Fatalf("the log does not say that nobody is mailed:\n%s", log.String())
	}
	line, _, _ := strings.Cut(rest, "\n")
	if !strings.Contains(line, `hint="run it again"`) || strings.Contains(line, "--") {
		t.Errorf("log line %q: want the hint in the command line's words, no flag", line)
	}
}

// TestCheckMailNamesOptions checks that a mail run refused for its link names, in words, the
// options that fix it.
func TestCheckMailNamesOptions(t *testing.T) {
	t.Parallel()
	err := CheckMail(wave.Options{WidgetID: "w"}, mail.Options{})
	if want := "mailing mails the web-app link (the link login): give the subdomain or the web-app URL too, or the link widget"; fmt.Sprint(err) != want {
		t.Errorf("got %v, want %q", err, want)
	}
	ce, ok := errors.AsType[*provision.ConfigError](err)
	if !ok {
		t.Fatalf("%v is not a *provision.ConfigError", err)
	}
	if got, want := ce.Text(func(o provision.Option) string { return o.Of + "." + o.Field }),
		"cronline.WithMail mails the web-app link (mail.Link login): give wave.Subdomain or wave.WebAppURL too, or mail.Link widget"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

// killed runs the line o as a process killed right as its provisioning ends would: the
// provisioning run's files and state are what it left, and nothing after it ran.
func killed(o Options) {
	o.Provisioned = func(provision.Summary, error, bool) { runtime.Goexit() }
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(context.Background(), o)
	}()
	<-done
}

// A night killed while it provisions (kill -9, OOM, a power cut after a state commit) leaves
// its people provisioned, remembered by the state and so left out of the next night's report:
// the state remembers the night's report before anything is sent, and the next night mails it.
func TestRunMailsNightKilledWhileProvisioning(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	// As mail.Run does, refuse a report that is not in place.
	m := &mailer{end: func(o mail.Options) error { _, err := os.Stat(o.Report); return err }}
	o1 := night(t, api, dir, "wave-1.csv", 3, m)
	killed(o1)
	// As a kill while provisioning leaves it: the lines only in the report being written.
	rep1 := o1.Provision.Report
	if err := os.Rename(rep1, report.TempPath(rep1)); err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 0 {
		t.Fatalf("night 1 was killed before mailing, yet mailed %v", m.reports())
	}
	if _, err := Run(context.Background(), night(t, api, dir, "wave-2.csv", 3, m)); err != nil {
		t.Fatalf("night 2: %v", err)
	}
	if got := m.reports(); !slices.Equal(got, []string{"wave-2.csv", "wave-1.csv"}) {
		t.Errorf("night 2 mailed %v, want tonight's then night 1's: night 1's people are provisioned and in no other report", got)
	}
}

// A line refused by its options sends nothing: the report the state remembered before
// provisioning is forgotten again, and no later night warns that it has gone.
func TestRunForgetsReportOfRunThatSentNothing(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	m := &mailer{end: func(mail.Options) error { return nil }}
	o1 := night(t, api, dir, "wave-1.csv", 2, m)
	o1.Provision.Concurrency = -1
	if _, err := Run(context.Background(), o1); rank(err) != exitUsage {
		t.Fatalf("night 1: %v, want a configuration error", err)
	}
	var log strings.Builder
	o2 := night(t, api, dir, "wave-2.csv", 2, m)
	o2.Log = slog.New(slog.NewTextHandler(&log, nil))
	if _, err := Run(context.Background(), o2); err != nil {
		t.Fatalf("night 2: %v", err)
	}
	if got := m.reports(); !slices.Equal(got, []string{"wave-2.csv"}) || strings.Contains(log.String(), "wave-1") {
		t.Errorf("night 2 mailed %v, log:\n%s\nwant only tonight's, night 1's report never named", got, log.String())
	}
}

// linkOf returns the link of email in the report at path, when their line has one.
func linkOf(t *testing.T, path, email string) string {
	t.Helper()
	lines, err := report.ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Email == email && (l.Status == "ok" || l.Status == "skipped") {
			return l.LoginURL
		}
	}
	return ""
}

// Night 1's mail run fails; on night 2 p0's name has changed, so p0 is provisioned again and
// mailed the new link from tonight's report. The heal then mails night 1's report, which holds
// p0's older link: p0 is left out of it, with the reason, and everyone else in it is mailed.
func TestRunHealLeavesOutNewerLinks(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	mailDownNight(t, api, dir, nil)
	yesterday(t, dir, "wave-1.csv", api.SpaceID)
	var mailed []string // p0's link in each report as a mail run would mail it: not if left out
	up := &mailer{end: func(o mail.Options) error {
		if l := linkOf(t, o.Report, "p0@acme.com"); l != "" && o.Leave[provision.EmailKey("p0@acme.com")] == "" {
			mailed = append(mailed, filepath.Base(o.Report)+": "+l)
		}
		return nil
	}}
	o2 := night(t, api, dir, "wave-2.csv", 2, up)
	testfile.Write(t, o2.Provision.Input, "email,name\np0@acme.com,Person Zero\np1@acme.com,Person 1\n")
	if _, err := Run(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	if len(mailed) != 1 || !strings.HasPrefix(mailed[0], "wave-2.csv: ") {
		t.Errorf("p0 mailed %q by the mail runs of night 2, want once, from wave-2.csv", mailed)
	}
	if got := up.reports(); !slices.Equal(got, []string{"wave-2.csv", "wave-1.csv"}) {
		t.Fatalf("night 2 mailed %v, want tonight's then night 1's", got)
	}
	if leave := up.calls[1].Leave; len(leave) != 1 || !strings.Contains(leave["p0@acme.com"], "newer link") {
		t.Errorf("night 1's report left out %v, want p0 alone, with why", leave)
	}
}

// The heal leaves out the people of an earlier report as mail reads it: a complete last line
// without a newline (a report an editor saved, or a run cut just after its last cell) is mailed,
// so its person, provisioned again since, is left out too.
func TestRunHealLeavesOutLastLineWithoutNewline(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	mailDownNight(t, api, dir, func(o *Options) { o.Provision.Concurrency = 1 }) // p1's line last
	yesterday(t, dir, "wave-1.csv", api.SpaceID)
	rep1 := filepath.Join(dir, "wave-1.csv")
	testfile.Write(t, rep1, strings.TrimSuffix(testfile.Read(t, rep1), "\n"))
	if lines, err := report.ReadLines(rep1); err != nil || len(lines) != 2 {
		t.Fatalf("night 1's report as mail reads it: %d lines, %v, want 2", len(lines), err)
	}
	up := &mailer{end: func(mail.Options) error { return nil }}
	o2 := night(t, api, dir, "wave-2.csv", 2, up)
	// Both people changed: provisioned again tonight, with newer links.
	testfile.Write(t, o2.Provision.Input, "email,name\np0@acme.com,Person Zero\np1@acme.com,Person One\n")
	if _, err := Run(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	if got := up.reports(); !slices.Equal(got, []string{"wave-2.csv", "wave-1.csv"}) {
		t.Fatalf("night 2 mailed %v, want tonight's then night 1's", got)
	}
	if leave := up.calls[1].Leave; len(leave) != 2 || leave["p0@acme.com"] == "" || leave["p1@acme.com"] == "" {
		t.Errorf("night 1's report left out %v, want p0 and p1", leave)
	}
}

// yesterday moves the report name in dir back a day, and the state's entries of its people
// with it, as if its night were the night before: the report and the state say times to the
// second, and the nights of a test run within one.
func yesterday(t *testing.T, dir, name, space string) {
	t.Helper()
	path := filepath.Join(dir, name)
	recs, err := csv.NewReader(strings.NewReader(testfile.Read(t, path))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], "finished_at")
	st, closeState, err := wave.OpenState(filepath.Join(dir, "state.db"), state.Options{Space: space})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		at, err := time.Parse(time.RFC3339, r[col])
		if err != nil {
			continue
		}
		r[col] = at.Add(-24 * time.Hour).Format(time.RFC3339)
		key := state.Key(provision.User{Email: r[1], Sub: r[2]})
		if e, ok := st.Get(key); ok {
			e.At = e.At.Add(-24 * time.Hour)
			if err := st.Record(key, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := closeState(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.WriteAll(recs)
	testfile.Write(t, path, out.Bytes())
}

// An earlier report that a provisioning run was stopped while resuming (the report and its
// REPORT.tmp both there) cannot be mailed, which mail.Run refuses, nor finished by a later
// night: the line says so, naming the report, with the remedy that finishes it, not that the
// next run mails it.
func TestRunNamesUnfinishedEarlierReport(t *testing.T) {
	t.Parallel()
	api := fakeAPI(t)
	dir := t.TempDir()
	rep1 := mailDownNight(t, api, dir, nil).Provision.Report
	testfile.Write(t, report.TempPath(rep1), "row,email\n")
	// As mail.Run does, refuse a report with a REPORT.tmp beside it.
	up := &mailer{end: func(o mail.Options) error {
		if _, err := os.Stat(report.TempPath(o.Report)); err == nil {
			return provision.Configf("%s: %w", report.TempPath(o.Report), report.ErrLeftOver)
		}
		return nil
	}}
	var log strings.Builder
	for night2 := range 2 { // and the same every night until it is finished
		log.Reset()
		o2 := night(t, api, dir, "wave-2.csv", 2, up)
		o2.Log = slog.New(slog.NewTextHandler(&log, nil))
		o2.Remedies = map[Remedy]string{NextRun: "the next run mails it", FinishProvisioning: "finish it"}
		_, err := Run(context.Background(), o2)
		if ue, ok := errors.AsType[*UnfinishedError](err); !ok || ue.Report != rep1 || rank(err) != 3 {
			t.Fatalf("night %d: %v, want an *UnfinishedError of %s, an abort", night2+2, err, rep1)
		}
	}
	if got := up.reports(); slices.Contains(got, "wave-1.csv") {
		t.Errorf("night 2 ran the mail run of wave-1.csv, which mail.Run refuses: %v", got)
	}
	_, line, _ := strings.Cut(log.String(), "earlier report not mailed")
	line, _, _ = strings.Cut(line, "\n")
	if !strings.Contains(line, `hint="finish it"`) || !strings.Contains(line, "wave-1.csv") {
		t.Errorf("log line %q: want wave-1.csv named, with the remedy that finishes it", line)
	}
	if _, err := os.Stat(report.TempPath(rep1)); err != nil {
		t.Errorf("the unfinished run's lines: %v", err)
	}
}

// An interrupt that comes as the API's refusals abort the run: the run ends with the abort
// (exit 3), and the line mails nobody, as for any interrupt. The closing lines are told the
// same: they said "mailing each their own now" while nobody was mailed.
func TestRunAbortAndInterruptAgree(t *testing.T) {
	t.Parallel()
	// The first request is answered, then every other refused, as a token revoked meanwhile.
	api := provisiontest.NewUnstartedServer()
	api.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
		if n == 1 {
			return nil
		}
		return &provisiontest.Reply{Status: http.StatusUnauthorized, Body: `{"message":"invalid token"}`}
	}
	api.Start()
	t.Cleanup(api.Close)
	m := &mailer{end: func(mail.Options) error { return nil }}
	o := night(t, api, t.TempDir(), "wave-1.csv", 6, m)
	o.Provision.State, o.Provision.OnlyChanges = "", false
	o.Provision.Concurrency = 1 // the first request is answered before the refusals
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The interrupt comes with the refusal that aborts the run, once the pool has counted it.
	failed := 0
	o.Provision.Progress = func(res provision.Result) {
		if res.Status == provision.StatusFailed {
			if failed++; failed == provision.AbortAfter {
				cancel()
			}
		}
	}
	var told, provisioned bool
	o.Provisioned = func(_ provision.Summary, _ error, interrupted bool) {
		provisioned = true
		told = interrupted
	}
	sum, err := Run(ctx, o)
	if !errors.Is(err, provision.ErrAborted) || sum.Provision.Counts[provision.StatusOK] != 1 {
		t.Fatalf("%v, %v; want the abort, one person ok", sum.Provision.Counts, err)
	}
	mailed := len(m.calls) > 0
	if mailed || sum.Mailed {
		t.Errorf("mailed %v after an interrupt", m.reports())
	}
	if !provisioned || told != !mailed {
		t.Errorf("the closing lines are told interrupted=%v (called %v), but the line mailed=%v", told, provisioned, mailed)
	}
}

// The heal leaves out a person provisioned again since under another state key: the external
// id (sub) column added or dropped between the nights keys their state entry by sub one night
// and by email the other. Looked up by the earlier line's key alone, their older entry was
// found, and they were mailed twice, the older link from the earlier report.
func TestRunHealLeavesOutNewerLinksUnderAnotherKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		night1, night2 string // the inputs
		other          bool   // night 2's p0 is another user: night 1's p0 is mailed too
	}{
		{"an external id added", "email,name\np0@acme.com,Person 0\np1@acme.com,Person 1\n",
			"email,name,sub\np0@acme.com,Person 0,E0\np1@acme.com,Person 1,\n", false},
		{"the external id dropped", "email,name,sub\np0@acme.com,Person 0,E0\np1@acme.com,Person 1,E1\n",
			"email,name,sub\np0@acme.com,Person 0,\np1@acme.com,Person 1,E1\n", false},
		{"the email's case changed, an external id added", "email,name\nP0@Acme.com,Person 0\np1@acme.com,Person 1\n",
			"email,name,sub\np0@acme.com,Person 0,E0\np1@acme.com,Person 1,\n", false},
		{"the email's case changed, the external id dropped", "email,name,sub\nP0@Acme.com,Person 0,E0\np1@acme.com,Person 1,E1\n",
			"email,name,sub\np0@acme.com,Person 0,\np1@acme.com,Person 1,E1\n", false},
		// Two subs are two users, as --resume pairs them: each is mailed their own link.
		{"another external id", "email,name,sub\np0@acme.com,Person 0,E0\np1@acme.com,Person 1,E1\n",
			"email,name,sub\np0@acme.com,Person 0,E9\np1@acme.com,Person 1,E1\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := fakeAPI(t)
			dir := t.TempDir()
			mailDownNight(t, api, dir, func(o *Options) { testfile.Write(t, o.Provision.Input, tt.night1) })
			yesterday(t, dir, "wave-1.csv", api.SpaceID)
			var mailed []string // p0's link in each report as a mail run would mail it
			up := &mailer{end: func(o mail.Options) error {
				l := linkOf(t, o.Report, "p0@acme.com") + linkOf(t, o.Report, "P0@Acme.com")
				if l != "" && o.Leave[provision.EmailKey("p0@acme.com")] == "" {
					mailed = append(mailed, filepath.Base(o.Report)+": "+l)
				}
				return nil
			}}
			o2 := night(t, api, dir, "wave-2.csv", 2, up)
			testfile.Write(t, o2.Provision.Input, tt.night2)
			if _, err := Run(context.Background(), o2); err != nil {
				t.Fatal(err)
			}
			if got := up.reports(); !slices.Equal(got, []string{"wave-2.csv", "wave-1.csv"}) {
				t.Fatalf("night 2 mailed %v, want tonight's then night 1's", got)
			}
			if tt.other {
				if leave := up.calls[1].Leave; len(mailed) != 2 || len(leave) != 0 {
					t.Errorf("p0 mailed %q by the mail runs of night 2, night 1's report left out %v; want both p0 mailed, nobody left out", mailed, leave)
				}
				return
			}
			if len(mailed) != 1 || !strings.HasPrefix(mailed[0], "wave-2.csv: ") {
				t.Errorf("p0 mailed %q by the mail runs of night 2, want once, from wave-2.csv", mailed)
			}
			if leave := up.calls[1].Leave; len(leave) != 1 || !strings.Contains(leave["p0@acme.com"], "newer link") {
				t.Errorf("night 1's report left out %v, want p0 alone, with why", leave)
			}
		})
	}
}
