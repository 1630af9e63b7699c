package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// waveOptions are the options of a run against srv, as cron would give them, with --state.
func waveOptions(srv *provisiontest.Server, dir, name string) *options {
	o := &options{Options: wave.Options{
		Input: filepath.Join(dir, name+".csv"), SpaceID: srv.SpaceID, APIToken: srv.APIToken, BaseURL: srv.URL,
		Subdomain: "acme", Report: filepath.Join(dir, name+"-report.csv"), State: filepath.Join(dir, "state.db"),
		Rate: 0, Burst: 1, Concurrency: 4, Timeout: 5 * time.Second, MaxAttempts: 3, MaxWait: provision.DefaultMaxWait,
	}, delimiter: "auto", output: output{progress: "never", logFormat: "text"}}
	return o
}

// runWave runs execute in-process and returns the emails the fake received, the report's
// lines (each a map from column to cell), its header, and the log.
func runWave(t *testing.T, srv *provisiontest.Server, o *options, input string) (sent []string, lines []map[string]string, header []string, log string, err error) {
	t.Helper()
	testfile.Write(t, o.Input, input)
	before := len(srv.Requests())
	var stderr bytes.Buffer
	o.HTTPClient = srv.Client()
	err = execute(context.Background(), o, &stderr)
	for _, r := range srv.Requests()[before:] {
		sent = append(sent, r.Email())
	}
	sort.Strings(sent)
	header, lines = reportLines(t, o.Report)
	return sent, lines, header, stderr.String(), err
}

func reportLines(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("report %s: %v (%d records)", path, err, len(recs))
	}
	var lines []map[string]string
	for _, rec := range recs[1:] {
		m := make(map[string]string)
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		lines = append(lines, m)
	}
	return recs[0], lines
}

// outcomes sums up a report as email -> "status/change", with "+link" when it holds a login link.
func outcomes(lines []map[string]string) map[string]string {
	out := make(map[string]string)
	for _, l := range lines {
		s := l["status"] + "/" + l["change"]
		if l["login_url"] != "" {
			s += "+link"
		}
		out[l["email"]] = s
	}
	return out
}

const csvHeader = "email,sub,name,team\n"

func TestWaves(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	dir := t.TempDir()

	waves := []struct {
		name     string
		input    string
		opts     func(*options)
		wantSent []string
		want     map[string]string // email -> status/change(+link)
		wantLog  string
	}{{
		name: "first wave: everyone is new",
		input: csvHeader + "ana@example.com,E1,Ana,Eng\n" + "bjorn@example.com,E2,Bjorn,Eng\n" +
			"chloe@example.com,,Chloe,Marketing\n",
		wantSent: []string{"ana@example.com", "bjorn@example.com", "chloe@example.com"},
		want: map[string]string{"ana@example.com": "ok/new+link", "bjorn@example.com": "ok/new+link",
			"chloe@example.com": "ok/new+link"},
		wantLog: "change.new=3 change.changed=0 change.unchanged=0 change.refreshed=0",
	}, {
		name: "people added, a team changed",
		input: csvHeader + "ana@example.com,E1,Ana,Eng\n" + "bjorn@example.com,E2,Bjorn,Sales\n" +
			"chloe@example.com,,Chloe,Marketing\n" + "dmitri@example.com,E4,Dmitri,Eng\n" + "eve@example.com,E5,Eve,Ops\n",
		wantSent: []string{"bjorn@example.com", "dmitri@example.com", "eve@example.com"},
		want: map[string]string{"ana@example.com": "unchanged/unchanged", "bjorn@example.com": "ok/changed+link",
			"chloe@example.com": "unchanged/unchanged", "dmitri@example.com": "ok/new+link", "eve@example.com": "ok/new+link"},
		wantLog: "change.new=2 change.changed=1 change.unchanged=2 change.refreshed=0",
	}, {
		name: "people removed, one added, only changes reported",
		input: csvHeader + "bjorn@example.com,E2,Bjorn,Sales\n" + "dmitri@example.com,E4,Dmitri,Eng\n" +
			"fay@example.com,E6,Fay,Ops\n",
		opts:     func(o *options) { o.OnlyChanges = true },
		wantSent: []string{"fay@example.com"},
		want:     map[string]string{"fay@example.com": "ok/new+link"},
		wantLog:  "change.new=1 change.changed=0 change.unchanged=2 change.refreshed=0",
	}, {
		name:     "force sends everyone again",
		input:    csvHeader + "bjorn@example.com,E2,Bjorn,Sales\n" + "fay@example.com,E6,Fay,Ops\n" + "bad,E7,Bad,Ops\n",
		opts:     func(o *options) { o.Force = true },
		wantSent: []string{"bjorn@example.com", "fay@example.com"},
		want: map[string]string{"bjorn@example.com": "ok/refreshed+link", "fay@example.com": "ok/refreshed+link",
			"bad": "invalid/"},
		wantLog: "change.new=0 change.changed=0 change.unchanged=0 change.refreshed=2",
	}}
	for i, w := range waves {
		t.Run(w.name, func(t *testing.T) {
			o := waveOptions(srv, dir, "wave"+string(rune('1'+i)))
			if w.opts != nil {
				w.opts(o)
			}
			sent, lines, header, log, err := runWave(t, srv, o, w.input)
			if hasInvalid := slices.ContainsFunc(lines, func(l map[string]string) bool { return l["status"] == "invalid" }); (err != nil) != hasInvalid {
				t.Fatalf("execute: %v\n%s", err, log)
			}
			if !slices.Equal(sent, w.wantSent) {
				t.Errorf("the fake received %v, want %v", sent, w.wantSent)
			}
			if got := outcomes(lines); !maps.Equal(got, w.want) {
				t.Errorf("report:\n got %v\nwant %v", got, w.want)
			}
			if header[len(header)-1] != "change" || !slices.Equal(header[:len(header)-1], report.Columns) {
				t.Errorf("header %v: want the report columns then change", header)
			}
			if !strings.Contains(log, w.wantLog) {
				t.Errorf("summary lacks %q:\n%s", w.wantLog, log)
			}
		})
	}
}

