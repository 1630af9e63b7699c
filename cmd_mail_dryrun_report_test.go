package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail"
)

// TestMailRefusesADryRunsReport checks that mail refuses, exit 2 and saying what it is, the
// report of a provisioning dry run, which has no link: by its name (report.dry-run.csv), and by
// its lines once renamed. It writes no mail report.
func TestMailRefusesADryRunsReport(t *testing.T) {
	srv := newAPI(t)
	smtp := newSMTP(t)
	in := writeFile(t, "in.csv", "email,name\nana@example.com,Ana\nbob@example.com,Bob\n")
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"--dry-run", "--subdomain", "acme", in}, {"--dry-run", "--subdomain", "acme", "--report", "wave.csv", in}} {
		if got := invoke(t, srv, args...); got.code != exitOK {
			t.Fatalf("dry run %v: exit %d; stderr:\n%s", args, got.code, got.stderr)
		}
	}
	// A dry run given --report wave.csv writes wave.dry-run.csv; renamed, its lines still say
	// what it is.
	if err := os.Rename("wave.dry-run.csv", "renamed.csv"); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []string{"report.dry-run.csv", "renamed.csv"} {
		got := invokeMail(t, nil, mailArgs(smtp, rep)...)
		if got.code != exitUsage || !strings.Contains(got.stderr, "dry run") || !strings.Contains(got.stderr, rep) {
			t.Errorf("mail %s: exit %d, want %d naming it a dry run's report; stderr:\n%s", rep, got.code, exitUsage, got.stderr)
		}
		if _, err := os.Stat(mail.DefaultMailReport(rep)); err == nil {
			t.Errorf("mail %s wrote a mail report", rep)
		}
	}
	if smtp.Connections() != 0 {
		t.Errorf("%d SMTP connections", smtp.Connections())
	}
}
