package mail

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// journalChecker is a deliverer that, as each transaction starts, reads the journal of
// messages in flight and records whether it holds the message.
type journalChecker struct {
	path    string // the journal
	mu      sync.Mutex
	missing []string // the messages not in the journal when their transaction started
	seen    int
}

func (c *journalChecker) newDeliverer() deliverer { return c }

func (c *journalChecker) deliver(_ context.Context, m *outgoing) error {
	got := make(map[string]Result)
	err := readReportInto(got, nil, c.path, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen++
	r, ok := got[provision.EmailKey(m.job.email)]
	if err != nil || !ok || r.Status != journalStatus || r.MessageID != m.id || r.LinkSHA256 != m.job.linkHash || r.SentAt.IsZero() {
		c.missing = append(c.missing, fmt.Sprintf("%s (%+v, %v)", m.id, r, err))
	}
	return nil
}

func (c *journalChecker) close() {}

// TestJournalBeforeTheTransaction checks that each message is in the journal of messages in
// flight before its transaction starts, and that a run that ends removes the journal and
// leaves a mail report of one line per person.
func TestJournalBeforeTheTransaction(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.SMTPURL = "smtp://127.0.0.1:1" // the transport is the checker's
	s, err := prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &journalChecker{path: JournalPath(s.mailReport)}
	if _, err := s.run(context.Background(), c.newDeliverer); err != nil {
		t.Fatal(err)
	}
	if c.seen != 4 || len(c.missing) > 0 {
		t.Errorf("%d transactions; not in the journal at their start: %v", c.seen, c.missing)
	}
	if _, err := os.Stat(JournalPath(s.mailReport)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is left after a complete run: %v", err)
	}
	if got := statuses(t, s.mailReport); !maps.Equal(got, wantStatuses) {
		t.Errorf("statuses = %v, want %v: one line per person", got, wantStatuses)
	}
}

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

// TestInFlightAtAKillIsUnknown resumes the run of people killed while Zoë's message was in
// flight: Ana was sent and recorded, Cara and Dan not started. Zoë is not mailed again but
// unknown, named in the log, kept so by the next resume, and mailed on purpose by Resend.
func TestInFlightAtAKillIsUnknown(t *testing.T) {
	t.Parallel()
	srv, o, logs := serverOptions(t)
	path := DefaultMailReport(o.Report)
	testfile.Write(t, path, mailReportHeader+
		"2,ana@example.com,sent,<a1@acme.example>,1,,2026-11-23T03:00:00Z,"+hashOf("tok-ana")+"\n")
	testfile.Write(t, JournalPath(path), mailReportHeader+
		"2,ana@example.com,sending,<a1@acme.example>,,,2026-11-23T03:00:00Z,"+hashOf("tok-ana")+"\n"+
		"3,zoe@example.com,sending,<z1@acme.example>,,,2026-11-23T03:00:00Z,"+hashOf("tok-zoe")+"\n")
	withZoeUnknown := peopleStatuses("sent", map[int]string{3: "unknown"})

	t.Run("refused without --resume", func(t *testing.T) { refusedWithoutResume(t, srv, o, ".sending record 2 people") }) // Ana and Zoë
	t.Run("resume", func(t *testing.T) {
		o := o
		o.Resume = true
		sum, err := Run(context.Background(), o)
		if !errors.Is(err, ErrFailed) {
			t.Errorf("err = %v, want ErrFailed (exit 1: Zoë needs the operator)", err)
		}
		if want := []string{"cara@example.com", "dan@example.com"}; !slices.Equal(mailed(srv), want) {
			t.Errorf("sent to %v, want %v", mailed(srv), want)
		}
		if got := statuses(t, path); !maps.Equal(got, withZoeUnknown) {
			t.Errorf("statuses = %v, want %v", got, withZoeUnknown)
		}
		if l := readMailReport(t, path)[3]; l[3] != "<z1@acme.example>" || !strings.Contains(l[5], "--resend") || l[7] != hashOf("tok-zoe") {
			t.Errorf("Zoë's line %v: want her message_id, link hash and the next step", l)
		}
		if sum.Counts[StatusUnknown] != 1 || sum.Counts[StatusSent] != 3 {
			t.Errorf("counts %v, want 1 unknown and 3 sent", sum.Counts)
		}
		if log := logs.String(); !strings.Contains(log, "email=zoe@example.com message_id=<z1@acme.example>") || !strings.Contains(log, "unknown=1") {
			t.Errorf("the log does not name Zoë, or count her:\n%s", log)
		}
		if _, err := os.Stat(JournalPath(path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the journal is left after a complete run: %v", err)
		}
	})
	t.Run("resume again keeps her unknown", func(t *testing.T) {
		if err := resumeSendsNothing(t, srv, o); !errors.Is(err, ErrFailed) {
			t.Errorf("err = %v, want ErrFailed", err)
		}
		if got := statuses(t, path); !maps.Equal(got, withZoeUnknown) {
			t.Errorf("statuses = %v, want %v", got, withZoeUnknown)
		}
	})
	t.Run("resend needs resume, and a person of the report", func(t *testing.T) {
		for _, o := range []Options{
			func() Options { o := o; o.Resend = []string{"zoe@example.com"}; return o }(),
			func() Options {
				o := o
				o.Resume, o.Resend = true, []string{"zoe@example.com", "nobody@example.com"}
				return o
			}(),
		} {
			var ce *provision.ConfigError
			if _, err := Run(context.Background(), o); !errors.As(err, &ce) {
				t.Errorf("Resend %v, Resume %v: err = %v, want a provision.ConfigError", o.Resend, o.Resume, err)
			}
		}
	})
	t.Run("resend mails her once", func(t *testing.T) {
		o := o
		o.Resume, o.Resend = true, []string{"Zoe@Example.com"}
		before := srv.Count()
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if want := []string{"zoe@example.com"}; !slices.Equal(mailedSince(srv, before), want) {
			t.Errorf("sent to %v, want %v", mailedSince(srv, before), want)
		}
		if got := statuses(t, path); !maps.Equal(got, wantStatuses) {
			t.Errorf("statuses = %v, want %v", got, wantStatuses)
		}
	})
}

// TestJournalNotWritableSendsNothing checks that a run that cannot use its journal of
// messages in flight sends nothing.
func TestJournalNotWritableSendsNothing(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	if err := os.Mkdir(JournalPath(DefaultMailReport(o.Report)), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), ".sending") {
		t.Errorf("err = %v, want one naming the journal", err)
	}
	if srv.Count() != 0 {
		t.Errorf("%d messages sent without a journal", srv.Count())
	}
}

// TestInFlightOfAKilledResume resumes a resumed run that was killed: Zoë had failed in the run
// before, and her retry was in flight at the kill; Dan's message was sent and recorded in the
// unfinished mail report. Zoë's earlier line is about another message: she is unknown, not
// retried; Dan is kept; only Cara is mailed.
func TestInFlightOfAKilledResume(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	o.Resume = true
	path := DefaultMailReport(o.Report)
	testfile.Write(t, path, mailReportHeader+
		"2,ana@example.com,sent,<a1@acme.example>,1,,2026-11-23T03:00:00Z,"+hashOf("tok-ana")+"\n"+
		"3,zoe@example.com,failed,<z0@acme.example>,5,RCPT TO: 451 try later,,"+hashOf("tok-zoe")+"\n")
	testfile.Write(t, tempPath(path), mailReportHeader+
		"2,ana@example.com,sent,<a1@acme.example>,1,,2026-11-23T03:00:00Z,"+hashOf("tok-ana")+"\n"+
		"7,dan@example.com,sent,<d1@acme.example>,1,,2026-11-23T04:00:00Z,"+hashOf("tok-dan")+"\n")
	testfile.Write(t, JournalPath(path), mailReportHeader+
		"3,zoe@example.com,sending,<z1@acme.example>,,,2026-11-23T04:00:00Z,"+hashOf("tok-zoe")+"\n"+
		"7,dan@example.com,sending,<d1@acme.example>,,,2026-11-23T04:00:00Z,"+hashOf("tok-dan")+"\n")
	sum, err := Run(context.Background(), o)
	if !errors.Is(err, ErrFailed) {
		t.Errorf("err = %v, want ErrFailed", err)
	}
	to := mailed(srv)
	if want := []string{"cara@example.com"}; !slices.Equal(to, want) {
		t.Errorf("sent to %v, want %v", to, want)
	}
	want := peopleStatuses("sent", map[int]string{3: "unknown"})
	if got := statuses(t, path); !maps.Equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if l := readMailReport(t, path)[3]; l[3] != "<z1@acme.example>" {
		t.Errorf("Zoë's line %v: want the message in flight, <z1@acme.example>", l)
	}
	if sum.Counts[StatusUnknown] != 1 {
		t.Errorf("counts %v, want 1 unknown", sum.Counts)
	}
}

// TestJournalNeverThroughAPlantedLink checks that a symbolic link planted as the journal of
// messages in flight is neither read nor written through, and that nothing is sent.
func TestJournalNeverThroughAPlantedLink(t *testing.T) {
	t.Parallel()
	for _, resume := range []bool{false, true} {
		t.Run(fmt.Sprint("resume=", resume), func(t *testing.T) {
			t.Parallel()
			srv, o, _ := serverOptions(t)
			o.Overwrite, o.Resume = !resume, resume
			path := JournalPath(DefaultMailReport(o.Report))
			untouched := plant.Victim(t, plant.Symlink, path, 0o644)
			_, err := Run(context.Background(), o)
			untouched()
			if err == nil || !strings.Contains(err.Error(), path+" is a symbolic link") {
				t.Errorf("Run = %v, want an error saying %s is a symbolic link", err, path)
			}
			if srv.Count() != 0 {
				t.Errorf("%d messages sent", srv.Count())
			}
		})
	}
}
