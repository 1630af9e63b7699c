package report_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// BenchmarkWrite measures writing one report line, flushed to the file as a run does.
// It runs only with -bench; see BENCHMARKS.md.
func BenchmarkWrite(b *testing.B) {
	links, err := report.NewLinks("acme", "", "", "")
	if err != nil {
		b.Fatal(err)
	}
	user := provision.User{Email: "zoe.bronte@example.com", Sub: "E100", Name: "Zoë Brontë",
		Team: "Forschung & Entwicklung", Locale: "de"}
	for _, tc := range []struct {
		name string
		res  provision.Result
	}{
		{"ok", provision.Result{Row: provision.Row{Line: 123456, User: user}, Status: provision.StatusOK,
			UserID: "usr_00012345", Token: "3f1c9a0b2e4d5f60718293a4b5c6d7e8f901_1795459200000", Attempts: 1, HTTPStatus: 200}},
		{"failed", provision.Result{Row: provision.Row{Line: 123456, User: user}, Status: provision.StatusFailed,
			Attempts: 6, HTTPStatus: 503, Err: errors.New("giving up after 6 attempts: HTTP 503 Service Unavailable")}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w, err := report.Create(filepath.Join(b.TempDir(), "report.csv"), report.New, links)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			res := tc.res
			b.ReportAllocs()
			for b.Loop() {
				res.Finished = time.Now()
				if err := w.Write(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
