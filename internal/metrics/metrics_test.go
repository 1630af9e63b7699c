package metrics

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	provisionStatuses = []string{"ok", "failed", "invalid", "skipped", "not_attempted", "valid", "unchanged"}
	mailStatuses      = []string{"sent", "failed", "skipped", "not_attempted", "written", "rendered"}

	// end is a run's end with a fraction of a second that a float64 holds exactly.
	end        = time.Date(2026, 11, 23, 2, 0, 14, 250_000_000, time.UTC)
	endSeconds = float64(end.Unix()) + 0.25
)

// family is one metric family read back from a written file.
type family struct {
	typ, help string
	samples   map[string]float64 // by status label, "" for a series without labels
}

// readBack parses the file at path with expfmt, as Prometheus would, and fails the test
// if it does not parse or a family lacks a help text.
func readBack(t *testing.T, path string) map[string]family {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	got := map[string]family{}
	for name, mf := range mfs {
		if mf.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		fam := family{typ: mf.GetType().String(), help: mf.GetHelp(), samples: map[string]float64{}}
		for _, m := range mf.GetMetric() {
			label := ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() != "status" {
					t.Errorf("%s has a label %q", name, lp.GetName())
				}
				label = lp.GetValue()
			}
			if _, dup := fam.samples[label]; dup {
				t.Errorf("%s{status=%q} is written twice", name, label)
			}
			switch {
			case m.GetGauge() != nil:
				fam.samples[label] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				fam.samples[label] = m.GetCounter().GetValue()
			default:
				t.Errorf("%s is neither a gauge nor a counter", name)
			}
		}
		got[name] = fam
	}
	return got
}

// want is the families a run should be written as, with its last success given.
func want(prefix string, r Run, lastSuccess float64) map[string]family {
	byStatus := map[string]float64{}
	for _, s := range r.Statuses {
		byStatus[s] = 0
	}
	for s, n := range r.Counts {
		byStatus[s] = float64(n)
	}
	one := func(typ string, v float64) family {
		return family{typ: typ, samples: map[string]float64{"": v}}
	}
	return map[string]family{
		prefix + "_" + r.Unit:                      {typ: "GAUGE", samples: byStatus},
		prefix + "_requests_total":                 one("COUNTER", float64(r.Requests)),
		prefix + "_throttled_total":                one("COUNTER", float64(r.Throttled)),
		prefix + "_duration_seconds":               one("GAUGE", r.Duration.Seconds()),
		prefix + "_exit_code":                      one("GAUGE", float64(r.ExitCode)),
		prefix + "_last_run_timestamp_seconds":     one("GAUGE", unixSeconds(r.End)),
		prefix + "_last_success_timestamp_seconds": one("GAUGE", lastSuccess),
	}
}

