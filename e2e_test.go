package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/syncbuf"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// These tests run the built binary in a subprocess against the fake Ideanote in this process,
// to check what only a process can show: signals, exit status, a SIGKILL, the lock.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds the program once for all the tests that need it.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ideanote-provision-e2e")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "ideanote-provision")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type proc struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer // read while the process writes it
	done   chan struct{}
	err    error
}

// start runs the binary on input against srv, writing report, with extra flags.
func start(t *testing.T, srv *provisiontest.Server, input, report string, flags ...string) *proc {
	t.Helper()
	return startEnv(t, srv, nil, input, report, flags...)
}

// startEnv is start with extra environment variables, which win over the defaults.
func startEnv(t *testing.T, srv *provisiontest.Server, env []string, input, report string, flags ...string) *proc {
	t.Helper()
	args := append([]string{"--subdomain", "acme", "--progress", "never", "--rate", "0",
		"--report", report}, flags...)
	cmd := exec.Command(binary(t), append(args, input)...)
	cmd.Env = append(os.Environ(), "IDEANOTE_API_TOKEN="+srv.APIToken, "IDEANOTE_SPACE_ID="+srv.SpaceID,
		"IDEANOTE_BASE_URL="+srv.URL)
	cmd.Env = append(cmd.Env, env...)
	return launch(t, cmd)
}

// launch starts cmd with its output in one buffer, and kills it at the end of the test.
func launch(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stderr, cmd.Stdout = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait returns the exit status of p, failing the test if it takes longer than limit.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("the run did not end within %v; output:\n%s", limit, p.stderr)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// writeInput writes an HR export of the people mailEmail(0) to mailEmail(n-1) to
// dir/people.csv, and returns its path.
func writeInput(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,Person %d\n", mailEmail(i), i)
	}
	path := filepath.Join(dir, "people.csv")
	testfile.Write(t, path, b.String())
	return path
}

// checkOneLinePerRow fails unless the report has exactly one line for each of n input rows.
func checkOneLinePerRow(t *testing.T, lines []map[string]string, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l["row"]] {
			t.Errorf("row %s reported twice", l["row"])
		}
		seen[l["row"]] = true
	}
	if len(lines) != n || len(seen) != n {
		t.Errorf("report has %d lines for %d distinct rows, want %d", len(lines), len(seen), n)
	}
}

func countStatus(lines []map[string]string) map[string]int {
	c := map[string]int{}
	for _, l := range lines {
		c[l["status"]]++
	}
	return c
}

func ok200(srv *provisiontest.Server) int { return srv.Count()[200] }

func TestE2EInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			srv := newAPI(t, latency(400*time.Millisecond))
			dir := t.TempDir()
			input, report := writeInput(t, dir, 30), filepath.Join(dir, "report.csv")
			p := start(t, srv, input, report, "--concurrency", "3")
			waitFor(t, "requests in flight", func() bool { return len(srv.Requests()) >= 3 })
			sent := len(srv.Requests())
			p.signal(t, sig)
			if code := p.wait(t, 5*time.Second); code != 130 {
				t.Fatalf("exit %d, want 130; output:\n%s", code, p.stderr)
			}
			_, lines := reportLines(t, report)
			checkOneLinePerRow(t, lines, 30)
			c := countStatus(lines)
			// The requests in flight at the signal were let finish: their rows are ok.
			if c["ok"] < sent || c["ok"] != ok200(srv) || c["ok"]+c["not_attempted"] != 30 {
				t.Errorf("statuses %v with %d requests in flight at the signal and %d answered ok", c, sent, ok200(srv))
			}
			out := p.stderr.String()
			for _, want := range []string{"interrupted", "msg=interrupted", "not_attempted=", "--resume"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestE2ESecondSignalThenResume(t *testing.T) {
	srv := newAPI(t, latency(time.Minute)) // requests hang: only a second signal ends the run soon
	dir := t.TempDir()
	input, report := writeInput(t, dir, 12), filepath.Join(dir, "report.csv")
	p := start(t, srv, input, report, "--concurrency", "2")
	waitFor(t, "requests in flight", func() bool { return len(srv.Requests()) >= 2 })
	p.signal(t, syscall.SIGINT)
	waitFor(t, "the first interrupt to be handled", func() bool { return strings.Contains(p.stderr.String(), "interrupt again") })
	p.signal(t, syscall.SIGINT)
	if code := p.wait(t, 3*time.Second); code != 130 {
		t.Fatalf("exit %d, want 130; output:\n%s", code, p.stderr)
	}
	srv.SetLatency(0)
	r := start(t, srv, input, report, "--resume")
	if code := r.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("resume: exit %d, want 0; output:\n%s", code, r.stderr)
	}
	_, lines := reportLines(t, report)
	checkOneLinePerRow(t, lines, 12)
	if c := countStatus(lines); c["ok"]+c["skipped"] != 12 {
		t.Errorf("statuses after resume %v, want every row ok or skipped", c)
	}
}

