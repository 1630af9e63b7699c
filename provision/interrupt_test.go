package provision_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// slowSource is a Source that takes per to read each row, as a huge workbook does.
type slowSource struct {
	sliceSource
	per time.Duration
}

func (s *slowSource) Read() (provision.Row, error) {
	time.Sleep(s.per)
	return s.sliceSource.Read()
}

// An interrupted run reads the rest of its input for InterruptDrain at most: a workbook that
// takes minutes to read must not keep a Ctrl-C or a SIGTERM waiting that long. The rows it read
// are reported not_attempted; the rest are left to --resume, and the summary says so.
func TestJobInterruptedStopsReadingSoon(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 10_000
		ctx, cancel := context.WithCancel(context.Background())
		var emitted int
		job := &provision.Job{
			Source: &slowSource{sliceSource{rows: testRows(n)}, 10 * time.Millisecond},
			Pool:   stallPool(answerAll{status: 200, body: `{"kind":"CUSTOM","sessionToken":"t0k3n_1","user":{"id":"u1"}}`}, pace.New(100, 1)),
			Emit:   func(provision.Result) error { emitted++; return nil },
		}
		time.AfterFunc(2*time.Second, cancel)
		start := time.Now()
		sum, err := job.Run(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want the interruption", err)
		}
		if d := time.Since(start); d > 2*time.Second+provision.InterruptDrain+time.Second {
			t.Errorf("the interrupted run took %v to end", d)
		}
		if !sum.Unread {
			t.Error("Summary.Unread not set, though the input was not read to the end")
		}
		if emitted == 0 || emitted >= n || sum.Rows != emitted {
			t.Errorf("%d rows emitted, summary %d: want some, not all %d", emitted, sum.Rows, n)
		}
		if sum.Counts[provision.StatusNotAttempted] == 0 {
			t.Errorf("counts %v: the rows read after the interruption are not_attempted", sum.Counts)
		}
	})
}

// A run interrupted near the end of a small input still reports every row.
func TestJobInterruptedReportsEveryRowOfASmallInput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var emitted int
		job := &provision.Job{
			Source: &slowSource{sliceSource{rows: testRows(n)}, time.Millisecond},
			Pool:   stallPool(answerAll{status: 503}, pace.New(100, 1)),
			Emit:   func(provision.Result) error { emitted++; return nil },
		}
		sum, _ := job.Run(ctx)
		if sum.Unread || emitted != n {
			t.Errorf("unread %v, %d rows emitted: want every one of %d", sum.Unread, emitted, n)
		}
	})
}
