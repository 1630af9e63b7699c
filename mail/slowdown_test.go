package mail

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// clockedDeliverer gives the server, outside the bubble, the bubble's time of each delivery.
type clockedDeliverer struct {
	deliverer
	now *atomic.Int64
}

func (d clockedDeliverer) deliver(ctx context.Context, m *outgoing) error {
	d.now.Store(time.Now().UnixNano())
	return d.deliverer.deliver(ctx, m)
}

// runLimited runs o against srv in a bubble, the server's windows on the bubble's clock.
func runLimited(t *testing.T, srv *mailtest.Server, o Options) (Summary, error, time.Duration) {
	t.Helper()
	var now atomic.Int64
	srv.Now = func() time.Time { return time.Unix(0, now.Load()) }
	var (
		sum  Summary
		err  error
		took time.Duration
	)
	synctest.Test(t, func(t *testing.T) {
		o.Wait = nil // real timers, which the bubble fakes
		s, perr := prepare(o)
		if perr != nil {
			t.Fatal(perr)
		}
		start := time.Now()
		sum, err = s.run(t.Context(), func() deliverer {
			return clockedDeliverer{newSMTPConn(s.smtp, s.o.TLS, s.o.Timeout), &now}
		})
		took = time.Since(start)
	})
	return sum, err, took
}

// A provider limiting the sender to 10 messages a minute (Postfix's 450 4.7.1) slows the run
// down: all 40 people are mailed in one run at the default rate, none failed.
func TestSlowDownMailsEveryone(t *testing.T) {
	srv := mailtest.NewUnstartedServer()
	srv.Limit = mailtest.Limit{Messages: 10, Per: time.Minute}
	srv.Start()
	defer srv.Close()
	o, logs := testOptions(t, srv, crowd(40))
	o.Rate = 2
	sum, err, took := runLimited(t, srv, o)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	if sum.Counts[StatusSent] != 40 || srv.Count() != 40 {
		t.Fatalf("sent %d, server accepted %d, want 40: %+v", sum.Counts[StatusSent], srv.Count(), sum)
	}
	for row, st := range statuses(t, DefaultMailReport(o.Report)) {
		if st != "sent" {
			t.Errorf("row %d: %s", row, st)
		}
	}
	// Four windows at least; the 450s the price of finding the limit, not one a message a try.
	if took < 3*time.Minute {
		t.Errorf("40 messages at 10 a minute took %v", took)
	}
	t.Logf("40 messages at 10 a minute: %v, %d refused (450 4.7.1), %d attempts", took, srv.Limited(), sum.Attempts)
	if srv.Limited() > 40 {
		t.Errorf("%d messages refused for 40 sent: the run does not slow down", srv.Limited())
	}
	// The log says why the run waits, in the server's words, now and then: not silent for
	// minutes, not a line a refusal.
	n := strings.Count(logs.String(), "the SMTP server asks to slow down")
	if n == 0 || !strings.Contains(logs.String(), "too much mail") || n > int(took/slowDownEvery)+1 || n >= srv.Limited() {
		t.Errorf("%d log lines of the slow-down for %d refusals in %v:\n%s", n, srv.Limited(), took, logs)
	}
}

// A server that only ever asks to slow down stops the run after --max-wait, not after
// --max-attempts: slow-downs do not use up a message's attempts.
func TestSlowDownMaxWait(t *testing.T) {
	srv := mailtest.NewUnstartedServer()
	srv.Limit = mailtest.Limit{Messages: 2, Per: 24 * time.Hour}
	srv.Start()
	defer srv.Close()
	o, _ := testOptions(t, srv, crowd(5))
	o.Rate, o.MaxAttempts, o.MaxWait, o.Concurrency = 2, 2, 10*time.Minute, 1
	sum, err, took := runLimited(t, srv, o)
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "accepted nothing") {
		t.Fatalf("err = %v, want ErrAborted after --max-wait", err)
	}
	if sum.Counts[StatusSent] != 2 || took < 10*time.Minute || took > 12*time.Minute {
		t.Errorf("sent %d in %v, want 2 then an abort after 10m: %+v", sum.Counts[StatusSent], took, sum)
	}
	got := statuses(t, DefaultMailReport(o.Report))
	if got[4] != "failed" || got[5] != "not_attempted" || got[6] != "not_attempted" {
		t.Errorf("statuses %v: want the third failed (refused), the rest not_attempted", got)
	}
}

// A quota spent stops the run at once: this person and the rest not_attempted, the mail report
// complete.
func TestQuotaAborts(t *testing.T) {
	for _, reply := range []mailtest.Reply{
		{Code: 550, Text: "5.4.5 Daily sending quota exceeded"},
		{Code: 554, Text: "5.7.0 too many messages"},
		{Code: 454, Text: "4.7.0 Throttling failure: Daily message quota exceeded"},
	} {
		t.Run(reply.Text, func(t *testing.T) {
			srv := mailtest.NewServer()
			defer srv.Close()
			ps := crowd(6)
			srv.ReplyToRcpt(ps[2].email, reply)
			o, _ := testOptions(t, srv, ps)
			o.Concurrency = 1
			sum, err := Run(t.Context(), o)
			if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "quota") {
				t.Fatalf("err = %v, want ErrAborted for the quota", err)
			}
			got := statuses(t, DefaultMailReport(o.Report))
			want := map[int]string{2: "sent", 3: "sent", 4: "not_attempted", 5: "not_attempted", 6: "not_attempted", 7: "not_attempted"}
			for row, st := range want {
				if got[row] != st {
					t.Errorf("row %d: %s, want %s", row, got[row], st)
				}
			}
			if len(got) != 6 || srv.Count() != 2 || sum.Counts[StatusNotAttempted] != 4 {
				t.Errorf("mail report %v, server accepted %d, summary %+v", got, srv.Count(), sum)
			}
			if cell := readMailReport(t, DefaultMailReport(o.Report))[4][5]; !strings.Contains(cell, "quota") {
				t.Errorf("row 4's error %q does not say the quota", cell)
			}
		})
	}
}
