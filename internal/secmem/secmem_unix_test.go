//go:build unix

package secmem

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The test process itself loses core dumps: harmless, and the only way to read the effect.
func TestDisableCoreDumps(t *testing.T) {
	var before unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &before); err != nil {
		t.Fatal(err)
	}
	// Start from a soft limit above 0 when the hard limit allows it, so that a DisableCoreDumps
	// that did nothing is seen.
	if before.Max > 0 {
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: before.Max, Max: before.Max}); err != nil {
			t.Fatal(err)
		}
	}
	if err := DisableCoreDumps(); err != nil {
		t.Fatal(err)
	}
	var after unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &after); err != nil {
		t.Fatal(err)
	}
	if after.Cur != 0 || after.Max != 0 {
		t.Errorf("RLIMIT_CORE = %d (hard %d), want 0 and 0", after.Cur, after.Max)
	}
	// The hard limit at 0 cannot be raised again by the process.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 1 << 20, Max: 1 << 20}); err == nil && unix.Geteuid() != 0 {
		t.Error("the core size limit could be raised again")
	}
	if err := DisableCoreDumps(); err != nil {
		t.Errorf("a second call: %v", err)
	}
	checkNotDumpable(t)
}
