package state

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecordDurability measures what the store costs the emitting goroutine per ok row
// under the run's conditions: each row's report line written first (write(2), as the report
// does), and the report synced before every commit (BeforeCommit). "batch" commits every
// DefaultMaxBatch rows (or second), its records journaled by Record; "commit per row" commits
// every record.
func BenchmarkRecordDurability(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{{"batch", DefaultMaxBatch}, {"commit per row", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			s, err := Open(filepath.Join(dir, "state.db"), Options{MaxBatch: bc.maxBatch, FlushInterval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rep, err := os.Create(filepath.Join(dir, "report.csv"))
			if err != nil {
				b.Fatal(err)
			}
			defer rep.Close()
			s.BeforeCommit(rep.Sync)
			fp := Fingerprint(ana)
			line := []byte("2,ana@example.com,E1,Ana,Eng,es-ES,ok,u-1,tok,https://acme.ideanote.io/login/tok,,1,200,,2026-12-07T18:00:00Z\n")
			b.ResetTimer()
			for i := range b.N {
				if _, err := rep.Write(line); err != nil {
					b.Fatal(err)
				}
				if err := s.Record(fmt.Sprintf("email:user%d@example.com", i), Entry{Fingerprint: fp, UserID: "u", At: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
