//go:build unix

package input

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

func TestXLSXStaleTempDirsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	stale := filepath.Join(tmp, fmt.Sprintf("%s%d-1", tempPrefix, gone.Process.Pid))
	live := filepath.Join(tmp, fmt.Sprintf("%s%d-2", tempPrefix, os.Getppid()))
	for _, dir := range []string{stale, live} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		testfile.Write(t, filepath.Join(dir, "excelize-1"), "HR data")
	}
	r, err := Open(testfile.Temp(t, "p.xlsx", workbook(t, [][]any{{"email"}, {"a@x.com"}})), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the folder of a process that is gone: %v, want it removed", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the folder of a running process: %v, want it kept", err)
	}
	mine := filepath.Join(tmp, fmt.Sprintf("%s%d-*", tempPrefix, os.Getpid()))
	if dirs, _ := filepath.Glob(mine); len(dirs) != 1 {
		t.Fatalf("folders of this process: %q, want one", dirs)
	}
	// What main calls on a second signal, before it exits.
	RemoveTempFiles()
	if dirs, _ := filepath.Glob(mine); len(dirs) != 0 {
		t.Errorf("after RemoveTempFiles: %q", dirs)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after RemoveTempFiles: %v", err)
	}
}
