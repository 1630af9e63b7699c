package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// A dry run with To prints the messages of the people named, each in their language, and only
// theirs.
func TestDryRunTo(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	var out bytes.Buffer
	o.DryRun, o.Stdout, o.SMTPURL = true, &out, ""
	o.To = []string{"ZOE@example.com", "dan@example.com"}
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	printed := out.String()
	for _, want := range []string{"the message (row 3), as zoe@example.com", "the message (row 7), as dan@example.com",
		"Zoë Ñúñez <zoe@example.com>", "Bonjour Zoë", loginURL("tok-zoe"), loginURL("tok-dan")} {
		if !strings.Contains(printed, want) {
			t.Errorf("the printed messages lack %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, "tok-ana") || strings.Count(printed, "--- end of the message ---") != 2 {
		t.Errorf("want the two messages named, no other:\n%s", printed)
	}
}

// An address of To that has no message to render is an error naming it, before anything is
// rendered.
func TestDryRunToUnknown(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ to, want string }{
		{"nobody@example.com", "<To> nobody@example.com: not in the report"},
		{"bob@example.com", "<To> bob@example.com: no message to render (row 4, skipped: no link: the report's status is failed)"},
	} {
		o, _ := testOptions(t, nil, people)
		o.DryRun, o.SMTPURL = true, ""
		o.To = []string{"ana@example.com", tt.to}
		_, err := Run(t.Context(), o)
		var ce *provision.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(named(err), tt.want) {
			t.Errorf("--to %s: err = %v, want a configuration error %q", tt.to, err, tt.want)
		}
		if _, err := os.Stat(DefaultMailReport(o.Report)); err == nil {
			t.Errorf("--to %s: a mail report was written", tt.to)
		}
	}
	o, _ := testOptions(t, nil, people)
	o.To = []string{"ana@example.com"}
	if err := Validate(o); err == nil || !strings.Contains(named(err), "give <DryRun> with it") {
		t.Errorf("--to without --dry-run: %v", err)
	}
}

// TestDryRunWritesNoMailReport checks that a dry run writes no mail report, with or without
// --overwrite: one that follows a real run leaves its record of who was mailed as it was, so
// that --resume mails nobody again.
func TestDryRunWritesNoMailReport(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	path := DefaultMailReport(o.Report)
	files := func() []string {
		entries, err := os.ReadDir(filepath.Dir(o.Report))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	dry := func(o Options) {
		t.Helper()
		o.DryRun, o.Stdout = true, io.Discard
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatalf("dry run (overwrite %v, resume %v): %v", o.Overwrite, o.Resume, err)
		}
	}

	before := files()
	dry(o)
	if after := files(); !slices.Equal(after, before) {
		t.Errorf("files after a first dry run %v, want %v: it writes nothing", after, before)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	mailed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before = files()
	for _, flags := range []struct{ overwrite, resume bool }{{false, false}, {true, false}, {false, true}} {
		o := o
		o.Overwrite, o.Resume = flags.overwrite, flags.resume
		dry(o)
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, mailed) {
			t.Errorf("after a dry run (overwrite %v, resume %v), the mail report is\n%s(%v), want it as the real run left it", o.Overwrite, o.Resume, got, err)
		}
		if after := files(); !slices.Equal(after, before) {
			t.Errorf("files after a dry run (overwrite %v, resume %v) %v, want %v", o.Overwrite, o.Resume, after, before)
		}
	}
	o.Resume = true
	if _, err := Run(context.Background(), o); err != nil && !errors.Is(err, ErrFailed) {
		t.Fatal(err)
	}
	if srv.Count() != 4 {
		t.Errorf("%d messages, want 4: the resume mailed people again", srv.Count())
	}
}
