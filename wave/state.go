package wave

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/state"
)

// openState locks and opens the --state store, and returns the plan of the run and the function
// that commits and closes the store (safe to call twice). Without --state the plan is nil.
func openState(o *Options) (*state.Plan, func() error, error) {
	if o.State == "" {
		return nil, func() error { return nil }, nil
	}
	// The lock file beside the state keeps two runs with different reports off one state.
	unlock, err := lock.Lock(o.State)
	if err != nil {
		if errors.Is(err, lock.ErrLocked) {
			return nil, nil, err
		}
		return nil, nil, provision.Configf("--state: %w", err) // a folder that is not there or not writable
	}
	st, err := state.Open(o.State, state.Options{Space: o.SpaceID, ReadOnly: o.DryRun, MaxBatch: o.StateBatch})
	if err != nil {
		unlock()
		if errors.Is(err, state.ErrLocked) {
			return nil, nil, fmt.Errorf("%w: %w", lock.ErrLocked, err)
		}
		return nil, nil, provision.Configf("--state: %w", err)
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
	return &state.Plan{Store: st, Force: o.Force, RefreshAfter: o.RefreshAfter, OnlyChanges: o.OnlyChanges, Now: time.Now()}, closeState, nil
}
