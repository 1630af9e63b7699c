package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

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
