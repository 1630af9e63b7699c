package mail

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// TestReportLockedByAProvisioningRun mails a report that a provisioning run holds: nothing
// is sent, and the error says which run holds it.
func TestReportLockedByAProvisioningRun(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	unlock, err := lock.LockAs(o.Report, "a provisioning run")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = Run(context.Background(), o)
	if !errors.Is(err, ErrAborted) || !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("err = %v, want ErrAborted and lock.ErrLocked", err)
	}
	for _, want := range []string{"the report " + o.Report + " is in use", "a provisioning run, pid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if srv.Connections() != 0 {
		t.Errorf("%d connections", srv.Connections())
	}
	if _, err := os.Stat(DefaultMailReport(o.Report)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a mail report was written: %v", err)
	}
}

// TestMailRunHoldsTheReport checks that, while a mail run goes, the report's lock is held
// (a provisioning run on it exits 3, told that a mail run holds it), and that it is let go.
func TestMailRunHoldsTheReport(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.DryRun = true
	var during error
	o.Started = func(int, int) {
		unlock, err := lock.Lock(o.Report)
		if err == nil {
			unlock()
		}
		during = err
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(during, lock.ErrLocked) || !strings.Contains(during.Error(), "a mail run, pid") {
		t.Errorf("locking the report during the run: %v, want lock.ErrLocked naming a mail run", during)
	}
	unlock, err := lock.Lock(o.Report)
	if err != nil {
		t.Fatalf("the report is still locked after the run: %v", err)
	}
	unlock()
}

// TestMissingReport is told as a report that cannot be read, not as a lock file's trouble.
func TestMissingReport(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.DryRun = true
	o.Report += ".missing"
	_, err := Run(context.Background(), o)
	var ce *provision.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "reading the report") {
		t.Errorf("err = %v, want a provision.ConfigError wrapping fs.ErrNotExist", err)
	}
	if _, err := os.Stat(lock.Path(o.Report)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a lock file was left beside the missing report: %v", err)
	}
}
