package state

import (
	"os"
	"strings"
)

// bootID names this boot of the machine: the journal of another boot is not trusted.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
