// Package plant makes, for a test, what another user of the machine could leave where the
// program writes: a symbolic link to a victim, a file of another user.
package plant

import (
	"os"
	"runtime"
	"testing"
)

// Symlink plants at a symbolic link to victim. The test is skipped where there are none.
func Symlink(t *testing.T, victim, at string) {
	t.Helper()
	if err := os.Symlink(victim, at); err != nil {
		t.Skip("no symbolic links here:", err)
	}
}

// OtherUsers moves the file victim to at and gives it to another user (nobody, uid 65534).
// The test is skipped unless it runs as root, where files have owners.
func OtherUsers(t *testing.T, victim, at string) {
	t.Helper()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	if err := os.Rename(victim, at); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(at, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}
