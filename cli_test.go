package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// TestCommandLine checks that the command line takes flags as GNU tools do: before or after
// the input, as --flag value or --flag=value, with the provision command named or not.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args func(in, rep string) []string
	}{
		{"flags first", func(in, rep string) []string {
			return []string{"--subdomain", "acme", "--report", rep, "--rate", "0", in}
		}},
		{"flags after the input", func(in, rep string) []string {
			return []string{in, "--subdomain", "acme", "--report", rep, "--rate", "0"}
		}},
		{"flag=value", func(in, rep string) []string { return []string{"--subdomain=acme", in, "--report=" + rep, "--rate=0"} }},
		{"provision named", func(in, rep string) []string {
			return []string{"provision", in, "--subdomain", "acme", "--report", rep, "--rate", "0"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPI(t)
			in := testfile.Temp(t, "people.csv", "email,name\nana@example.com,Ana\n")
			rep := filepath.Join(t.TempDir(), "report.csv")
			got := invokeEnv(context.Background(), serverVars(srv), nil, tt.args(in, rep)...)
			if got.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
			}
			if r := readReport(t, rep)["ana@example.com"]; r["status"] != "ok" || !strings.HasPrefix(r["login_url"], "https://acme.ideanote.io/login/session/") {
				t.Errorf("report line %v", r)
			}
		})
	}
}

func TestHelpListsEssentialFlagsFirst(t *testing.T) {
	t.Parallel()
	got := invokeEnv(context.Background(), nil, nil, "--help")
	if got.code != 0 {
		t.Fatalf("--help: exit %d", got.code)
	}
	order := []string{"Usage:", "Example:", "Essential flags:", "--space-id", "--subdomain", "--report", "--resume", "--dry-run",
		"Input:", "--map", "Scheduled waves:", "--state", "Sending (tuning):", "--rate", "--concurrency"}
	inOrder(t, "--help", got.stdout, order)
	if strings.Contains(got.stdout, " -api-token-file") {
		t.Errorf("a flag shown with one dash:\n%s", got.stdout)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "ideanote-provision "},
		{[]string{"--version"}, "ideanote-provision "},
		{[]string{"completion", "bash"}, "complete -o default"},
		{[]string{"completion", "zsh"}, "#compdef ideanote-provision"},
		{[]string{"completion", "fish"}, "complete -c ideanote-provision"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			got := invokeEnv(context.Background(), nil, nil, tt.args...)
			if got.code != 0 || !strings.Contains(got.stdout, tt.want) {
				t.Errorf("exit %d, stdout does not hold %q:\n%.300s", got.code, tt.want, got.stdout)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no input", []string{"--subdomain", "acme"}, "expected one input file"},
		{"two inputs", []string{"a.csv", "b.csv"}, "expected one input file"},
		{"unknown flag", []string{"--colour", "in.csv"}, "unknown flag: --colour"},
		{"bad number", []string{"--rate", "fast", "in.csv"}, "--rate"},
		{"token as a flag", []string{"--token=abc", "in.csv"}, "never a flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invokeEnv(context.Background(), nil, nil, tt.args...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
		})
	}
}

// TestArgumentErrorsExit2 checks that cobra's own complaints about arguments are usage errors.
func TestArgumentErrorsExit2(t *testing.T) {
	t.Parallel()
	// A shell cobra has no script for printed the help, exit 0: sourced, as in
	// `source <(ideanote-provision completion tcsh)`, that is a shell error far from its cause.
	for _, args := range [][]string{{"version", "extra"}, {"demo", "extra"}, {"completion", "bash", "extra"}, {"completion", "tcsh"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			if got := invokeEnv(context.Background(), nil, nil, args...); got.code != exitUsage || got.stdout != "" {
				t.Errorf("exit %d, want %d and nothing on stdout; stdout:\n%s\nstderr:\n%s", got.code, exitUsage, got.stdout, got.stderr)
			}
		})
	}
}

func TestMapGivenTwice(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	in := testfile.Temp(t, "own.csv", "Login,Worker\nana@example.com,Ana Ruiz\n")
	rep := filepath.Join(t.TempDir(), "report.csv")
	got := invokeEnv(context.Background(), serverVars(srv), nil, in, "--subdomain", "acme", "--report", rep, "--rate", "0",
		"--map", "email=Login", "--map", "name=Worker")
	if got.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if r := readReport(t, rep)["ana@example.com"]; r["name"] != "Ana Ruiz" {
		t.Errorf("report line %v: both --map flags should apply", r)
	}
}

// TestErrorInLogFormat checks that the error that ends a run is a JSON line with --log-format
// json, and that a shorthand flag's error does not echo what was typed after it.
func TestErrorInLogFormat(t *testing.T) {
	t.Parallel()
	got := invokeEnv(context.Background(), nil, nil, "--log-format", "json", "--rate", "fast", "in.csv")
	var line struct {
		Level    string `json:"level"`
		Msg      string `json:"msg"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(got.stderr)), &line); err != nil || line.Level != "ERROR" ||
		!strings.Contains(line.Msg, "--rate") || line.ExitCode != exitUsage {
		t.Errorf("stderr is not one JSON error line naming --rate (%v):\n%s", err, got.stderr)
	}

	got = invokeEnv(context.Background(), nil, nil, "-tSECRET123", "in.csv")
	if got.code != exitUsage || strings.Contains(got.stderr, "SECRET") {
		t.Errorf("exit %d, stderr %q: want exit 2 without what followed -t", got.code, got.stderr)
	}
}

// inOrder fails t unless text holds each string of order, one after the other.
func inOrder(t *testing.T, what, text string, order []string) {
	t.Helper()
	at := 0
	for _, s := range order {
		i := strings.Index(text[at:], s)
		if i < 0 {
			t.Fatalf("%s does not show %q after position %d:\n%s", what, s, at, text)
		}
		at += i + len(s)
	}
}
