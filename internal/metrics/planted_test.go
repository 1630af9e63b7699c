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
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			why := "is a symbolic link"
			if planted == "symlink" {
				plant.Symlink(t, victim, path)
			} else {
				plant.OtherUsers(t, victim, path)
				victim, why = path, "belongs to another user"
			}
			err := WriteFile(path, ProvisionPrefix, Run{Unit: "rows", Statuses: provisionStatuses, End: end})
			if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), path+" "+why) {
				t.Errorf("WriteFile = %v, want safefile.ErrUnsafe saying %s %s", err, path, why)
			}
			b, err := os.ReadFile(victim)
			st, serr := os.Lstat(victim)
			if err != nil || string(b) != "precious\n" || serr != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("victim = %q, %v: written or chmod'ed", b, err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != map[bool]int{true: 2, false: 1}[planted == "symlink"] {
				t.Errorf("left in the folder: %v", ents)
			}
		})
	}
}
