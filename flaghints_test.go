package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/cronline"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// TestWithFlags checks that an input, state or refused mail run's error, however wrapped, is read with the flags that fix
// it and keeps its chain; other errors pass as they are. The messages of real refusals
// through the command line are checked in TestExportRefused.
func TestWithFlags(t *testing.T) {
	fe := &input.FileError{Given: &input.Setting{Option: "Sheet", Value: "Staf"}, Msg: "no such sheet",
		Fix: []input.Setting{{Option: "Map", Value: "email=COLUMN"}, {Option: "HeaderRow", Value: "N"}}}
	err := withFlags(fmt.Errorf("people.xlsx: %w", fe), false)
	if want := "people.xlsx: --sheet Staf: no such sheet, or use --map email=COLUMN or --header-row N"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if got, ok := errors.AsType[*input.FileError](err); !ok || got != fe {
		t.Errorf("the input error is lost from the chain of %v", err)
	}
	if exitStatus(err) != exitUsage {
		t.Errorf("exit status %d, want %d", exitStatus(err), exitUsage)
	}
	enc := &input.FileError{Msg: "it looks like windows-1252", Fix: []input.Setting{{Option: "Encoding", Value: "windows-1252"}}}
	if got, want := withFlags(enc, false).Error(), "it looks like windows-1252. Give --encoding windows-1252"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	st := fmt.Errorf("%w: the state does not remember it: %w", wave.ErrIncomplete,
		provision.Configf("%s: %w", provision.Option{Of: "wave", Field: "State", Words: "a state file"}, errors.New("state s.db belongs to workspace a")))
	if got, want := withFlags(st, false).Error(), "the report or the state is incomplete: the state does not remember it: --state: state s.db belongs to workspace a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	nm := withFlags(&cronline.NotMailedError{Report: "w.csv", Err: provision.Configf("a template at fault")}, false)
	if want := "mail run aborted: the mail run of w.csv did not start, so nobody was mailed: a template at fault; mail them with ideanote-provision mail --resume w.csv"; nm.Error() != want {
		t.Errorf("got %q, want %q", nm, want)
	}
	if exitStatus(nm) != exitAborted || withFlags(nm, false) != nm {
		t.Errorf("%v: exit status %d, want %d, and worded once", nm, exitStatus(nm), exitAborted)
	}
	// An option is its command's flag: mail's Rate is --rate under mail, --mail-rate under
	// provisioning, also in a mail run refused after provisioning.
	rate := provision.Configf("%s must be at least 1", provision.Option{Of: "mail", Field: "Rate", Words: "the rate"})
	for _, tt := range []struct {
		err     error
		mailCmd bool
		want    string
	}{
		{fmt.Errorf("checking: %w", rate), true, "checking: --rate must be at least 1"},
		{fmt.Errorf("checking: %w", rate), false, "checking: --mail-rate must be at least 1"},
		{&cronline.NotMailedError{Report: "w.csv", Err: rate}, false, "mail run aborted: the mail run of w.csv did not start, so nobody was mailed: " +
			"--mail-rate must be at least 1; mail them with ideanote-provision mail --resume w.csv"},
	} {
		if got := withFlags(tt.err, tt.mailCmd).Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(withFlags(fmt.Errorf("checking: %w", rate), false), rate) {
		t.Error("the configuration error is lost from the chain")
	}
	other := errors.New("other")
	if withFlags(other, false) != other || withFlags(nil, false) != nil {
		t.Error("an error that is not an input error changed")
	}
}

// TestOptionFlagsAreFlags checks that each flag main names an option by is a flag of the
// provisioning or the mail command.
func TestOptionFlagsAreFlags(t *testing.T) {
	root := newRootCmd(environ{getenv: func(string) string { return "" }})
	mailCmd, _, err := root.Find([]string{"mail"})
	if err != nil {
		t.Fatal(err)
	}
	for _, words := range []map[string]string{optionFlags, mailRunFlags} {
		for field, flags := range words {
			for word := range strings.FieldsSeq(flags) {
				name, ok := strings.CutPrefix(word, "--")
				if ok && root.Flags().Lookup(name) == nil && mailCmd.Flags().Lookup(name) == nil {
					t.Errorf("%s: %s is not a flag", field, word)
				}
			}
		}
	}
}

// TestLogNamesFlags checks that the log lines of wave and mail that say what to do name the
// flags of the command line, through the runs' Options.Names.
func TestLogNamesFlags(t *testing.T) {
	t.Parallel()
	in := testfile.Temp(t, "people.csv", "email,name,extra\nana@example.com,Ana,x\n")
	got := invoke(t, nil, "--dry-run", "--progress", "never", "--report", filepath.Join(t.TempDir(), "r.csv"), in)
	exitOKSaying(t, "a column not read", got.code, got.stderr, `hint="--map FIELD=COLUMN reads one of them"`)
	out := filepath.Join(t.TempDir(), "eml")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	got = invokeMail(t, nil, mailArgs(nil, writeProvisioned(t, 1), "--out-dir", out)...)
	exitOKSaying(t, "an --out-dir others can read", got.code, got.stderr, "the --out-dir folder is readable by other users")
}
