package mail

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// TestNoReplyToTheEndIsUnknown checks that a message whose end (the final ".") went but whose
// reply never came, the connection dropped or the wait timed out, is not sent again: the
// server may have accepted it. Its person is unknown, named in the log with the message_id and
// the way to mail them on purpose, and kept unknown by --resume; the others are mailed.
func TestNoReplyToTheEndIsUnknown(t *testing.T) {
	t.Parallel()
	t.Run("dropped", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.NewServer()
		defer srv.Close()
		srv.ReplyToMessage(2, mailtest.Drop) // Zoë's: the connection dies while it waits for its answer
		o, logs := testOptions(t, srv, people)
		o.Concurrency = 1
		sum, err := Run(context.Background(), o)
		if !errors.Is(err, ErrFailed) {
			t.Errorf("err = %v, want ErrFailed (exit 1: Zoë needs the operator)", err)
		}
		path := DefaultMailReport(o.Report)
		want := map[int]string{2: "sent", 3: "unknown", 4: "skipped", 5: "sent", 6: "skipped", 7: "sent"}
		if got := statuses(t, path); !maps.Equal(got, want) {
			t.Errorf("statuses = %v, want %v", got, want)
		}
		if srv.Received() != 4 || srv.Count() != 3 || sum.Retries != 0 || sum.Counts[StatusUnknown] != 1 {
			t.Errorf("%d messages received, %d accepted, %d retries, counts %v; want 4, 3, 0 and 1 unknown",
				srv.Received(), srv.Count(), sum.Retries, sum.Counts)
		}
		zoe := readMailReport(t, path)[3]
		if zoe[3] == "" || !strings.Contains(zoe[5], "--resend") || zoe[4] != "1" {
			t.Errorf("Zoë's line %v: want her message_id, 1 attempt, and the next step", zoe)
		}
		if log := logs.String(); !strings.Contains(log, "email=zoe@example.com message_id="+zoe[3]) || !strings.Contains(log, "--resend") {
			t.Errorf("the log does not name Zoë's message, or say what to do:\n%s", log)
		}
		o.Resume = true
		if _, err := Run(context.Background(), o); !errors.Is(err, ErrFailed) {
			t.Errorf("resume: err = %v, want ErrFailed", err)
		}
		if srv.Received() != 4 {
			t.Errorf("the resume sent %d more messages", srv.Received()-4)
		}
		if got := statuses(t, path); !maps.Equal(got, want) {
			t.Errorf("after the resume, statuses = %v, want %v", got, want)
		}
	})
	t.Run("timed out", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.NewUnstartedServer()
		srv.Latency = 400 * time.Millisecond // longer than the timeout: no reply comes in time
		srv.Start()
		defer srv.Close()
		o, _ := testOptions(t, srv, people[:1])
		o.Timeout, o.MaxAttempts = 150*time.Millisecond, 3
		if _, err := Run(context.Background(), o); !errors.Is(err, ErrFailed) {
			t.Errorf("err = %v, want ErrFailed", err)
		}
		srv.Close() // waits for the server to have read every message it was sent
		if got := statuses(t, DefaultMailReport(o.Report))[2]; got != "unknown" || srv.Received() != 1 {
			t.Errorf("status %s after %d messages received; want unknown after 1", got, srv.Received())
		}
	})
}
