package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// seriesPrefix begins the name of every series of a provisioning run.
const seriesPrefix = metrics.ProvisionPrefix + "_"

// readMetrics parses a metrics file with expfmt, as Prometheus would, and returns its samples
// by "name" or "name{status}". Every family must have a help text and a type.
func readMetrics(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("metrics file: %v", err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics file %s does not parse: %v", path, err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		if mf.GetHelp() == "" || mf.Type == nil {
			t.Errorf("%s lacks its HELP or TYPE line", name)
		}
		for _, m := range mf.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key = fmt.Sprintf("%s{%s}", name, l.GetValue())
			}
			switch {
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			default:
				t.Errorf("%s is neither a gauge nor a counter", key)
			}
		}
	}
	return out
}

// checkRun checks the metrics of a run against its report: the rows per status (every status
// written, 0s included), the requests (the report's attempts), and the exit code. It returns
// the last run's time, checked to lie between before and after.
func checkRun(t *testing.T, m map[string]float64, reportPath string, code int, before, after time.Time) float64 {
	t.Helper()
	_, lines := reportLines(t, reportPath)
	counts := map[string]float64{}
	attempts := 0.0
	for _, l := range lines {
		counts[l["status"]]++
		if l["attempts"] == "" { // never sent
			continue
		}
		n, err := strconv.Atoi(l["attempts"])
		if err != nil {
			t.Fatalf("report attempts %q: %v", l["attempts"], err)
		}
		attempts += float64(n)
	}
	for _, s := range provision.Statuses {
		got, ok := m[seriesPrefix+"rows{"+string(s)+"}"]
		if !ok {
			t.Errorf("no series for status %s", s)
		}
		if got != counts[string(s)] {
			t.Errorf("rows{%s} = %v, report has %v", s, got, counts[string(s)])
		}
	}
	if got := m[seriesPrefix+"requests_total"]; got != attempts {
		t.Errorf("requests_total = %v, the report's attempts add up to %v", got, attempts)
	}
	if got := m[seriesPrefix+"exit_code"]; got != float64(code) {
		t.Errorf("exit_code = %v, the process exited %d", got, code)
	}
	last := m[seriesPrefix+"last_run_timestamp_seconds"]
	lo, hi := float64(before.UnixMilli())/1e3-1e-3, float64(after.UnixMilli())/1e3+1e-3
	if last < lo || last > hi {
		t.Errorf("last_run_timestamp_seconds = %f, want within [%f, %f]", last, lo, hi)
	}
	if d := m[seriesPrefix+"duration_seconds"]; d <= 0 || d > after.Sub(before).Seconds() {
		t.Errorf("duration_seconds = %v, want within (0, %v]", d, after.Sub(before).Seconds())
	}
	return last
}

// people is an input of n valid rows.
func people(n int) string {
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "p%02d@example.com,Person %d\n", i, i)
	}
	return b.String()
}

