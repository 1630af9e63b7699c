package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// invocation runs the program in-process against srv and returns its exit status and output.
type invocation struct {
	code           int
	stdout, stderr string
}

func invoke(t *testing.T, srv *provisiontest.Server, args ...string) invocation {
	t.Helper()
	var vars map[string]string
	if srv != nil {
		vars = serverVars(srv)
	}
	return invokeEnv(context.Background(), vars, strings.NewReader(""), args...)
}

// invokeEnv runs the program in-process with the environment variables vars, and nothing else
// of the process's environment, so that tests can run in parallel.
func invokeEnv(ctx context.Context, vars map[string]string, stdin io.Reader, args ...string) invocation {
	var stdout, stderr bytes.Buffer
	env := environ{getenv: func(k string) string { return vars[k] }, stdin: stdin, stdout: &stdout, stderr: &stderr}
	code := exitStatus(run(ctx, args, env))
	return invocation{code, stdout.String(), stderr.String()}
}

// exitOKSaying fails unless a run exited 0 and its stderr holds each of words: what a run warns
// of, or hints at, does not change its exit status. what names the run in the messages.
func exitOKSaying(t *testing.T, what string, code int, stderr string, words ...string) {
	t.Helper()
	if code != exitOK {
		t.Errorf("%s: exit %d, want 0; stderr:\n%s", what, code, stderr)
	}
	for _, w := range words {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: stderr lacks %q:\n%s", what, w, stderr)
		}
	}
}

// serverVars is the environment that points a run at srv.
func serverVars(srv *provisiontest.Server) map[string]string {
	return map[string]string{"IDEANOTE_SPACE_ID": srv.SpaceID, "IDEANOTE_API_TOKEN": srv.APIToken, "IDEANOTE_BASE_URL": srv.URL}
}

// newAPI starts a fake Ideanote, closed when t ends; each of setup that is not nil sets it up
// before it starts (latency, scripted replies).
func newAPI(t *testing.T, setup ...func(*provisiontest.Server)) *provisiontest.Server {
	return started(t, provisiontest.NewUnstartedServer(), setup)
}

// latency sets up a fake Ideanote to answer each request d late.
func latency(d time.Duration) func(*provisiontest.Server) {
	return func(s *provisiontest.Server) { s.Latency = d }
}

// newSMTP starts a fake SMTP server, closed when t ends; each of setup that is not nil sets it
// up before it starts.
func newSMTP(t *testing.T, setup ...func(*mailtest.Server)) *mailtest.Server {
	return started(t, mailtest.NewUnstartedServer(), setup)
}

