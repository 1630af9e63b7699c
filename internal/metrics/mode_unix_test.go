//go:build unix

package metrics

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestMode0644 writes under a umask that would take every bit from group and others, and
// over a file that was 0600: the file is 0644 both times. Not parallel: the umask is the
// process's, and the parallel tests wait until the sequential ones are done.
func TestMode0644(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })

	path := filepath.Join(t.TempDir(), "ideanote.prom")
	for _, before := range []string{"no file", "a file of mode 0600"} {
		if before != "no file" {
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r := Run{Unit: "rows", Statuses: provisionStatuses, End: end}
		if err := WriteFile(path, ProvisionPrefix, r); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o644 {
			t.Errorf("over %s: mode %v, want 0644", before, got)
		}
	}
}