// check compares what was read back with what was wanted, series by series.
func check(t *testing.T, got, want map[string]family) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		w := want[name]
		if g.typ != w.typ {
			t.Errorf("%s is a %s, want a %s", name, g.typ, w.typ)
		}
		if !maps.Equal(g.samples, w.samples) {
			t.Errorf("%s = %v, want %v", name, g.samples, w.samples)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is written but not wanted", name)
		}
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		prefix      string
		run         Run
		lastSuccess float64 // with no file before
	}{
		{"clean run", ProvisionPrefix, Run{
			Unit: "rows", Statuses: provisionStatuses, Counts: map[string]int{"ok": 12},
			Requests: 13, Throttled: 1, Duration: 14200 * time.Millisecond, ExitCode: 0, End: end,
		}, endSeconds},
		{"invalid and failed rows", ProvisionPrefix, Run{
			Unit: "rows", Statuses: provisionStatuses, Counts: map[string]int{"ok": 7, "invalid": 2, "failed": 1},
			Requests: 30, Throttled: 4, Duration: time.Minute, ExitCode: 1, End: end,
		}, 0},
		{"aborted on 401", ProvisionPrefix, Run{
			Unit: "rows", Statuses: provisionStatuses, Counts: map[string]int{"failed": 3, "not_attempted": 97},
			Requests: 3, Duration: 800 * time.Millisecond, ExitCode: 3, End: end,
		}, 0},
		{"interrupted", ProvisionPrefix, Run{
			Unit: "rows", Statuses: provisionStatuses, Counts: map[string]int{"ok": 40, "not_attempted": 60},
			Requests: 41, Duration: 40 * time.Second, ExitCode: 130, End: end,
		}, 0},
		{"nothing to do", ProvisionPrefix, Run{
			Unit: "rows", Statuses: provisionStatuses, End: end,
		}, endSeconds},
		{"mail", MailPrefix, Run{
			Unit: "messages", Statuses: mailStatuses, Counts: map[string]int{"sent": 10, "failed": 1},
			Requests: 12, Throttled: 1, Duration: 6 * time.Second, ExitCode: 1, End: end,
		}, 0},
		{"a status outside the list is kept", ProvisionPrefix, Run{
			Unit: "rows", Statuses: []string{"ok"}, Counts: map[string]int{"ok": 1, "odd": 2},
			Requests: 3, ExitCode: 1, End: end,
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "ideanote.prom")
			if err := WriteFile(path, tt.prefix, tt.run); err != nil {
				t.Fatal(err)
			}
			check(t, readBack(t, path), want(tt.prefix, tt.run, tt.lastSuccess))
		})
	}
}

// TestWriteFileGolden pins the exact text, HELP and TYPE lines included; go test -update
// rewrites it.
func TestWriteFileGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ideanote.prom")
	r := Run{
		Unit: "rows", Statuses: provisionStatuses, Counts: map[string]int{"ok": 12},
		Requests: 13, Throttled: 1, Duration: 14200 * time.Millisecond, End: end,
	}
	if err := WriteFile(path, ProvisionPrefix, r); err != nil {
		t.Fatal(err)
	}
	got := testfile.Read(t, path)
	golden := filepath.Join("testdata", "provision.prom")
	if *update {
		testfile.WriteMode(t, golden, got, 0o644)
	}
	wantText := testfile.Read(t, golden)
	if got != wantText {
		t.Errorf("written:\n%s\nwant (%s):\n%s", got, golden, wantText)
	}
}

// TestReplaceLeavesOnlyTheFile replaces a file a few times, then looks for leftovers.
func TestReplaceLeavesOnlyTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ideanote.prom")
	for i := range 3 {
		r := Run{Unit: "rows", Statuses: provisionStatuses, ExitCode: i, End: end.Add(time.Duration(i) * time.Hour)}
		if err := WriteFile(path, ProvisionPrefix, r); err != nil {
			t.Fatal(err)
		}
	}
	names := testfile.Names(t, dir)
	if !slices.Equal(names, []string{"ideanote.prom"}) {
		t.Errorf("folder holds %v, want only ideanote.prom", names)
	}
}

func TestWriteFileRefuses(t *testing.T) {
	t.Parallel()
	good := Run{Unit: "rows", Statuses: provisionStatuses, End: end}
	tests := []struct {
		name    string
		path    func(t *testing.T, dir string) string
		prefix  string
		run     func(r Run) Run
		wantErr []string // all in the message
	}{
		{
			name:    "folder does not exist",
			path:    func(t *testing.T, dir string) string { return filepath.Join(dir, "missing", "ideanote.prom") },
			wantErr: []string{"missing", "does not exist"},
		},
		{
			name: "folder is a file",
			path: func(t *testing.T, dir string) string {
				f := filepath.Join(dir, "plain")
				testfile.WriteMode(t, f, "", 0o644)
				return filepath.Join(f, "ideanote.prom")
			},
			wantErr: []string{"plain", "not a folder"},
		},
		{
			name:    "path is a folder",
			path:    func(t *testing.T, dir string) string { return dir },
			wantErr: []string{"metrics file"},
		},
		{
			name:    "no end time",
			run:     func(r Run) Run { r.End = time.Time{}; return r },
			wantErr: []string{"end time"},
		},
		{
			name:    "no unit",
			run:     func(r Run) Run { r.Unit = ""; return r },
			wantErr: []string{"unit"},
		},
		{
			name:    "prefix not a metric name",
			prefix:  "ideanote-provision",
			wantErr: []string{"ideanote-provision"},
		},
		{
			name:    "status not UTF-8",
			run:     func(r Run) Run { r.Counts = map[string]int{"\xff": 1}; return r },
			wantErr: []string{"status"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "ideanote.prom")
			if tt.path != nil {
				path = tt.path(t, dir)
			}
			prefix := ProvisionPrefix
			if tt.prefix != "" {
				prefix = tt.prefix
			}
			r := good
			if tt.run != nil {
				r = tt.run(r)
			}
			err := WriteFile(path, prefix, r)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.path == nil {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("%s was written anyway (%v)", path, err)
				}
			}
		})
	}
}