func TestMetricsFile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		args  []string
		// script sets the fake up before it starts; cancel interrupts the run.
		script        func(srv *provisiontest.Server, cancel context.CancelFunc)
		env           map[string]string
		wantCode      int
		wantThrottled float64
	}{
		{name: "clean", input: people(3), wantCode: exitOK},
		{name: "invalid and failed rows", input: sample + "cy@example.com,Cy,\n", wantCode: exitRowsFailed, wantThrottled: 1,
			script: func(srv *provisiontest.Server, _ context.CancelFunc) {
				srv.Intercept = func(n int, r *provisiontest.Request) *provisiontest.Reply {
					switch {
					case n == 1:
						return &provisiontest.Reply{Status: 429, Header: map[string][]string{"Retry-After": {"0"}}, Body: `{"message":"slow down"}`}
					case r.Email() == "bob@example.com":
						return &provisiontest.Reply{Status: 422, Body: `{"message":"no"}`}
					}
					return nil
				}
			}},
		{name: "aborted by a wrong token", input: people(8), env: map[string]string{"IDEANOTE_API_TOKEN": "wrong"}, wantCode: exitAborted},
		{name: "interrupted", input: people(20), args: []string{"--concurrency", "2"}, wantCode: exitInterrupted,
			script: func(srv *provisiontest.Server, cancel context.CancelFunc) {
				srv.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
					if n == 2 {
						cancel() // as a SIGINT would, while requests are in flight
					}
					return nil
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := newAPI(t, func(s *provisiontest.Server) {
				if tt.script != nil {
					tt.script(s, cancel)
				}
			})
			dir := t.TempDir()
			in, rep, prom := testfile.Temp(t, "in.csv", tt.input), filepath.Join(dir, "report.csv"), filepath.Join(dir, "ideanote.prom")
			vars := serverVars(srv)
			maps.Copy(vars, tt.env)
			args := append([]string{"--report", rep, "--metrics-file", prom, "--rate", "0", "--subdomain", "acme"}, tt.args...)
			before := time.Now()
			got := invokeEnv(ctx, vars, nil, append(args, in)...)
			after := time.Now()
			if got.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got.code, tt.wantCode, got.stderr)
			}
			m := readMetrics(t, prom)
			last := checkRun(t, m, rep, got.code, before, after)
			if got := m[seriesPrefix+"throttled_total"]; got != tt.wantThrottled || got != float64(srv.Count()[429]) {
				t.Errorf("throttled_total = %v, want %v (the fake answered 429 %d times)", got, tt.wantThrottled, srv.Count()[429])
			}
			if tt.wantCode != exitInterrupted { // an interrupted request may never reach the fake
				if got, sent := m[seriesPrefix+"requests_total"], len(srv.Requests()); got != float64(sent) {
					t.Errorf("requests_total = %v, the fake got %d", got, sent)
				}
			}
			wantSuccess := 0.0 // no success on record in a new folder
			if tt.wantCode == exitOK {
				wantSuccess = last
			}
			if got := m[seriesPrefix+"last_success_timestamp_seconds"]; got != wantSuccess {
				t.Errorf("last_success_timestamp_seconds = %f, want %f", got, wantSuccess)
			}
			if st, err := os.Stat(prom); err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("metrics file: %v, mode %v, want 0644", err, st.Mode().Perm())
			}
		})
	}
}

// TestMetricsLastSuccessCarriedOver runs a clean run, then a failed one on the same metrics
// file: the second says when the first succeeded.
func TestMetricsLastSuccessCarriedOver(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	dir := t.TempDir()
	prom := filepath.Join(dir, "ideanote.prom")
	runOnce := func(input string, report string) (invocation, map[string]float64, float64) {
		t.Helper()
		rep := filepath.Join(dir, report)
		before := time.Now()
		got := invoke(t, srv, "--report", rep, "--metrics-file", prom, "--rate", "0", "--subdomain", "acme", testfile.Temp(t, "in.csv", input))
		after := time.Now()
		m := readMetrics(t, prom)
		return got, m, checkRun(t, m, rep, got.code, before, after)
	}
	first, m1, end1 := runOnce(people(2), "first.csv")
	if first.code != exitOK || m1[seriesPrefix+"last_success_timestamp_seconds"] != end1 {
		t.Fatalf("first run: exit %d, last success %f, want 0 and %f; stderr:\n%s", first.code, m1[seriesPrefix+"last_success_timestamp_seconds"], end1, first.stderr)
	}
	second, m2, end2 := runOnce(sample, "second.csv")
	if second.code != exitRowsFailed {
		t.Fatalf("second run: exit %d, want 1 (an invalid row); stderr:\n%s", second.code, second.stderr)
	}
	if got := m2[seriesPrefix+"last_success_timestamp_seconds"]; got != end1 || end2 <= end1 {
		t.Errorf("after a failed run ending %f, last success %f, want the first run's %f", end2, got, end1)
	}
}

// TestMetricsAbortedBeforeSending checks that a run stopped by a lock, past the checks, still
// writes its metrics: exit 3 and nothing sent.
func TestMetricsAbortedBeforeSending(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	dir := t.TempDir()
	rep, prom := filepath.Join(dir, "report.csv"), filepath.Join(dir, "ideanote.prom")
	unlock, err := lock.Lock(rep)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	got := invoke(t, srv, "--report", rep, "--metrics-file", prom, "--rate", "0", "--subdomain", "acme", testfile.Temp(t, "in.csv", people(2)))
	if got.code != exitAborted {
		t.Fatalf("exit %d, want 3 (locked); stderr:\n%s", got.code, got.stderr)
	}
	m := readMetrics(t, prom)
	for _, s := range provision.Statuses {
		if v, ok := m[seriesPrefix+"rows{"+string(s)+"}"]; !ok || v != 0 {
			t.Errorf("rows{%s} = %v (present %v), want 0", s, v, ok)
		}
	}
	if m[seriesPrefix+"exit_code"] != exitAborted || m[seriesPrefix+"requests_total"] != 0 || len(srv.Requests()) != 0 {
		t.Errorf("exit_code %v, requests_total %v, fake got %d; want 3, 0, 0", m[seriesPrefix+"exit_code"], m[seriesPrefix+"requests_total"], len(srv.Requests()))
	}
}

