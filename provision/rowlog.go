package provision

import "log/slog"

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
