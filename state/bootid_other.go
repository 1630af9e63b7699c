//go:build !linux && !darwin

package state

// bootID is "" where no boot id is read: no journal is kept, and a crash loses the batch not
// committed.
func bootID() string { return "" }
