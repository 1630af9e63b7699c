package secmem

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func disableCoreDumps() error {
	// Not dumpable covers what the rlimit does not: a core_pattern that pipes to a program
	// ignores RLIMIT_CORE.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("turning core dumps off: %w", err)
	}
	return noCoreFile()
}
