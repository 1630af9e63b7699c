package main

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// checkMetricsFile checks a --metrics-file before anything is sent: its folder must exist and
// take a new file, so that a cron job set up wrong fails at once with exit 2 rather than
// running every night with metrics that never arrive; nor may it be one of the run's own
// outputs (outputsName says which, for the message).
func checkMetricsFile(path string, outputs []string, outputsName string, logWarn func(msg string, args ...any)) error {
	for _, f := range outputs {
		if f != "" && sameFile(path, f) {
			return usagef("--metrics-file must not be %s", outputsName)
		}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef("--metrics-file %s: the folder %s does not exist", path, dir)
	case err != nil:
		return usagef("--metrics-file %s: %w", path, err)
	case !st.IsDir():
		return usagef("--metrics-file %s: %s is not a folder", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("--metrics-file %s is a folder: give the path of a file in it, e.g. %s", path, filepath.Join(path, "ideanote.prom"))
	}
	// The file is written at the end as a temporary file renamed over it: try the first half
	// now. The name does not end in .prom, so the textfile collector never reads it.
	probe, err := os.CreateTemp(dir, ".ideanote-metrics-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the probe's random name would only confuse
		}
		return usagef("--metrics-file %s: cannot create a file in %s: %w", path, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if !strings.HasSuffix(path, ".prom") {
		logWarn("node_exporter's textfile collector reads only files whose names end in .prom", "metrics_file", path)
	}
	return nil
}

// writeMetrics writes the --metrics-file of a run that began at start and ended with err;
// prefix is the command's (metrics.ProvisionPrefix, metrics.MailPrefix) and r says what the
// run did, its end, duration and exit code left out: they are set here, the exit code to the
// one the process exits with. Nothing is written when path is empty, or when err is a
// configuration error (exit 2): nothing was sent, and the file keeps the last real run.
//
// A file that cannot be written is logged as an error and leaves the exit code alone: the code
// says what happened to the people of the input, and the file going stale is caught by the age
// of its last run.
func writeMetrics(log *slog.Logger, path, prefix string, r metrics.Run, start time.Time, err error) {
	code := exitStatus(err)
	if path == "" || code == exitUsage {
		return
	}
	r.End = time.Now()
	r.Duration = r.End.Sub(start)
	r.ExitCode = code
	if werr := metrics.WriteFile(path, prefix, r); werr != nil {
		log.Error("the metrics file could not be written; the exit code is the run's all the same", "error", werr.Error())
	}
}

// provisionMetrics is what a provisioning run reports in its metrics file.
func provisionMetrics(sum provision.Summary) metrics.Run {
	return metrics.Run{Unit: "rows", Statuses: statusNames(provision.Statuses), Counts: statusCounts(sum.Counts),
		Requests: sum.Attempts, Throttled: sum.Throttled}
}

// statusNames converts a command's list of statuses for metrics.Run.
func statusNames[S ~string](statuses []S) []string {
	out := make([]string, len(statuses))
	for i, s := range statuses {
		out[i] = string(s)
	}
	return out
}

// statusCounts converts a command's counts by status for metrics.Run.
func statusCounts[S ~string](counts map[S]int) map[string]int {
	out := make(map[string]int, len(counts))
	for s, n := range counts {
		out[string(s)] = n
	}
	return out
}
