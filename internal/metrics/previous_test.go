package metrics

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// TestLastSuccessCarriedOver runs a success, two failures and a success into one file.
func TestLastSuccessCarriedOver(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ideanote.prom")
	name := ProvisionPrefix + "_last_success_timestamp_seconds"
	lastRun := ProvisionPrefix + "_last_run_timestamp_seconds"
	runs := []struct {
		exit        int
		end         time.Time
		lastSuccess time.Time
	}{
		{0, end, end},
		{1, end.Add(24 * time.Hour), end},
		{3, end.Add(48 * time.Hour), end},
		{0, end.Add(72 * time.Hour), end.Add(72 * time.Hour)},
	}
	for i, r := range runs {
		run := Run{Unit: "rows", Statuses: provisionStatuses, ExitCode: r.exit, End: r.end}
		if err := WriteFile(path, ProvisionPrefix, run); err != nil {
			t.Fatal(err)
		}
		got := readBack(t, path)
		if g, w := got[name].samples[""], unixSeconds(r.lastSuccess); g != w {
			t.Errorf("run %d (exit %d): last success %v, want %v", i, r.exit, g, w)
		}
		if g, w := got[lastRun].samples[""], unixSeconds(r.end); g != w {
			t.Errorf("run %d (exit %d): last run %v, want %v", i, r.exit, g, w)
		}
	}
}

// TestNoCarryOverFromGarbage replaces files that hold no usable last success: the run's
// series are written all the same, with a last success of 0.
func TestNoCarryOverFromGarbage(t *testing.T) {
	t.Parallel()
	name := ProvisionPrefix + "_last_success_timestamp_seconds"
	tests := []struct {
		name, old string
	}{
		{"empty", ""},
		{"binary", "\x00\xff\xfe\x01PK\x03\x04"},
		{"not the text format", "last success: yesterday\n"},
		{"cut in the middle", "# TYPE " + name + " gauge\n" + name + " 1.79"},
		{"value not a number", name + " soon\n"},
		{"NaN", name + " NaN\n"},
		{"infinite", name + " +Inf\n"},
		{"negative", name + " -5\n"},
		{"a counter", "# TYPE " + name + " counter\n" + name + " 1.7e+09\n"},
		{"two series", name + "{a=\"1\"} 1.7e+09\n" + name + "{a=\"2\"} 1.8e+09\n"},
		{"the other command's", "ideanote_mail_last_success_timestamp_seconds 1.7e+09\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "ideanote.prom")
			testfile.WriteMode(t, path, tt.old, 0o644)
			r := Run{Unit: "rows", Statuses: provisionStatuses, Counts: map[string]int{"failed": 2},
				Requests: 2, ExitCode: 1, End: end}
			if err := WriteFile(path, ProvisionPrefix, r); err != nil {
				t.Fatal(err)
			}
			check(t, readBack(t, path), want(ProvisionPrefix, r, 0))
		})
	}
}

// TestCarryOverUntyped takes a last success written without a TYPE line (by hand, say).
func TestCarryOverUntyped(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ideanote.prom")
	name := ProvisionPrefix + "_last_success_timestamp_seconds"
	testfile.WriteMode(t, path, name+" 1.7e+09\n", 0o644)
	r := Run{Unit: "rows", Statuses: provisionStatuses, ExitCode: 1, End: end}
	if err := WriteFile(path, ProvisionPrefix, r); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, path)[name].samples[""]; got != 1.7e9 {
		t.Errorf("last success %v, want 1.7e+09", got)
	}
}
