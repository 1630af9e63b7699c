package main

import (
	"strings"
	"testing"
)

// mail --dry-run --to, repeated, prints the messages of the people named; an address not in
// the report is a usage error naming it.
func TestMailDryRunTo(t *testing.T) {
	t.Parallel()
	rep := writeProvisioned(t, 4)
	got := invokeMail(t, nil, mailArgs(nil, rep, "--dry-run", "--to", mailEmail(1), "--to", mailEmail(3))...)
	if got.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	for _, want := range []string{"as " + mailEmail(1), mailLink(1), "as " + mailEmail(3), mailLink(3)} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, mailToken(0)) || strings.Contains(got.stdout, mailToken(2)) {
		t.Errorf("stdout holds a message not asked for:\n%s", got.stdout)
	}
	got = invokeMail(t, nil, mailArgs(nil, rep, "--dry-run", "--overwrite", "--to", "stranger@example.com")...)
	if got.code != exitUsage || !strings.Contains(got.stderr, "--to stranger@example.com: not in the report") {
		t.Errorf("exit %d, want %d naming the address; stderr:\n%s", got.code, exitUsage, got.stderr)
	}
}
