package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// TestWriteFileRefusesPlantedFiles checks that a symbolic link or another user's file at the
// metrics path is refused with a message naming it, and left as it was.
func TestWriteFileRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	for _, planted := range []string{"symlink", "another user's"} {
		t.Run(planted, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "ideanote.prom")
			how, why := plant.Symlink, "is a symbolic link"
			if planted != "symlink" {
				how, why = plant.OtherUsers, "belongs to another user"
			}
			untouched := plant.Victim(t, how, path, 0o600)
			err := WriteFile(path, ProvisionPrefix, Run{Unit: "rows", Statuses: provisionStatuses, End: end})
			if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), path+" "+why) {
				t.Errorf("WriteFile = %v, want safefile.ErrUnsafe saying %s %s", err, path, why)
			}
			untouched()
			if ents, _ := os.ReadDir(dir); len(ents) != map[bool]int{true: 2, false: 1}[planted == "symlink"] {
				t.Errorf("left in the folder: %v", ents)
			}
		})
	}
}
