package mail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/plant"
)

// TestMailNeverWritesThroughPlantedFiles checks that a symbolic link planted as the mail
// report, its lock file or an .eml file is refused with a message naming it, not written through.
func TestMailNeverWritesThroughPlantedFiles(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"mail report", "mail report lock", "eml"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			o, _ := testOptions(t, nil, people)
			o.OutDir = filepath.Join(t.TempDir(), "eml")
			o.Overwrite = true
			var path string
			switch at {
			case "mail report":
				path = DefaultMailReport(o.Report)
			case "mail report lock":
				path = lock.Path(DefaultMailReport(o.Report))
			case "eml":
				if err := os.Mkdir(o.OutDir, 0o700); err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(o.OutDir, "000002-ana@example.com.eml")
			}
			untouched := plant.Victim(t, plant.Symlink, path, 0o644)
			sum, err := Run(context.Background(), o)
			untouched()
			if at == "eml" {
				// Ana's message fails; the others are written.
				if sum.Counts[StatusWritten] != 3 {
					t.Errorf("written = %d, want 3 (err %v)", sum.Counts[StatusWritten], err)
				}
				b, _ := os.ReadFile(DefaultMailReport(o.Report))
				if !strings.Contains(string(b), path+" is a symbolic link") {
					t.Errorf("the mail report does not say why ana's file was refused:\n%s", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path+" is a symbolic link") {
				t.Errorf("Run = %v, want an error saying %s is a symbolic link", err, path)
			}
		})
	}
}