func TestE2EKillAndResume(t *testing.T) {
	tests := []struct {
		name  string
		kills int // runs killed before the one that finishes; the second kill hits a resume
	}{
		{"killed once", 1},
		{"killed during the resume too", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const rows = 60
			srv := newAPI(t, latency(20*time.Millisecond))
			dir := t.TempDir()
			input, report := writeInput(t, dir, rows), filepath.Join(dir, "report.csv")
			okBefore := map[string]bool{} // emails ok in a report when a run was killed
			var flags []string
			for k := range tt.kills {
				target := ok200(srv) + 10
				p := start(t, srv, input, report, append(flags, "--concurrency", "2")...)
				waitFor(t, "rows to be done", func() bool { return ok200(srv) >= target })
				answered := ok200(srv)
				p.cmd.Process.Kill()
				p.wait(t, 5*time.Second)
				path := report
				if k > 0 {
					path += ".tmp" // a resume writes beside the report until it is complete
				}
				_, lines := reportLines(t, path)
				n := 0
				for _, l := range lines {
					if l["status"] == "ok" || l["status"] == "skipped" {
						okBefore[l["email"]] = true
						n++
					}
				}
				// Lines are flushed as written: only rows in flight at the kill may be missing.
				if n < answered-4 {
					t.Errorf("kill %d: %d ok lines in the report, the server had answered %d", k+1, n, answered)
				}
				flags = []string{"--resume"}
			}
			mark := len(srv.Requests())
			// The killed run's lock does not block: the OS let go of it with the process.
			r := start(t, srv, input, report, "--resume", "--concurrency", "2")
			if code := r.wait(t, 20*time.Second); code != 0 {
				t.Fatalf("resume: exit %d, want 0; output:\n%s", code, r.stderr)
			}
			_, lines := reportLines(t, report)
			checkOneLinePerRow(t, lines, rows)
			skipped := 0
			for _, l := range lines {
				switch {
				case l["status"] == "skipped":
					skipped++
					if !okBefore[l["email"]] || l["session_token"] == "" || l["login_url"] == "" {
						t.Errorf("skipped line %v: not ok before, or without its link", l)
					}
				case l["status"] != "ok":
					t.Errorf("row %s is %s after the resume", l["row"], l["status"])
				}
			}
			if skipped != len(okBefore) {
				t.Errorf("%d rows skipped, %d were ok before", skipped, len(okBefore))
			}
			for _, req := range srv.Requests()[mark:] {
				if okBefore[req.Email()] {
					t.Errorf("%s was ok in the killed run's report and was sent again", req.Email())
				}
			}
			if _, err := os.Stat(report + ".tmp"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s.tmp left after a complete resume", report)
			}
		})
	}
}

func TestE2ELock(t *testing.T) {
	srv := newAPI(t, latency(time.Minute))
	dir := t.TempDir()
	input, report := writeInput(t, dir, 4), filepath.Join(dir, "report.csv")
	first := start(t, srv, input, report)
	waitFor(t, "the first run to send", func() bool { return len(srv.Requests()) >= 1 })

	second := start(t, srv, input, report, "--resume")
	if code := second.wait(t, 5*time.Second); code != 3 {
		t.Fatalf("second run: exit %d, want 3; output:\n%s", code, second.stderr)
	}
	if out := second.stderr.String(); !strings.Contains(out, report+".lock") {
		t.Errorf("second run's message does not name the lock file %s.lock:\n%s", report, out)
	}

	first.cmd.Process.Kill() // a crash leaves the lock file; its flock dies with the process
	first.wait(t, 5*time.Second)
	if _, err := os.Stat(report + ".lock"); err != nil {
		t.Fatalf("lock file gone after a kill (%v): the test no longer covers a stale lock", err)
	}
	srv.SetLatency(0)
	third := start(t, srv, input, report, "--resume")
	if code := third.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("run after the kill: exit %d, want 0; output:\n%s", code, third.stderr)
	}
}

func TestE2EAbort(t *testing.T) {
	tests := []struct {
		name string
		env  func(srv *provisiontest.Server) []string
		hint string
	}{
		{"wrong token", func(*provisiontest.Server) []string { return []string{"IDEANOTE_API_TOKEN=not-the-token-0000"} }, "check the API token"},
		{"wrong space", func(*provisiontest.Server) []string { return []string{"IDEANOTE_SPACE_ID=not-the-space"} }, "check the space id"},
		{"wrong base URL", func(srv *provisiontest.Server) []string { return []string{"IDEANOTE_BASE_URL=" + srv.URL + "/api"} }, "check the base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPI(t)
			dir := t.TempDir()
			input, report := writeInput(t, dir, 10), filepath.Join(dir, "report.csv")
			p := startEnv(t, srv, tt.env(srv), input, report, "--concurrency", "1")
			if code := p.wait(t, 10*time.Second); code != 3 {
				t.Fatalf("exit %d, want 3; output:\n%s", code, p.stderr)
			}
			if out := p.stderr.String(); !strings.Contains(out, tt.hint) || strings.Contains(out, "not-the-token") {
				t.Errorf("output lacks %q or shows the token:\n%s", tt.hint, out)
			}
			_, lines := reportLines(t, report)
			checkOneLinePerRow(t, lines, 10)
			if c := countStatus(lines); c["failed"] != 3 || c["not_attempted"] != 7 {
				t.Errorf("statuses %v, want 3 failed and 7 not_attempted", c)
			}
		})
	}
}
