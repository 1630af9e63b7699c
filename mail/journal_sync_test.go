package mail

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// callsWriter records the calls made to it, in order.
type callsWriter struct {
	calls   []string
	syncErr error
}

func (w *callsWriter) write(r Result) error { w.calls = append(w.calls, "write "+r.Email); return nil }
func (w *callsWriter) Sync() error          { w.calls = append(w.calls, "sync"); return w.syncErr }
func (w *callsWriter) Close() error         { w.calls = append(w.calls, "close"); return nil }

// TestJournalLineIsSyncedBeforeTheTransaction checks that journal.start, which each message
// calls before its transaction (TestJournalBeforeTheTransaction), returns only once its line is
// synced to disk: after a power cut during the transaction, the line is there to make the
// person unknown rather than mailed again.
func TestJournalLineIsSyncedBeforeTheTransaction(t *testing.T) {
	t.Parallel()
	w := &callsWriter{}
	jl := &journal{w: w}
	if err := jl.start(Result{Row: 2, Email: "ana@example.com", MessageID: "<a1@acme.example>"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"write ana@example.com", "sync"}; !slices.Equal(w.calls, want) {
		t.Errorf("calls = %v, want %v", w.calls, want)
	}
	// A line that cannot be synced is not journaled: the message is not sent.
	w.syncErr = errors.New("input/output error")
	if err := jl.start(Result{Row: 3, Email: "zoe@example.com", MessageID: "<z1@acme.example>"}, time.Now()); !errors.Is(err, w.syncErr) {
		t.Errorf("start with the sync failing: err = %v, want the sync's", err)
	}
}
