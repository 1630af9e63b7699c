package cmdline

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// newTree is a root that takes one input file, as a program's root command that needs no
// subcommand does, with a mail subcommand and flags of each kind.
func newTree() (root *cobra.Command, out *bytes.Buffer) {
	root = &cobra.Command{Use: "prog [flags] INPUT", Args: OneArg("one input file", "prog [flags] INPUT"), RunE: func(*cobra.Command, []string) error { return nil }}
	fs := root.Flags()
	fs.String("subdomain", "", "web-app links on `name`.example.com")
	fs.Bool("dry-run", false, "send nothing")
	fs.Float64("rate", 1, "`n` a second")
	fs.String("state", "", "state `file`")
	fs.String("report", "", "report `path`")
	fs.String("progress", "auto", "`mode`")
	fs.String("secret-knob", "", "hidden")
	_ = fs.MarkHidden("secret-knob")
	mail := &cobra.Command{Use: "mail [flags] REPORT", Short: "Mail them", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }}
	mail.Flags().String("out-dir", "", "`folder`")
	version := &cobra.Command{Use: "version", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }}
	root.AddCommand(mail, version)
	root.SilenceErrors, root.SilenceUsage = true, true
	out = &bytes.Buffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetFlagErrorFunc(FlagError)
	root.InitDefaultCompletionCmd()
	RefuseUnknownShells(root)
	SuggestCommand(root)
	UsageArgs(root)
	Completions{
		FileArgs: []string{"INPUT", "REPORT"},
		Values:   map[string][]cobra.Completion{"progress": {"auto\tsome", "never\tnone"}},
		Files:    map[string][]string{"report": {"csv"}, "state": nil},
		Folders:  map[string]bool{"out-dir": true},
	}.Register(root)
	BashWithoutPackage(root)
	return root, out
}

func execute(args ...string) (string, error) {
	root, out := newTree()
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"mial", "mail", 2}, {"dryrun", "dry-run", 1}, {"subdomian", "subdomain", 2}, {"rate", "state", 2}, {"", "abc", 3}} {
		if got := levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestUsageErrors checks that every mistake on the command line is a usage error, with the
// suggestion for a mistyped command or flag, and that a secret typed after an unknown
// shorthand is not echoed.
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"mial", "r.csv"}, "unknown command mial: did you mean mail? (see prog --help)"},
		{[]string{"--subdomian", "acme", "in.csv"}, "unknown flag --subdomian: did you mean --subdomain? (see --help)"},
		{[]string{"--dryrun", "in.csv"}, "unknown flag --dryrun: did you mean --dry-run?"},
		{[]string{"--rat=2", "in.csv"}, "unknown flag --rat: did you mean --rate?"},
		{[]string{"--secret-knb", "in.csv"}, "unknown flag: --secret-knb (see --help)"}, // hidden: not suggested
		{[]string{"--no-such-flag", "in.csv"}, "unknown flag: --no-such-flag (see --help)"},
		{[]string{"-tSECRET", "in.csv"}, "unknown shorthand flag: 't' (see --help)"},
		{[]string{"a.csv", "b.csv"}, "expected one input file, got 2: prog [flags] INPUT"},
		{[]string{"mail"}, "accepts 1 arg(s), received 0 (see prog mail --help)"},
		{[]string{"version", "x"}, `unknown command "x" for "prog version" (see prog version --help)`},
		{[]string{"completion", "nosh"}, `no completion script for "nosh"; the shells: bash, fish, powershell, zsh`},
	} {
		_, err := execute(tt.args...)
		if !isUsage(err) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%q: %v, want a usage error with %q", tt.args, err, tt.want)
		}
	}
}

// TestSuggestCommandLeavesFiles checks that a file named like a command is taken as the input.
func TestSuggestCommandLeavesFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	testfile.Write(t, "mial", "")
	for _, args := range [][]string{{"mial"}, {"-"}} {
		if _, err := execute(args...); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestGroupedUsage(t *testing.T) {
	root, out := newTree()
	root.Example = "  prog in.csv"
	root.SetUsageFunc(GroupedUsage([]FlagGroup{Group("Essential flags", "report", "subdomain", "no-such"), Group("Empty", "no-such")}))
	root.SetArgs([]string{"--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	at := 0
	for _, want := range []string{"Usage:\n  prog [flags] INPUT", "Commands:", "mail ", "Mail them", "Example:\n  prog in.csv",
		"Essential flags:", "--report path", "--subdomain name", "Other flags:", "--dry-run", "--rate n", `Use "prog [command] --help"`} {
		i := strings.Index(help[at:], want)
		if i < 0 {
			t.Fatalf("no %q after byte %d in:\n%s", want, at, help)
		}
		at += i + len(want)
	}
	if strings.Contains(help, "Empty:") || strings.Contains(help, "secret-knob") || strings.Count(help, "--report") != 1 {
		t.Errorf("an empty group, a hidden flag or a flag twice:\n%s", help)
	}
}

// TestCompletions checks what the shell is offered, through cobra's __complete, and that the
// descriptions lose the backquotes of --help.
func TestCompletions(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"in"}, ":0\n"},
		{[]string{"in.csv", ""}, ":4\n"},
		{[]string{"--progress", ""}, "auto\tsome\nnever\tnone\n:4\n"},
		{[]string{"--report", ""}, "csv\n:8\n"},
		{[]string{"--state", ""}, ":0\n"},
		{[]string{"--rate", ""}, ":4\n"},
		{[]string{"mail", "--out-dir", ""}, ":16\n"},
		{[]string{"version", ""}, ":4\n"},
		{[]string{"--subd"}, "--subdomain\tweb-app links on name.example.com\n:4\n"},
	} {
		root, _ := newTree()
		var out bytes.Buffer
		root.SetOut(PlainWriter{W: &out})
		args := append([]string{cobra.ShellCompRequestCmd}, tt.args...)
		if !Completing(args) || Completing(tt.args) {
			t.Errorf("Completing(%q) is wrong", args)
		}
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), tt.want) {
			t.Errorf("%q: %q, want it to end in %q", tt.args, out.String(), tt.want)
		}
	}
}

func TestBashWithoutPackage(t *testing.T) {
	out, err := execute("completion", "bash")
	if err != nil || !strings.HasPrefix(out, bashFallback) || !strings.Contains(out, "__start_prog") {
		t.Errorf("%v; script:\n%.300s", err, out)
	}
	if out, _ := execute("completion", "bash", "--help"); !strings.Contains(out, "without it, it completes --flag value") {
		t.Errorf("help:\n%s", out)
	}
	if out, err := execute("completion"); err != nil || !strings.Contains(out, "bash") {
		t.Errorf("completion alone: %v, %q", err, out)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPlainWriter(t *testing.T) {
	var b bytes.Buffer
	if n, err := (PlainWriter{W: &b}).Write([]byte("report `path`")); n != 13 || err != nil || b.String() != "report path" {
		t.Errorf("%d, %v, %q", n, err, b.String())
	}
	if _, err := (PlainWriter{W: failingWriter{}}).Write([]byte("x")); err == nil {
		t.Error("a write error is lost")
	}
}