// TestWriteFileRefusesPlantedFiles checks that a symbolic link or another user's file at the
// metrics path is refused with a message naming it, and left as it was.
func TestWriteFileRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	for _, planted := range []string{"symlink", "another user's"} {
		t.Run(planted, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "ideanote.prom")
			how, why := plant.Symlink, "is a symbolic link"
			if planted != "symlink" {
				how, why = plant.OtherUsers, "belongs to another user"
			}
			untouched := plant.Victim(t, how, path, 0o600)
			err := WriteFile(path, ProvisionPrefix, Run{Unit: "rows", Statuses: provisionStatuses, End: end})
			if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), path+" "+why) {
				t.Errorf("WriteFile = %v, want safefile.ErrUnsafe saying %s %s", err, path, why)
			}
			untouched()
			if ents, _ := os.ReadDir(dir); len(ents) != map[bool]int{true: 2, false: 1}[planted == "symlink"] {
				t.Errorf("left in the folder: %v", ents)
			}
		})
	}
}

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "metrics")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ideanote.prom")
	err = WriteFile(path, ProvisionPrefix, Run{
		Unit:     "rows",
		Statuses: []string{"ok", "failed"},
		Counts:   map[string]int{"ok": 2},
		Requests: 2,
		Duration: 1500 * time.Millisecond,
		End:      time.Unix(1_795_400_000, 0),
	})
	if err != nil {
		panic(err)
	}
	text, _ := os.ReadFile(path)
	for line := range strings.Lines(string(text)) {
		if !strings.HasPrefix(line, "#") {
			fmt.Print(line)
		}
	}
	// Output:
	// ideanote_provision_duration_seconds 1.5
	// ideanote_provision_exit_code 0
	// ideanote_provision_last_run_timestamp_seconds 1.7954e+09
	// ideanote_provision_last_success_timestamp_seconds 1.7954e+09
	// ideanote_provision_requests_total 2
	// ideanote_provision_rows{status="failed"} 0
	// ideanote_provision_rows{status="ok"} 2
	// ideanote_provision_throttled_total 0
}

// TestWriteFileRemovesStale: a run killed between writing the temporary file and renaming it
// left it beside the metrics file; the next write removes it once safefile.StaleAge old, and
// leaves one younger (perhaps another run's in flight) and another file's.
func TestWriteFileRemovesStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ideanote.prom")
	old := time.Now().Add(-2 * safefile.StaleAge)
	for name, mtime := range map[string]time.Time{
		".ideanote.prom.123456.tmp": old, ".ideanote.prom.7.tmp": time.Now(), ".other.prom.123456.tmp": old,
	} {
		p := filepath.Join(dir, name)
		testfile.Write(t, p, "# a killed run's\n")
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(path, ProvisionPrefix, Run{Unit: "rows", Statuses: provisionStatuses, End: end}); err != nil {
		t.Fatal(err)
	}
	names := testfile.Names(t, dir)
	if want := []string{".ideanote.prom.7.tmp", ".other.prom.123456.tmp", "ideanote.prom"}; !slices.Equal(names, want) {
		t.Errorf("folder holds %q, want %q", names, want)
	}
}
