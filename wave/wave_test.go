package wave

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestColumnList(t *testing.T) {
	t.Parallel()
	got := columnList(map[string]string{"email": "Work Email", "firstname": "First Name", "lastname": "Last Name", "team": "Department"})
	if want := "email=Work Email firstname=First Name lastname=Last Name team=Department"; got != want {
		t.Errorf("columnList = %q, want %q", got, want)
	}
}

// TestRunOutcome: a report or state not written completely wins over every other end of a run,
// then the run's own error, then rows that need a look; "failed" is the failed status alone,
// and invalid rows count as well, as the exit status documents.
func TestRunOutcome(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	failed := provision.Summary{Tally: provision.Tally[provision.Status]{Counts: provision.Counts[provision.Status]{provision.StatusFailed: 1}}}
	invalid := provision.Summary{Tally: provision.Tally[provision.Status]{Counts: provision.Counts[provision.Status]{provision.StatusInvalid: 1}}}
	skipped := provision.Summary{Tally: provision.Tally[provision.Status]{Counts: provision.Counts[provision.Status]{provision.StatusSkipped: 3, provision.StatusNotAttempted: 1}}}
	disk := errors.New("no space left on device")
	tests := []struct {
		name                       string
		sum                        provision.Summary
		runErr, closeErr, stateErr error
		want                       []error
	}{
		{"all ok", skipped, nil, nil, nil, nil},
		{"a row failed", failed, nil, nil, nil, []error{ErrRowsFailed}},
		{"a row invalid", invalid, nil, nil, nil, []error{ErrRowsFailed}},
		{"interrupted", failed, context.Canceled, nil, nil, []error{context.Canceled}},
		{"the report not closed wins over the interrupt", failed, context.Canceled, disk, nil, []error{ErrIncomplete, disk}},
		{"the state not saved wins over rows failed", failed, nil, nil, disk, []error{ErrIncomplete, disk}},
		{"a report line not written", skipped, fmt.Errorf("%w: %w", provision.ErrEmit, disk), nil, nil, []error{ErrIncomplete, disk}},
	}
	for _, tt := range tests {
		err := runOutcome(log, "r.csv", "--resume", tt.sum, tt.runErr, tt.closeErr, tt.stateErr)
		if tt.want == nil && err != nil {
			t.Errorf("%s: %v, want nil", tt.name, err)
		}
		for _, w := range tt.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v, want it to be %v", tt.name, err, w)
			}
		}
	}
}

// A dry run's report is named beside the real one, and a name that is already a dry run's
// stays as it is.
func TestDryRunReport(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{"wave.csv": "wave.dry-run.csv", "dir/wave": "dir/wave.dry-run.csv",
		"wave.dry-run.csv": "wave.dry-run.csv"} {
		if got := DryRunReport(path); got != want {
			t.Errorf("DryRunReport(%q) = %q, want %q", path, got, want)
		}
	}
}
