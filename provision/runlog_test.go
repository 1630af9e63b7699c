package provision

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRowWarningsStopAtTheLimit(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	w := RowWarnings{Log: slog.New(slog.NewTextHandler(&logs, nil)), More: "more rows: see the report"}
	for range MaxRowWarnings + 10 {
		w.Warn("row failed")
	}
	if n := strings.Count(logs.String(), "row failed"); n != MaxRowWarnings {
		t.Errorf("%d rows logged, want %d", n, MaxRowWarnings)
	}
	if n := strings.Count(logs.String(), "more rows: see the report"); n != 1 {
		t.Errorf("the line past the limit is logged %d times, want once", n)
	}
}
