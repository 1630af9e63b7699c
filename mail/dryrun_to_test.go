package mail

import (
	"bytes"
	"errors"
	"os"
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
		{"nobody@example.com", "--to nobody@example.com: not in the report"},
		{"bob@example.com", "--to bob@example.com: no message to render (row 4, skipped: no link: the report's status is failed)"},
	} {
		o, _ := testOptions(t, nil, people)
		o.DryRun, o.SMTPURL = true, ""
		o.To = []string{"ana@example.com", tt.to}
		_, err := Run(t.Context(), o)
		var ce *provision.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("--to %s: err = %v, want a configuration error %q", tt.to, err, tt.want)
		}
		if _, err := os.Stat(DefaultMailReport(o.Report)); err == nil {
			t.Errorf("--to %s: a mail report was written", tt.to)
		}
	}
	o, _ := testOptions(t, nil, people)
	o.To = []string{"ana@example.com"}
	if err := Validate(o); err == nil || !strings.Contains(err.Error(), "give --dry-run with it") {
		t.Errorf("--to without --dry-run: %v", err)
	}
}
