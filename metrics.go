package main

import (
	"log/slog"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/cmdline"
	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/mail"
)

// checkMetricsFile checks a --metrics-file before anything is sent (see metrics.CheckPath), so
// that a cron job set up wrong fails at once with exit 2; nor may it be one of the run's own
// outputs (outputsName says which, for the message).
func checkMetricsFile(path string, outputs []string, outputsName string) error {
	for _, f := range outputs {
		if f != "" && cmdline.SameFile(path, f) {
			return usagef("--metrics-file must not be %s", outputsName)
		}
	}
	if err := metrics.CheckPath(path); err != nil {
		return usagef("--metrics-file %s: %w", path, err)
	}
	return nil
}

// writeMetrics writes the --metrics-file of the runs of one process (provisioning, then its
// mail run), begun at start, each with its own series; errs[i] is the end of runs[i]. Their
// end, duration and exit code are set here, the exit code to the one the process exits with.
// Nothing is written when path is empty, or when the first run ended in a configuration error
// (exit 2): nothing was sent, and the file keeps the last real run.
//
// A file that cannot be written is logged as an error and leaves the exit code alone: the code
// says what happened to the people of the input, and the file going stale is caught by the age
// of its last run.
func writeMetrics(log *slog.Logger, path string, runs []metrics.Prefixed, errs []error, start time.Time) {
	if path == "" || exitStatus(errs[0]) == exitUsage {
		return
	}
	end := time.Now()
	for i := range runs {
		runs[i].Run.End, runs[i].Run.Duration, runs[i].Run.ExitCode = end, end.Sub(start), exitStatus(errs[i])
	}
	if werr := metrics.WriteRuns(path, runs...); werr != nil {
		log.Error("the metrics file could not be written; the exit code is the run's all the same", "error", werr.Error())
	}
}

// mailMetrics is what a mail run reports in its metrics file.
func mailMetrics(sum mail.Summary) metrics.Prefixed {
	return metrics.Prefixed{Prefix: metrics.MailPrefix, Run: metrics.OfTally("messages", mail.Statuses, sum.Tally)}
}
