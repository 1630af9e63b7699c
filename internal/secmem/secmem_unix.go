//go:build unix

package secmem

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// noCoreFile sets the core size limit to 0, soft and hard, so that nothing raises it again.
func noCoreFile() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("turning core dumps off: %w", err)
	}
	return nil
}
