package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// CheckPath checks, before a run sends anything, that a metrics file can be written at path:
// its folder must exist and take a new file, so that a cron job set up wrong fails at once
// rather than running every night with metrics that never arrive; and its name must end in
// .prom, the only files node_exporter's textfile collector reads.
func CheckPath(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the folder %s does not exist", dir)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("it is a folder: give the path of a file in it, e.g. %s", filepath.Join(path, "ideanote.prom"))
	}
	// Refused now rather than when the run is over: a link or another user's file there.
	if err := safefile.CheckReplace(path); err != nil {
		return err
	}
	// The file is written at the end as a temporary file renamed over it: try the first half
	// now. The name does not end in .prom, so the textfile collector never reads it.
	probe, err := safefile.CreateTemp(dir, ".ideanote-metrics-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the probe's random name would only confuse
		}
		return fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if !strings.HasSuffix(path, ".prom") {
		return errors.New("name it *.prom, the only files node_exporter's textfile collector reads")
	}
	return nil
}

// OfTally is what a run with tally t reports: unit names what its statuses count ("rows",
// "messages"), statuses are every status its command has.
func OfTally[S ~string](unit string, statuses []S, t provision.Tally[S]) Run {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	counts := make(map[string]int, len(t.Counts))
	for s, n := range t.Counts {
		counts[string(s)] = n
	}
	return Run{Unit: unit, Statuses: names, Counts: counts, Requests: t.Attempts, Throttled: t.Throttled}
}
