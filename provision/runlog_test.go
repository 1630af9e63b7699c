package provision

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
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

// A duration logged in seconds reads as the milliseconds it holds: 2.119, never
// 2.1189999999999998, in a text or a JSON log.
func TestLogSecondsPrintsMilliseconds(t *testing.T) {
	t.Parallel()
	for ms := range 100_000 {
		d := time.Duration(ms)*time.Millisecond + 300*time.Microsecond
		got := strconv.FormatFloat(LogSeconds(d), 'f', -1, 64)
		if _, frac, _ := strings.Cut(got, "."); len(frac) > 3 {
			t.Fatalf("LogSeconds(%v) prints %s", d, got)
		}
	}
}
