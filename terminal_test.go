package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail"
)

// TestDryRunDoesNotBlockTheRealRun checks that a dry run writes its own report, which neither
// blocks the real run that follows nor the next dry run, and that a real run does not take a
// dry run's report name.
func TestDryRunDoesNotBlockTheRealRun(t *testing.T) {
	srv := newAPI(t)
	in := testfile.Temp(t, "in.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\n")
	t.Chdir(t.TempDir())
	for range 2 { // the second dry run replaces the first's report
		if got := invoke(t, srv, "--dry-run", "--subdomain", "acme", in); got.code != exitOK {
			t.Fatalf("dry run: exit %d; stderr:\n%s", got.code, got.stderr)
		}
	}
	if rows := readReport(t, "report.dry-run.csv"); rows["ana@example.com"]["status"] != "valid" {
		t.Errorf("the dry run's report: %v", rows)
	}
	got := invoke(t, srv, "--rate", "0", "--subdomain", "acme", in)
	if got.code != exitOK {
		t.Fatalf("the real run after a dry run: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if rows := readReport(t, "report.csv"); rows["bob@example.com"]["status"] != "ok" {
		t.Errorf("the real run's report: %v", rows)
	}
	// Given the real run's report and --overwrite, a dry run still writes its own beside it:
	// it never replaces the login links of a real run.
	got = invoke(t, srv, "--dry-run", "--overwrite", "--subdomain", "acme", "--report", "report.csv", in)
	if got.code != exitOK {
		t.Fatalf("a dry run given the real report: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if rows := readReport(t, "report.csv"); rows["bob@example.com"]["status"] != "ok" || rows["bob@example.com"]["login_url"] == "" {
		t.Errorf("a dry run replaced the real run's report: %v", rows)
	}
	got = invoke(t, srv, "--rate", "0", "--subdomain", "acme", "--report", "wave.dry-run.csv", in)
	if got.code != exitUsage || !strings.Contains(got.stderr, "named as a dry run's report") {
		t.Errorf("a real run on a dry run's report name: exit %d; stderr:\n%s", got.code, got.stderr)
	}
}

// TestMailAfterOutDirSends checks that messages written as .eml files are not taken for
// messages mailed: a real send after --out-dir mails everyone, with no --overwrite.
func TestMailAfterOutDirSends(t *testing.T) {
	t.Parallel()
	srv := newSMTP(t)
	rep := writeProvisioned(t, 3)
	out := filepath.Join(t.TempDir(), "eml")
	if got := invokeMail(t, nil, mailArgs(nil, rep, "--out-dir", out)...); got.code != exitOK {
		t.Fatalf("--out-dir: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if files, _ := os.ReadDir(out); len(files) != 3 {
		t.Fatalf("%d .eml files, want 3", len(files))
	}
	got := invokeMail(t, nil, mailArgs(srv, rep)...)
	if got.code != exitOK || srv.Count() != 3 {
		t.Errorf("send after --out-dir: exit %d, %d sent, want 3; stderr:\n%s", got.code, srv.Count(), got.stderr)
	}
	if st := mailStatuses(t, mail.DefaultMailReport(rep)); st[mailEmail(2)] != "sent" {
		t.Errorf("mail report statuses %v", st)
	}
}

// TestCompletion checks what the shell is offered, through cobra's hidden __complete command:
// file names for the input at the root as after provision, the values of the flags with a fixed
// set, and descriptions without the backquotes of --help.
func TestCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args      []string
		want      []string // lines of the answer
		directive string   // its last line
	}{
		{[]string{"fr300-f"}, nil, ":0"},
		{[]string{"provision", "fr300-f"}, nil, ":0"},
		{[]string{"ma"}, []string{"mail\tMail each person of a report their own login link"}, ":0"},
		{[]string{"in.csv", ""}, nil, ":4"},
		{[]string{"--progress", ""}, []string{"auto\t", "always\t", "never\t"}, ":4"},
		{[]string{"--log-format", ""}, []string{"text\t", "json\t"}, ":4"},
		{[]string{"mail", "--link", ""}, []string{"login\t", "widget\t"}, ":4"},
		{[]string{"--delimiter", ""}, []string{"auto\t", ",\t", ";\t"}, ":4"},
		{[]string{"--encoding", ""}, []string{"utf-8", "windows-1252"}, ":4"},
		{[]string{"--rate", ""}, nil, ":4"},
		{[]string{"--metrics-file", ""}, []string{"prom"}, ":8"},
		{[]string{"mail", "--out-dir", ""}, nil, ":16"},
		{[]string{"--rep"}, []string{"--report\treport path (mode 0600"}, ":4"},
	}
	for _, tt := range tests {
		got := invoke(t, nil, append([]string{"__complete"}, tt.args...)...)
		lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
		if last := lines[len(lines)-1]; last != tt.directive {
			t.Errorf("%q: directive %s, want %s:\n%s", tt.args, last, tt.directive, got.stdout)
		}
		for _, want := range tt.want {
			found := false
			for _, l := range lines {
				found = found || strings.HasPrefix(l, want)
			}
			if !found {
				t.Errorf("%q: no line %q in:\n%s", tt.args, want, got.stdout)
			}
		}
		if strings.Contains(got.stdout, "`") {
			t.Errorf("%q: markup in the descriptions:\n%s", tt.args, got.stdout)
		}
	}
}

// TestBashCompletionWithoutPackage checks that the bash script works in a bash without the
// bash-completion package, which cobra's script needs ("_get_comp_words_by_ref: command not
// found"): the values of --progress are offered.
func TestBashCompletionWithoutPackage(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	self := binary(t)
	got := invoke(t, nil, "completion", "bash")
	script := testfile.Temp(t, "completion.bash", got.stdout)
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "ideanote-provision")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source "$1"
COMP_WORDS=(ideanote-provision --progress ""); COMP_CWORD=2
COMP_LINE="ideanote-provision --progress "; COMP_POINT=${#COMP_LINE}
__start_ideanote-provision ideanote-provision "" --progress 2>/dev/null
echo "${COMPREPLY[*]}"`, "_", script)
	cmd.Env = []string{"PATH=" + dir}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "auto always never" {
		t.Errorf("bash offers %q (%v), want auto always never", out, err)
	}
}

// TestSuggestions checks the suggestion for a mistyped command or flag: the root takes an input
// file, and took "mial run30.csv" for two of them; pflag suggests no flag.
func TestSuggestions(t *testing.T) {
	t.Parallel()
	in := testfile.Temp(t, "in.csv", "email,name\nana@example.com,Ana\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"mial", "run30.csv"}, "unknown command mial: did you mean mail?"},
		{[]string{"provison", in}, "unknown command provison: did you mean provision?"},
		{[]string{"--subdomian", "acme", in}, "unknown flag --subdomian: did you mean --subdomain?"},
		{[]string{"--dryrun", in}, "unknown flag --dryrun: did you mean --dry-run?"},
		{[]string{"mail", "--lnk", "widget", "r.csv"}, "unknown flag --lnk: did you mean --link?"},
		{[]string{"--no-such-flag", in}, "unknown flag: --no-such-flag (see --help)"},
	}
	for _, tt := range tests {
		got := invoke(t, nil, tt.args...)
		if got.code != exitUsage || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("%q: exit %d; stderr %q, want %q", tt.args, got.code, got.stderr, tt.want)
		}
	}
}

// TestJSONLogNumbers checks that a JSON log gives counts, durations and rates as numbers, the
// durations in seconds: "elapsed":"14.414s" and "requests_per_sec":"1.04" were strings.
func TestJSONLogNumbers(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	in := testfile.Temp(t, "in.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\n")
	rep := filepath.Join(t.TempDir(), "report.csv")
	got := invoke(t, srv, "--rate", "0", "--subdomain", "acme", "--log-format", "json", "--report", rep, in)
	if got.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	var done map[string]any
	for line := range strings.Lines(got.stderr) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if m["msg"] == "done" {
			done = m
		}
	}
	if done == nil {
		t.Fatalf("no summary line:\n%s", got.stderr)
	}
	for _, key := range []string{"rows", "ok", "attempts", "elapsed_s", "requests_per_sec"} {
		if _, ok := done[key].(float64); !ok {
			t.Errorf("%s is %#v, want a number", key, done[key])
		}
	}
}

// TestResumeWithStateSaysUnchangedRowsAreNotSent checks the message of a --resume that finds no
// ok row with --state: "every row will be sent" was wrong, unchanged rows are not.
func TestResumeWithStateSaysUnchangedRowsAreNotSent(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	dir := t.TempDir()
	in := testfile.Temp(t, "in.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\n")
	args := []string{"--rate", "0", "--subdomain", "acme", "--state", filepath.Join(dir, "state.db")}
	if got := invoke(t, srv, append(args, "--report", filepath.Join(dir, "r1.csv"), in)...); got.code != exitOK {
		t.Fatalf("first run: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	got := invoke(t, srv, append(args, "--resume", "--report", filepath.Join(dir, "r2.csv"), in)...)
	if got.code != exitOK || !strings.Contains(got.stderr, "every row will be sent but those unchanged since their last ok") {
		t.Errorf("--state --resume: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2: the unchanged rows are not sent again", n)
	}
}
