package main

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
)

// openState locks and opens the --state store, and returns the plan of the run and the function
// that commits and closes the store (safe to call twice). Without --state the plan is nil.
func openState(o *options) (*state.Plan, func() error, error) {
	if o.statePath == "" {
		return nil, func() error { return nil }, nil
	}
	// The lock file beside the state keeps two runs with different reports off one state.
	unlock, err := lock.Lock(o.statePath)
	if err != nil {
		return nil, nil, err
	}
	st, err := state.Open(o.statePath, state.Options{Space: o.spaceID, ReadOnly: o.dryRun, MaxBatch: o.stateBatch})
	if err != nil {
		unlock()
		if errors.Is(err, state.ErrLocked) {
			return nil, nil, fmt.Errorf("%w: %v", lock.ErrLocked, err)
		}
		return nil, nil, usagef("--state: %v", err)
	}
	var once sync.Once
	var closeErr error
	closeState := func() error {
		once.Do(func() {
			closeErr = st.Close()
			unlock()
		})
		return closeErr
	}
	return &state.Plan{Store: st, Force: o.force, RefreshAfter: o.refreshAfter, Now: time.Now()}, closeState, nil
}

// skipper is the Job's Skip: rows already ok in the report being resumed come first (they were
// sent in this wave, and keep the change they had), then rows unchanged since the last ok.
func skipper(done report.DoneSet, plan *state.Plan) func(provision.Row) (provision.Result, bool) {
	if plan == nil {
		return done.Skip
	}
	return func(row provision.Row) (provision.Result, bool) {
		if res, ok := done.Skip(row); ok {
			return res, true
		}
		return plan.Skip(row)
	}
}

// waveRecorder settles and records the results of a run with --state, and counts the changes.
// It is used from the emitting goroutine only.
type waveRecorder struct {
	plan    *state.Plan // nil without --state: every method does nothing
	log     *slog.Logger
	changes map[string]int
	failed  bool
}

// settle sets res.Change before the row is reported.
func (r *waveRecorder) settle(res *provision.Result) {
	if r.plan == nil {
		return
	}
	r.plan.Settle(res)
	if res.Change != "" {
		r.changes[res.Change]++
	}
}

// record remembers a reported row in the state. A state that cannot be written does not stop
// the run: tonight's report matters more, and the next run sends these rows again.
func (r *waveRecorder) record(res provision.Result) {
	if r.plan == nil {
		return
	}
	if err := r.plan.Record(res); err != nil && !r.failed {
		r.failed = true
		r.log.Error("the state cannot be saved; the run goes on, and the next run will send the rows not saved again", "error", err.Error())
	}
}

// summary returns the change counts for the summary line, nil without --state.
func (r *waveRecorder) summary() []any {
	if r.plan == nil {
		return nil
	}
	return []any{state.New, r.changes[state.New], state.Changed, r.changes[state.Changed],
		state.Unchanged, r.changes[state.Unchanged], state.Refreshed, r.changes[state.Refreshed]}
}
