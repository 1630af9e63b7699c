package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// TestCheckPathRefusesPlantedFiles: a --metrics-file that is a link, or another user's file,
// is refused when the run starts, not found out after all the work is done.
func TestCheckPathRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := CheckPath(filepath.Join(dir, "ideanote.prom")); err != nil {
		t.Fatalf("a new file: %v", err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.prom")
	if err := os.Symlink(victim, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := CheckPath(link); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("a symbolic link: %v, want it refused", err)
	}
	if os.Geteuid() != 0 {
		return
	}
	other := filepath.Join(dir, "other.prom")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := CheckPath(other); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("another user's file: %v, want it refused", err)
	}
}

// node_exporter's textfile collector reads only *.prom: a file named otherwise would be written
// every night and never read.
func TestCheckPathWantsProm(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ideanote.txt", "ideanote.prom.tmp", "ideanote"} {
		if err := CheckPath(filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), "*.prom") {
			t.Errorf("%s: %v, want refused for its name", name, err)
		}
	}
}