// started sets srv up, starts it, and closes it when t ends.
func started[S interface {
	Start()
	Close()
}](t *testing.T, srv S, setup []func(S)) S {
	for _, f := range setup {
		if f != nil {
			f(srv)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// readReport returns the report's rows as maps from column to cell, keyed by email.
func readReport(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	_, lines := reportLines(t, path)
	out := make(map[string]map[string]string)
	for _, l := range lines {
		out[l["email"]] = l
	}
	return out
}

const sample = "email,name,team\nana@example.com,Ana,R&D\nbob@example.com,Bob,\nnot-an-email,Carl,\n"

func TestExitCodes(t *testing.T) {
	t.Parallel()
	good := "email,name\nana@example.com,Ana\nbob@example.com,Bob\n"
	tests := []struct {
		name     string
		input    string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string // in stderr
	}{
		{name: "all ok", input: good, args: []string{"--subdomain", "acme"}, wantCode: 0},
		{name: "an invalid row", input: sample, args: []string{"--subdomain", "acme"}, wantCode: 1},
		{name: "no link target", input: good, wantCode: 2, wantErr: "no link target"},
		{name: "two web-app targets", input: good, args: []string{"--subdomain", "acme", "--webapp-url", "https://ideas.acme.com"}, wantCode: 2, wantErr: "--webapp-url: a subdomain and a web-app URL were both given"},
		{name: "bad subdomain", input: good, args: []string{"--subdomain", "acme corp"}, wantCode: 2, wantErr: "--subdomain: subdomain \"acme corp\""},
		{name: "no space id", input: good, args: []string{"--subdomain", "acme"}, env: map[string]string{"IDEANOTE_SPACE_ID": ""}, wantCode: 2, wantErr: "IDEANOTE_SPACE_ID"},
		{name: "no token", input: good, args: []string{"--subdomain", "acme"}, env: map[string]string{"IDEANOTE_API_TOKEN": ""}, wantCode: 2, wantErr: "IDEANOTE_API_TOKEN"},
		{name: "no email column", input: "name,team\nAna,R&D\n", args: []string{"--subdomain", "acme"}, wantCode: 2, wantErr: "no email column (found: name, team)"},
		{name: "token as a flag", input: good, args: []string{"--api-token=s3cret", "--subdomain", "acme"}, wantCode: 2, wantErr: "never a flag"},
		{name: "bad default locale", input: good, args: []string{"--subdomain", "acme", "--locale", "english please"}, wantCode: 2, wantErr: "--locale"},
		{name: "rate not a number", input: good, args: []string{"--subdomain", "acme", "--rate", "NaN"}, wantCode: 2, wantErr: "--rate"},
		{name: "report folder missing", input: good, args: []string{"--subdomain", "acme", "--report", "/nonexistent/dir/r.csv"}, wantCode: 2, wantErr: "--report: the folder /nonexistent/dir does not exist"},
		{name: "input unreadable past a line over 16 MiB", input: good + "c@example.com," + strings.Repeat("x", 16<<20+64<<10) + "\nd@example.com,D\n",
			args: []string{"--subdomain", "acme"}, wantCode: 3, wantErr: "could not be read to the end"},
		{name: "unknown flag", input: good, args: []string{"--colour"}, wantCode: 2, wantErr: "colour"},
		{name: "wrong token aborts", input: good + "cy@example.com,Cy\nd@example.com,D\n", args: []string{"--subdomain", "acme"}, env: map[string]string{"IDEANOTE_API_TOKEN": "wrong"}, wantCode: 3, wantErr: "check the API token: it must be an owner's token of this workspace (IDEANOTE_API_TOKEN or --api-token-file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPI(t)
			in := testfile.Temp(t, "in.csv", tt.input)
			rep := filepath.Join(t.TempDir(), "report.csv")
			args := append([]string{"--report", rep, "--rate", "0"}, tt.args...)
			vars := serverVars(srv)
			maps.Copy(vars, tt.env)
			got := invokeEnv(context.Background(), vars, strings.NewReader(""), append(args, in)...)
			if got.code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", got.code, tt.wantCode, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.wantErr) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantErr, got.stderr)
			}
			if tt.wantCode == 2 && len(srv.Requests()) > 0 {
				t.Errorf("a configuration error sent %d requests", len(srv.Requests()))
			}
		})
	}
}

func TestRunReport(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	in := testfile.Temp(t, "in.csv", sample)
	rep := filepath.Join(t.TempDir(), "report.csv")
	got := invoke(t, srv, "--report", rep, "--rate", "0", "--subdomain", "acme", "--widget-id", "w1", "--locale", "fr", in)
	if got.code != 1 {
		t.Fatalf("exit %d, want 1 (one invalid row); stderr:\n%s", got.code, got.stderr)
	}
	st, err := os.Stat(rep)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", st.Mode().Perm())
	}
	rows := readReport(t, rep)
	if len(rows) != 3 {
		t.Fatalf("report has %d rows, want 3", len(rows))
	}
	issued := map[string]string{} // email -> token the fake issued
	for _, r := range srv.Requests() {
		issued[r.Email()] = r.Token
		if r.Data["locale"] != "fr" {
			t.Errorf("%s: locale %v, want the --locale default", r.Email(), r.Data["locale"])
		}
	}
	for _, email := range []string{"ana@example.com", "bob@example.com"} {
		r := rows[email]
		tok := issued[email]
		if r["status"] != "ok" || tok == "" || r["session_token"] != tok {
			t.Errorf("%s: status %q token %q, fake issued %q", email, r["status"], r["session_token"], tok)
		}
		if want := "https://acme.ideanote.io/login/session/" + tok; r["login_url"] != want {
			t.Errorf("%s: login_url %q, want %q", email, r["login_url"], want)
		}
		if want := "https://idea-widget.ideanote.io/idea-confirmation?config=w1&auth.sessionToken=" + tok; r["widget_url"] != want {
			t.Errorf("%s: widget_url %q, want %q", email, r["widget_url"], want)
		}
		if r["attempts"] != "1" || r["http_status"] != "200" || r["user_id"] == "" || r["finished_at"] == "" {
			t.Errorf("%s: %v", email, r)
		}
	}
	if r := rows["not-an-email"]; r["status"] != "invalid" || r["row"] != "4" || !strings.Contains(r["error"], "row 4: email") {
		t.Errorf("invalid row reported as %v", r)
	}
	if len(srv.Requests()) != 2 {
		t.Errorf("fake got %d requests, want 2 (the invalid row is never sent)", len(srv.Requests()))
	}
	// The report is never silently replaced.
	again := invoke(t, srv, "--report", rep, "--rate", "0", "--subdomain", "acme", in)
	if again.code != 2 || !strings.Contains(again.stderr, "--resume") {
		t.Errorf("second run on the same report: exit %d, stderr:\n%s", again.code, again.stderr)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	in := testfile.Temp(t, "in.csv", sample)
	rep := filepath.Join(t.TempDir(), "report.csv")
	got := invokeEnv(context.Background(), map[string]string{"IDEANOTE_BASE_URL": srv.URL}, nil, "--dry-run", "--report", rep, in)
	if got.code != 1 {
		t.Errorf("exit %d, want 1 (an invalid row); stderr:\n%s", got.code, got.stderr)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
	if _, err := os.Stat(rep); err == nil {
		t.Errorf("a dry run wrote the real run's report %s", rep)
	}
	rows := readReport(t, strings.TrimSuffix(rep, ".csv")+".dry-run.csv") // its own, beside it
	for email, want := range map[string]string{"ana@example.com": "valid", "bob@example.com": "valid", "not-an-email": "invalid"} {
		if rows[email]["status"] != want {
			t.Errorf("%s: status %q, want %q", email, rows[email]["status"], want)
		}
	}
}

func TestStandardInput(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	rep := filepath.Join(t.TempDir(), "report.csv")
	got := invokeEnv(context.Background(), serverVars(srv), strings.NewReader("E-Mail;Full Name\nana@example.com;Ana\n"),
		"--report", rep, "--rate", "0", "--subdomain", "acme", "-")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	if rows := readReport(t, rep); rows["ana@example.com"]["status"] != "ok" || rows["ana@example.com"]["name"] != "Ana" {
		t.Errorf("report: %v", rows)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep, mailDir := filepath.Join(dir, "demo-report.csv"), filepath.Join(dir, "mail")
	got := invokeEnv(context.Background(), nil, nil, "demo", "--report", rep, "--mail-dir", mailDir)
	if got.code != 0 {
		t.Fatalf("demo: exit %d\n%s", got.code, got.stderr)
	}
	rows := readReport(t, rep)
	if len(rows) != 25 {
		t.Errorf("demo report has %d rows, want 25", len(rows))
	}
	for email, r := range rows {
		if r["status"] != "ok" || !strings.HasPrefix(r["login_url"], "https://demo.ideanote.io/login/session/") {
			t.Errorf("%s: %s %s", email, r["status"], r["login_url"])
		}
	}
	first := ""
	for _, r := range rows {
		if r["row"] == "2" {
			first = r["login_url"]
		}
	}
	for _, want := range []string{rep, "first login link: " + first, mailDir, rep[:len(rep)-4] + ".mail.csv",
		"the first message, as", "\nSubject: ", first} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("demo output does not say %q:\n%s", want, got.stdout)
		}
	}
	if !strings.Contains(got.stderr, "internal/demo/testdata/users.csv") {
		t.Errorf("the demo's log does not name its input, internal/demo/testdata/users.csv:\n%s", got.stderr)
	}
	checkDemoMail(t, mailDir, rows)
}

// checkDemoMail checks that the demo wrote one .eml file for each person of the report, only
// their owner may read, that holds that person's link and no other.
func checkDemoMail(t *testing.T, dir string, rows map[string]map[string]string) {
	t.Helper()
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("mail folder: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != len(rows) {
		t.Fatalf("%d .eml files (%v), want %d", len(files), err, len(rows))
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		to, body := messageText(t, raw)
		r, ok := rows[to]
		if !ok || !strings.HasSuffix(f, "-"+to+".eml") || !strings.Contains(body, r["login_url"]) {
			t.Errorf("%s: to %s, without their link", f, to)
		}
		for email, other := range rows {
			if email != to && strings.Contains(body, other["session_token"]) {
				t.Errorf("%s holds the token of %s", f, email)
			}
		}
	}
}

func TestInputIsNotTheReport(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	in := testfile.Temp(t, "people.csv", sample)
	got := invoke(t, srv, "--report", in, "--overwrite", "--rate", "0", "--subdomain", "acme", in)
	if got.code != 2 || !strings.Contains(got.stderr, "also the report") {
		t.Errorf("exit %d, stderr:\n%s", got.code, got.stderr)
	}
	if b, _ := os.ReadFile(in); string(b) != sample {
		t.Errorf("the input was changed to %q", b)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestStateFolderMissing(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	in := testfile.Temp(t, "in.csv", "email\nana@example.com\n")
	dir := t.TempDir()
	got := invoke(t, srv, in, "--subdomain", "acme", "--report", filepath.Join(dir, "r.csv"),
		"--state", filepath.Join(dir, "nothere", "state.db"))
	if got.code != exitUsage || !strings.Contains(got.stderr, "does not exist") {
		t.Errorf("exit %d, want %d saying the folder does not exist; stderr:\n%s", got.code, exitUsage, got.stderr)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestDelimiter checks each --delimiter the help offers, and that another is refused.
func TestDelimiter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]rune{"auto": 0, "": 0, ",": ',', ";": ';', "\t": '\t', `\t`: '\t', "tab": '\t'} {
		if got, err := (&options{delimiter: in}).comma(); got != want || err != nil {
			t.Errorf("--delimiter %q: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := (&options{delimiter: "|"}).comma(); exitStatus(err) != exitUsage {
		t.Errorf("--delimiter |: %v, want a usage error", err)
	}
}
