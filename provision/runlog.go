package provision

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"
)

// MaxRowWarnings is how many rows a run logs as warnings, one line each: past it the report
// says it all, and a log of thousands of lines would hide the rest.
const MaxRowWarnings = 50

// RowWarnings logs the rows of a run that did not go through, up to MaxRowWarnings, then once
// More. Both commands log their rows through it, from one goroutine.
type RowWarnings struct {
	Log  *slog.Logger
	More string // the line logged in place of the rows past the limit
	n    int
}

// Warn logs one row's warning, or nothing past the limit.
func (w *RowWarnings) Warn(msg string, args ...any) {
	w.n++
	switch {
	case w.n <= MaxRowWarnings:
		w.Log.Warn(msg, args...)
	case w.n == MaxRowWarnings+1:
		w.Log.Warn(w.More)
	}
}

// LogCounts appends to args the count of each status of order that some result ended in, as
// "ok", 12: the counts of a run's summary line.
func LogCounts[S ~string](args []any, order []S, c Counts[S]) []any {
	for _, st := range order {
		if n := c[st]; n > 0 {
			args = append(args, string(st), n)
		}
	}
	return args
}

// LogEnd logs the one line that sums up a run, with args: "interrupted", "aborted", doneWith
// when some results need the operator's eyes (attention), or "done".
func LogEnd(log *slog.Logger, runErr error, attention bool, doneWith string, args ...any) {
	switch {
	case errors.Is(runErr, context.Canceled):
		log.Warn("interrupted", args...)
	case runErr != nil:
		log.Error("aborted", args...)
	case attention:
		log.Warn(doneWith, args...)
	default:
		log.Info("done", args...)
	}
}

// LogRate is n over d as a summary line shows a rate: a number a second, to two decimals, 0
// for no time. A number, not text, so that a JSON log gives one to its reader.
func LogRate(n int, d time.Duration) float64 {
	rate := 0.0
	if secs := d.Seconds(); secs > 0 {
		rate = float64(n) / secs
	}
	return math.Round(rate*100) / 100
}

// LogSeconds is d as the log gives a duration: seconds, to the millisecond, as a number (the
// keys say the unit: elapsed_s). A JSON log then holds a number, not Go's "14.414s".
func LogSeconds(d time.Duration) float64 {
	// Whole milliseconds over 1000: Seconds() of a rounded duration can print 2.1189999999999998.
	return float64(d.Round(time.Millisecond).Milliseconds()) / 1000
}