func TestWavesOptions(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	input := csvHeader + "ana@example.com,E1,Ana,Eng\n"

	t.Run("without --state the report keeps its columns", func(t *testing.T) {
		o := waveOptions(srv, t.TempDir(), "plain")
		o.State = ""
		_, lines, header, log, err := runWave(t, srv, o, input)
		if err != nil {
			t.Fatalf("execute: %v\n%s", err, log)
		}
		if !slices.Equal(header, report.Columns) || lines[0]["status"] != "ok" {
			t.Errorf("header %v, line %v: want the report columns and an ok line", header, lines[0])
		}
		if strings.Contains(log, "change.") {
			t.Errorf("a summary without --state counts changes:\n%s", log)
		}
	})
	for _, tt := range []struct {
		name string
		set  func(*options)
	}{
		{"--force needs --state", func(o *options) { o.State, o.Force = "", true }},
		{"--only-changes needs --state", func(o *options) { o.State, o.OnlyChanges = "", true }},
		{"--refresh-after needs --state", func(o *options) { o.State, o.RefreshAfter = "", time.Hour }},
		{"--refresh-after is positive", func(o *options) { o.RefreshAfter = -time.Hour }},
		{"--state is not the report", func(o *options) { o.State = o.Report }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := waveOptions(srv, t.TempDir(), "usage")
			tt.set(o)
			testfile.Write(t, o.Input, input)
			err := execute(context.Background(), o, &bytes.Buffer{})
			var ue *provision.ConfigError
			if !errors.As(err, &ue) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
	t.Run("a locked state aborts before anything is sent", func(t *testing.T) {
		o := waveOptions(srv, t.TempDir(), "locked")
		unlock, err := lock.Lock(o.State)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		before := len(srv.Requests())
		testfile.Write(t, o.Input, input)
		err = execute(context.Background(), o, &bytes.Buffer{})
		if !errors.Is(err, lock.ErrLocked) || len(srv.Requests()) != before {
			t.Errorf("err = %v, %d requests: want ErrLocked and none", err, len(srv.Requests())-before)
		}
		if _, err := os.Stat(o.Report); err == nil {
			t.Error("a report was created")
		}
	})
	t.Run("dry run reads the state and writes nothing to it", func(t *testing.T) {
		dir := t.TempDir()
		if _, _, _, log, err := runWave(t, srv, waveOptions(srv, dir, "real"), input); err != nil {
			t.Fatalf("execute: %v\n%s", err, log)
		}
		o := waveOptions(srv, dir, "dry")
		o.DryRun = true
		sent, lines, _, log, err := runWave(t, srv, o, input+"bob@example.com,E2,Bob,Eng\n")
		if err != nil {
			t.Fatalf("execute: %v\n%s", err, log)
		}
		want := map[string]string{"ana@example.com": "unchanged/unchanged", "bob@example.com": "valid/new"}
		if got := outcomes(lines); len(sent) != 0 || !maps.Equal(got, want) {
			t.Errorf("sent %v, report %v; want nothing sent, %v", sent, got, want)
		}
	})
}

// killedChildEnv, when set, makes TestWavesKilledChild the program run by TestWavesKilled: it
// holds the base URL, and the directory of the input, report and state.
const killedChildEnv = "IDEANOTE_PROVISION_WAVES_CHILD"

// TestWavesKilledChild is not a test: it is the process that TestWavesKilled kills.
func TestWavesKilledChild(t *testing.T) {
	env := os.Getenv(killedChildEnv)
	if env == "" {
		t.Skip("run by TestWavesKilled")
	}
	baseURL, dir, _ := strings.Cut(env, " ")
	srv := &provisiontest.Server{URL: baseURL, SpaceID: provisiontest.DefaultSpaceID, APIToken: provisiontest.DefaultAPIToken}
	o := waveOptions(srv, dir, "killed")
	// One row in flight and a commit per row make what the kill interrupts predictable.
	o.Concurrency, o.StateBatch = 1, 1
	err := execute(context.Background(), o, os.Stderr)
	os.Exit(exitStatus(err))
}

func TestWavesKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	var hang atomic.Bool
	hang.Store(true)
	srv := newAPI(t, func(s *provisiontest.Server) {
		s.Intercept = func(n int, _ *provisiontest.Request) *provisiontest.Reply {
			if n > 3 && hang.Load() {
				return &provisiontest.Reply{Status: 200, Delay: time.Minute} // until the kill
			}
			return nil
		}
	})
	dir := t.TempDir()
	var input strings.Builder
	input.WriteString(csvHeader)
	var emails []string
	for _, n := range []string{"ana", "bjorn", "chloe", "dmitri", "eve", "fay", "gus", "hana"} {
		emails = append(emails, n+"@example.com")
		input.WriteString(n + "@example.com,," + n + ",Eng\n")
	}
	o := waveOptions(srv, dir, "killed")
	testfile.Write(t, o.Input, input.String())

	cmd := exec.Command(os.Args[0], "-test.run=^TestWavesKilledChild$")
	cmd.Env = append(os.Environ(), killedChildEnv+"="+srv.URL+" "+dir)
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once three rows are reported and the fourth hangs in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(o.Report)
		if bytes.Count(b, []byte("\n")) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child reported %d lines in 5s:\n%s", bytes.Count(b, []byte("\n")), childErr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	hang.Store(false)

	_, killedLines := reportLines(t, o.Report)
	okBeforeKill := make(map[string]bool)
	for _, l := range killedLines {
		if l["status"] == "ok" && l["login_url"] != "" {
			okBeforeKill[l["email"]] = true
		}
	}
	st, err := state.Open(o.State, state.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the state left by the kill: %v", err)
	}
	remembered := make(map[string]bool)
	for _, e := range emails {
		if _, found := st.Get(state.Key(provision.User{Email: e})); found {
			remembered[e] = true
			if !okBeforeKill[e] {
				t.Errorf("%s is in the state but has no link in the report", e)
			}
		}
	}
	st.Close()
	if !remembered["ana@example.com"] || !remembered["bjorn@example.com"] {
		t.Errorf("the state after the kill holds %v: want at least the two rows committed before the third was reported", remembered)
	}

	followUps := []struct {
		name   string
		resume bool
		report string // name of the report written
	}{
		{"the next night's run sends what the state lacks", false, "next"},
		{"--resume finishes the killed run and records what the state lacks", true, "killed"},
	}
	for _, f := range followUps {
		t.Run(f.name, func(t *testing.T) {
			fdir := t.TempDir()
			// The journal goes too: it holds what the killed run recorded since its last commit.
			for _, name := range []string{"state.db", "state.db-journal", "killed.csv", "killed-report.csv"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if errors.Is(err, fs.ErrNotExist) && name == "state.db-journal" {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				testfile.Write(t, filepath.Join(fdir, name), b)
			}
			next := waveOptions(srv, fdir, f.report)
			next.Resume = f.resume
			sent, lines, _, log, err := runWave(t, srv, next, input.String())
			if err != nil {
				t.Fatalf("the run after the kill: %v\n%s", err, log)
			}
			var wantSent []string
			want := make(map[string]string)
			for _, e := range emails {
				switch {
				case f.resume && okBeforeKill[e]:
					want[e] = "skipped/new+link" // sent by the killed run, still to be mailed
				case remembered[e]:
					want[e] = "unchanged/unchanged"
				default:
					wantSent = append(wantSent, e)
					want[e] = "ok/new+link"
				}
			}
			if !slices.Equal(sent, wantSent) {
				t.Errorf("sent %v, want %v", sent, wantSent)
			}
			if got := outcomes(lines); !maps.Equal(got, want) {
				t.Errorf("report:\n got %v\nwant %v", got, want)
			}
			st, err := state.Open(next.State, state.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if n := st.Len(); n != len(emails) {
				t.Errorf("the state holds %d users after the run, want %d", n, len(emails))
			}
		})
	}
}
