package mail

import (
	"errors"
	"strings"
	"testing"
)

// A server that cannot be reached leaves everyone not_attempted, with several connections too:
// the people whose tries were cut short by another connection's giving up were never heard of
// by any server, and are not failed.
func TestUnreachableIsNotAttempted(t *testing.T) {
	t.Parallel()
	// Port 1 is below the ephemeral range the tests' servers take: nothing listens there, where
	// a port just closed could be taken by another test's server before it is dialed.
	addr := "127.0.0.1:1"
	ps := crowd(8)
	o, _ := testOptions(t, nil, ps)
	o.SMTPURL, o.Concurrency, o.MaxAttempts = "smtp://"+addr, 4, 3
	sum, err := Run(t.Context(), o)
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("err = %v", err)
	}
	for row, st := range statuses(t, DefaultMailReport(o.Report)) {
		if st != "not_attempted" {
			t.Errorf("row %d: %s, want not_attempted", row, st)
		}
	}
	if sum.Counts[StatusNotAttempted] != len(ps) {
		t.Errorf("summary %+v", sum)
	}
}
