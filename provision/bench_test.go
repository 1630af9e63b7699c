package provision_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/people"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// These benchmarks run only with -bench; see BENCHMARKS.md for the commands and figures.

// genCSV returns an input of n realistic rows.
func genCSV(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := people.Write(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkJob measures the whole path of a run, one op per row: reader, pool (no pacing),
// client, the in-process fake and the report writer. Allocations include the fake's.
func BenchmarkJob(b *testing.B) {
	for _, tc := range []struct {
		name        string
		concurrency int
		canned      bool // no network and no fake: what the program itself costs
	}{
		{"concurrency=32", 32, false},
		{"concurrency=64", 64, false},
		{"concurrency=32/transport=none", 32, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := genCSV(b, b.N)
			srv := provisiontest.NewServer()
			defer srv.Close()
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConns, t.MaxIdleConnsPerHost = tc.concurrency*2, tc.concurrency*2
			hc := &http.Client{Transport: t}
			defer t.CloseIdleConnections()
			if tc.canned {
				hc = &http.Client{Transport: provisiontest.CannedTransport{}}
			}
			links, err := report.NewLinks("acme", "", "", "")
			if err != nil {
				b.Fatal(err)
			}
			w, err := report.Create(filepath.Join(b.TempDir(), "report.csv"), report.New, links)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			r, err := input.NewCSV(bytes.NewReader(data), input.Options{})
			if err != nil {
				b.Fatal(err)
			}
			job := &provision.Job{Source: r, Emit: w.Write, Pool: &provision.Pool{
				Endpoint: &ideanote.Client{BaseURL: srv.URL, SpaceID: provisiontest.DefaultSpaceID,
					APIToken: provisiontest.DefaultAPIToken, HTTPClient: hc},
				Pacer:       pace.NewWithPolicy(pace.Fixed(0), 1),
				Concurrency: tc.concurrency,
			}}
			sum, err := job.Run(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			if sum.Counts[provision.StatusOK] != b.N {
				b.Fatalf("ok rows = %d, want %d (%v)", sum.Counts[provision.StatusOK], b.N, sum.Counts)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkReader measures reading and validating one row, duplicate detection included.
func BenchmarkReader(b *testing.B) {
	data := genCSV(b, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	r, err := input.NewCSV(bytes.NewReader(data), input.Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if row.Err != nil {
			b.Fatal(row.Err)
		}
		n++
	}
	if n != b.N {
		b.Fatalf("read %d rows, want %d", n, b.N)
	}
}
