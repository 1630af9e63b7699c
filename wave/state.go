package wave

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/state"
)

// OpenState locks the state store at path and opens it with so. It returns the store and the
// function that closes and unlocks it (safe to call twice). Another run holding the store is
// lock.ErrLocked; any other failure is a *provision.ConfigError naming the State option.
func OpenState(path string, so state.Options) (*state.Store, func() error, error) {
	// The lock file beside the state keeps two runs with different reports off one state.
	unlock, err := lock.Lock(path)
	if err != nil {
		if errors.Is(err, lock.ErrLocked) {
			return nil, nil, err
		}
		return nil, nil, configf("%s: %w", opt("State"), err)
	}
	st, err := state.Open(path, so)
	if err != nil {
		unlock()
		if errors.Is(err, state.ErrLocked) {
			return nil, nil, fmt.Errorf("%w: %w", lock.ErrLocked, err)
		}
		return nil, nil, configf("%s: %w", opt("State"), err)
	}
	var once sync.Once
	var closeErr error
	return st, func() error {
		once.Do(func() {
			closeErr = st.Close()
			unlock()
		})
		return closeErr
	}, nil
}

// openState opens the store of o.State, and returns the plan of the run and the function that
// commits and closes the store (safe to call twice). Without a state the plan is nil.
func openState(o *Options) (*state.Plan, func() error, error) {
	if o.State == "" {
		return nil, func() error { return nil }, nil
	}
	st, closeState, err := OpenState(o.State, state.Options{Space: o.SpaceID, ReadOnly: o.DryRun, MaxBatch: o.StateBatch})
	if err != nil {
		return nil, nil, err
	}
	return &state.Plan{Store: st, Force: o.Force, RefreshAfter: o.RefreshAfter, OnlyChanges: o.OnlyChanges, Now: time.Now()}, closeState, nil
}
