package mail

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// BenchmarkSend10k mails 10,000 people through the fake SMTP server on loopback, at no rate
// limit over 8 connections: what the mailer itself costs, templates, MIME and mail report
// included. Run with go test -bench Send10k -benchtime 3x ./mail.
func BenchmarkSend10k(b *testing.B) {
	const n = 10000
	srv := mailtest.NewUnstartedServer()
	srv.MaxRecorded = 1
	srv.Start()
	defer srv.Close()
	ps := make([]person, n)
	for i := range ps {
		ps[i] = person{row: i + 2, email: fmt.Sprintf("person%05d@example.com", i), name: fmt.Sprintf("Zoë Person %d", i),
			team: "Ventes", locale: []string{"en", "fr-CA"}[i%2], status: "ok", token: fmt.Sprintf("tok-%08d-abcdefghijklmnop", i)}
	}
	dir := b.TempDir()
	o := Options{Report: writeReport(b, dir, ps), MailReport: filepath.Join(dir, "mail.csv"), SMTPURL: srv.URL(),
		From: "IT <it@acme.example>", Concurrency: 8, Overwrite: true}
	for b.Loop() {
		sum, err := Run(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Counts[StatusSent] != n {
			b.Fatalf("sent %d, want %d", sum.Counts[StatusSent], n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(srv.Connections())/float64(b.N), "conns/op")
}

// BenchmarkJournalStart is the cost of the line each message writes to the journal of
// messages in flight before its SMTP transaction: one write(2) of a CSV line and its fsync.
func BenchmarkJournalStart(b *testing.B) {
	jl, err := createJournal(filepath.Join(b.TempDir(), "mail.csv"))
	if err != nil {
		b.Fatal(err)
	}
	defer jl.w.Close()
	r := Result{Row: 2, Email: "person00001@example.com", MessageID: "<kxx4m7swc3c44hwo3yi3ii35tu@acme.example>", LinkSHA256: LinkHash("https://acme.ideanote.io/login/session/tok")}
	now := time.Now()
	for b.Loop() {
		if err := jl.start(r, now); err != nil {
			b.Fatal(err)
		}
	}
}
