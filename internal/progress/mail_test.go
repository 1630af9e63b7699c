package progress

import (
	"io"
	"log/slog"
	"testing"

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
