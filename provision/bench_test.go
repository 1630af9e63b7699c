package provision_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/people"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
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
				hc = &http.Client{Transport: cannedTransport{}}
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
				Client: &provision.Client{BaseURL: srv.URL, SpaceID: provisiontest.DefaultSpaceID,
					APIToken: provisiontest.DefaultAPIToken, HTTPClient: hc},
				Pacer:       provision.NewPacer(0, 1),
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

// BenchmarkClient measures one request through Client.Upsert against the in-process fake.
func BenchmarkClient(b *testing.B) {
	srv := provisiontest.NewServer()
	defer srv.Close()
	c := &provision.Client{BaseURL: srv.URL, SpaceID: provisiontest.DefaultSpaceID,
		APIToken: provisiontest.DefaultAPIToken, HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	u := provision.User{Email: "zoe.brontë@example.com", Sub: "E100", Name: "Zoë Brontë", Team: "Forschung & Entwicklung", Locale: "de"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Upsert(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode measures making the body of one request.
func BenchmarkEncode(b *testing.B) {
	c := &provision.Client{SpaceID: provisiontest.DefaultSpaceID, APIToken: provisiontest.DefaultAPIToken}
	u := provision.User{Email: "zoe.bronte@example.com", Sub: "E100", Name: "Zoë Brontë", Team: "Forschung & Entwicklung", Locale: "de",
		AvatarURL: "https://avatars.example.com/1.png"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(u); err != nil {
			b.Fatal(err)
		}
	}
}

// cannedTransport answers every request with the same session, without a network: it shows
// what Client.Post itself costs.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"kind":"CUSTOM","sessionToken":"3f1c9a0b2e4d5f60718293a4b5c6d7e8f901_1795459200000","user":{"id":"usr_00012345"}}`)),
		Request: r}, nil
}

// BenchmarkPost measures Client.Encode and Client.Post for one row, transport excluded.
func BenchmarkPost(b *testing.B) {
	c := &provision.Client{BaseURL: "https://api.example.com", SpaceID: provisiontest.DefaultSpaceID,
		APIToken: provisiontest.DefaultAPIToken, HTTPClient: &http.Client{Transport: cannedTransport{}}}
	u := provision.User{Email: "zoe.bronte@example.com", Sub: "E100", Name: "Zoë Brontë", Team: "Forschung & Entwicklung", Locale: "de"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Upsert(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}