func TestMetricsConfigErrors(t *testing.T) {
	notAFolder := testfile.Temp(t, "file", "")
	tests := []struct {
		name    string
		metrics func(dir string) string
		args    []string
		wantErr string
		earlier bool // an earlier run's metrics file is there, and must stay
	}{
		{name: "folder missing", metrics: func(dir string) string { return filepath.Join(dir, "nope", "ideanote.prom") }, wantErr: "does not exist"},
		{name: "folder is a file", metrics: func(string) string { return filepath.Join(notAFolder, "ideanote.prom") }, wantErr: "not a folder"},
		{name: "path is a folder", metrics: func(dir string) string { return dir }, wantErr: "is a folder"},
		{name: "path is the report", metrics: func(dir string) string { return filepath.Join(dir, "report.csv") }, wantErr: "must not be the report"},
		// Past the option checks, but still a configuration error.
		{name: "report exists", metrics: func(dir string) string { return filepath.Join(dir, "ideanote.prom") },
			args: []string{"--report", notAFolder}, wantErr: "exists", earlier: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPI(t)
			dir := t.TempDir()
			prom := tt.metrics(dir)
			const earlier = "# an earlier run's metrics\n"
			if tt.earlier {
				testfile.WriteMode(t, prom, earlier, 0o644)
			}
			args := append([]string{"--report", filepath.Join(dir, "report.csv"), "--metrics-file", prom, "--rate", "0", "--subdomain", "acme"}, tt.args...)
			got := invoke(t, srv, append(args, testfile.Temp(t, "in.csv", people(2)))...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tt.wantErr) {
				t.Errorf("exit %d, want 2 and %q; stderr:\n%s", got.code, tt.wantErr, got.stderr)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("a configuration error sent %d requests", n)
			}
			if tt.earlier {
				if b, err := os.ReadFile(prom); err != nil || string(b) != earlier {
					t.Errorf("a configuration error replaced the metrics file (%v) with:\n%s", err, b)
				}
			}
		})
	}
}

// TestMetricsUnwritable removes the metrics folder while the run sends: the run's exit code
// stands, and the log says the file was not written.
func TestMetricsUnwritable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "textfile")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := newAPI(t, func(s *provisiontest.Server) {
		s.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
			if n == 1 {
				os.RemoveAll(dir)
			}
			return nil
		}
	})
	rep := filepath.Join(t.TempDir(), "report.csv")
	got := invoke(t, srv, "--report", rep, "--metrics-file", filepath.Join(dir, "ideanote.prom"), "--rate", "0", "--subdomain", "acme", testfile.Temp(t, "in.csv", people(2)))
	// The metrics file does not change the exit status; the log says it was not written.
	exitOKSaying(t, "metrics folder removed", got.code, got.stderr, "metrics file could not be written")
}

// TestMetricsFileName refuses a name that node_exporter's textfile collector would not read:
// the file would be written every night and never read.
func TestMetricsFileName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep, prom := filepath.Join(dir, "report.csv"), filepath.Join(dir, "ideanote.txt")
	got := invokeEnv(context.Background(), nil, nil, "--dry-run", "--report", rep, "--metrics-file", prom, testfile.Temp(t, "in.csv", people(2)))
	if got.code != exitUsage || !strings.Contains(got.stderr, "name it *.prom") {
		t.Errorf("exit %d, want 2 and the name to give; stderr:\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(rep); err == nil {
		t.Errorf("the run went on: the report was written")
	}
	got = invokeMail(t, nil, mailArgs(nil, writeProvisioned(t, 1), "--dry-run", "--metrics-file", prom)...)
	if got.code != exitUsage || !strings.Contains(got.stderr, "name it *.prom") {
		t.Errorf("mail: exit %d, want 2; stderr:\n%s", got.code, got.stderr)
	}
}
