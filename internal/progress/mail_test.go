package progress

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/syncbuf"
	"github.com/ideanote-provision/ideanote-provision/mail"
)

// The lines settled before sending come first and count as done, never as sent or accepted:
// they take no time, and would make the rate and the time left lie. The 4xx answers reach
// the bar's count of deferrals.
func TestMailBarCountsOnlyWhatItSends(t *testing.T) {
	m := NewMail("never", io.Discard, slog.New(slog.DiscardHandler), 5, 3)
	defer m.Finish()
	for _, r := range []mail.Result{
		{Status: mail.StatusSkipped},
		{Status: mail.StatusSent}, // kept from an earlier run
		{Status: mail.StatusSent, Deferred: 2},
		{Status: mail.StatusNotAttempted},
		{Status: mail.StatusFailed, Deferred: 1},
	} {
		m.AddMessage(r)
	}
	m.mu.Lock()
	done, sent, accepted, total := m.done, m.sent, len(m.accepted), m.total
	m.mu.Unlock()
	if done != 5 || sent != 2 || accepted != 1 || total != 5 {
		t.Errorf("done %d sent %d accepted %d total %d, want 5 2 1 5", done, sent, accepted, total)
	}
	if got := m.throttles(); got != 3 {
		t.Errorf("deferred %d, want 3", got)
	}
}

// TestMailBarNeverStillLogs checks that mail --progress never logs a progress line every 30 s,
// as a run without a terminal does: it logged none.
func TestMailBarNeverStillLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		m := NewMail("never", io.Discard, slog.New(slog.NewTextHandler(&logs, nil)), 40, 40)
		// One message a second, half a second off the log's ticks.
		time.Sleep(time.Second / 2)
		for range 31 {
			m.AddMessage(mail.Result{Status: mail.StatusSent})
			time.Sleep(time.Second)
		}
		m.Finish()
		line := logs.String()
		if n := strings.Count(line, "msg=progress"); n != 1 {
			t.Errorf("%d progress lines in 31.5 s, want 1:\n%s", n, line)
		}
		for _, want := range []string{"people_done=30 ok=30 sent_per_sec=1 deferred_4xx=0 people_total_est=40 eta_s=10"} {
			if !strings.Contains(line, want) {
				t.Errorf("the progress line %q does not hold %q", line, want)
			}
		}
	})
}

// TestMailBarLastFrame checks the last frame of a mail run of 25 messages in 30 ms: it showed
// "1.00/s sent, about 24s left", drawn at the first message and never since.
func TestMailBarLastFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := new(syncbuf.Buffer)
		m := NewMail("always", out, slog.New(slog.DiscardHandler), 25, 25)
		for range 25 {
			time.Sleep(time.Millisecond)
			m.AddMessage(mail.Result{Status: mail.StatusSent})
		}
		frame := lastFrame(out.String())
		m.Finish()
		if !strings.Contains(frame, "(25/25)") || !strings.Contains(frame, "25.00/s sent") || strings.Contains(frame, "left") {
			t.Errorf("the last frame shows %q, want (25/25), 25.00/s sent and no time left", frame)
		}
	})
}
