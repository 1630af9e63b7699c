package progress

import (
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/ideanote-provision/ideanote-provision/mail"
)

// MailBar is the bar of a mail run. The lines settled before sending (skipped, or kept from an
// earlier run) come first: they take no time, and count in neither the rate nor the time left.
type MailBar struct {
	*Bar
	// AfterProvisioning says that the mail run follows the provisioning run of the same
	// command (--mail), whose closing lines say how to finish both.
	AfterProvisioning bool

	known    int          // lines still to come that were settled before sending
	deferred atomic.Int64 // 4xx answers so far, read by the bar's goroutine
}

// NewMail starts the bar of a mail run of lines report lines, messages of them to send, as New
// does.
func NewMail(mode string, stderr io.Writer, log *slog.Logger, lines, messages int) *MailBar {
	m := &MailBar{known: lines - messages}
	m.Bar = New(Mailing, mode, stderr, log, nil, func() int { return int(m.deferred.Load()) })
	m.SetTotal(int64(lines))
	return m
}

// AddMessage counts one person's result. Results come one at a time, in the report's order.
func (m *MailBar) AddMessage(r mail.Result) {
	earlier := m.known > 0
	if earlier {
		m.known--
	}
	m.deferred.Add(int64(r.Deferred))
	delivered := r.Status == mail.StatusSent || r.Status == mail.StatusWritten || r.Status == mail.StatusRendered
	m.Step(string(r.Status), r.Status.Success(), !earlier && r.Status != mail.StatusNotAttempted, !earlier && delivered, 0)
}
