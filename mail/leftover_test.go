package mail

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// TestReportOfAStoppedResumeIsRefused checks that a report whose resumed provisioning run was
// stopped before its end, its new lines still in report.TempPath, is not mailed: the people
// only there would never get their link. Nothing is sent, nor any mail report written.
func TestReportOfAStoppedResumeIsRefused(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	for _, dry := range []bool{false, true} {
		o, _ := testOptions(t, srv, people[:2])
		o.DryRun = dry
		rest := writeReport(t, t.TempDir(), people[2:])
		if err := os.Rename(rest, report.TempPath(o.Report)); err != nil {
			t.Fatal(err)
		}
		_, err := Run(context.Background(), o)
		var ce *provision.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, report.ErrLeftOver) || !strings.Contains(named(err), "<Resume>") {
			t.Errorf("dry run %v: err = %v, want a provision.ConfigError (exit 2) wrapping report.ErrLeftOver, saying to finish with Resume", dry, err)
		}
		if _, err := os.Stat(DefaultMailReport(o.Report)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry run %v: a mail report was written: %v", dry, err)
		}
	}
	if srv.Connections() != 0 {
		t.Errorf("%d connections", srv.Connections())
	}
}
