package metrics

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// TestCheckPathRefusesPlantedFiles: a --metrics-file that is a link, or another user's file,
// is refused when the run starts, not found out after all the work is done.
func TestCheckPathRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	if err := CheckPath(filepath.Join(t.TempDir(), "ideanote.prom")); err != nil {
		t.Fatalf("a new file: %v", err)
	}
	plant.Each(t, func(t *testing.T, how func(t *testing.T, victim, at string)) {
		path := filepath.Join(t.TempDir(), "ideanote.prom")
		untouched := plant.Victim(t, how, path, 0o600)
		if err := CheckPath(path); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("%v, want it refused", err)
		}
		untouched()
	})
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
