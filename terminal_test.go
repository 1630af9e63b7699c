package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// TestDryRunDoesNotBlockTheRealRun checks that a dry run writes its own report, which neither
// blocks the real run that follows nor the next dry run, and that a real run does not take a
// dry run's report name.
func TestDryRunDoesNotBlockTheRealRun(t *testing.T) {
	srv := provisiontest.NewServer()
	defer srv.Close()
	in := writeFile(t, "in.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\n")
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
	got = invoke(t, srv, "--rate", "0", "--subdomain", "acme", "--report", "wave.dry-run.csv", in)
	if got.code != exitUsage || !strings.Contains(got.stderr, "named as a dry run's report") {
		t.Errorf("a real run on a dry run's report name: exit %d; stderr:\n%s", got.code, got.stderr)
	}
}

// TestMailAfterOutDirSends checks that messages written as .eml files are not taken for
// messages mailed: a real send after --out-dir mails everyone, with no --overwrite.
func TestMailAfterOutDirSends(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
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
