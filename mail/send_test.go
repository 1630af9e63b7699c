package mail

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// fakeTransport delivers in a bubble of testing/synctest, taking latency per message, and
// records when each delivery started and how many ran at once.
type fakeTransport struct {
	latency time.Duration
	slow    map[string]time.Duration              // latency of some people, instead of latency
	answer  func(email string, attempt int) error // nil: delivered

	mu          sync.Mutex
	starts      []time.Time
	tries       map[string]int
	delivered   []string
	inFlight    int
	maxInFlight int
	conns       int
}

func (f *fakeTransport) newDeliverer() deliverer {
	f.mu.Lock()
	f.conns++
	f.mu.Unlock()
	return fakeDeliverer{f}
}

type fakeDeliverer struct{ f *fakeTransport }

func (d fakeDeliverer) deliver(_ context.Context, m *outgoing) error {
	f := d.f
	f.mu.Lock()
	f.starts = append(f.starts, time.Now())
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	if f.tries == nil {
		f.tries = make(map[string]int)
	}
	f.tries[m.job.email]++
	attempt := f.tries[m.job.email]
	latency, ok := f.slow[m.job.email]
	if !ok {
		latency = f.latency
	}
	f.mu.Unlock()
	time.Sleep(latency)
	var err error
	if f.answer != nil {
		err = f.answer(m.job.email, attempt)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if err == nil {
		f.delivered = append(f.delivered, m.job.email)
	}
	return err
}

func (fakeDeliverer) close() {}

// crowd is a report of n people, all ok with a link.
func crowd(n int) []person {
	ps := make([]person, n)
	for i := range ps {
		ps[i] = person{row: i + 2, email: fmt.Sprintf("p%02d@example.com", i), name: fmt.Sprintf("Person %d", i), status: "ok", token: fmt.Sprintf("tok-%d", i)}
	}
	return ps
}

// runFake runs o against the fake transport inside the current bubble.
func runFake(t *testing.T, ctx context.Context, o Options, f *fakeTransport) (Summary, error) {
	t.Helper()
	o.SMTPURL = "smtp://127.0.0.1:1" // never dialed: the fake delivers
	o.Wait = nil                     // real timers, which the bubble fakes
	s, err := prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	return s.run(ctx, f.newDeliverer)
}

// runTimed runs o against the fake transport inside the current bubble, and returns the
// summary of a run that must succeed and the time it took.
func runTimed(t *testing.T, o Options, f *fakeTransport) (Summary, time.Duration) {
	t.Helper()
	start := time.Now()
	sum, err := runFake(t, t.Context(), o, f)
	if err != nil {
		t.Fatal(err)
	}
	return sum, time.Since(start)
}

// inBubble runs test in a synctest bubble, where time is fake, with the options of a run of
// crowd(n), concurrency messages at once.
func inBubble(t *testing.T, n, concurrency int, test func(t *testing.T, o Options)) {
	synctest.Test(t, func(t *testing.T) {
		o, _ := testOptions(t, nil, crowd(n))
		o.Concurrency = concurrency
		test(t, o)
	})
}

func TestRate(t *testing.T) {
	t.Parallel()
	inBubble(t, 10, 4, func(t *testing.T, o Options) {
		o.Rate = 5
		f := &fakeTransport{}
		sum, took := runTimed(t, o, f)
		if sum.Counts[StatusSent] != 10 {
			t.Fatalf("summary %+v", sum)
		}
		slices.SortFunc(f.starts, time.Time.Compare)
		for i := 1; i < len(f.starts); i++ {
			if gap := f.starts[i].Sub(f.starts[i-1]); gap < 200*time.Millisecond {
				t.Errorf("messages %d and %d started %v apart, want at least 200ms at 5/s", i, i+1, gap)
			}
		}
		// The pacer keeps 1.5% under the rate, as it does for provisioning: 9 intervals of 203 ms.
		if took < 1800*time.Millisecond || took > 1830*time.Millisecond {
			t.Errorf("10 messages at 5/s took %v, want 1.8s to 1.83s", took)
		}
	})
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	inBubble(t, 10, 3, func(t *testing.T, o Options) {
		f := &fakeTransport{latency: time.Second}
		_, took := runTimed(t, o, f)
		if f.maxInFlight != 3 || f.conns != 3 {
			t.Errorf("%d at once over %d deliverers, want 3 and 3", f.maxInFlight, f.conns)
		}
		if took != 4*time.Second {
			t.Errorf("10 messages of 1s, 3 at once, took %v, want 4s", took)
		}
	})
}

func TestInterrupt(t *testing.T) {
	t.Parallel()
	inBubble(t, 10, 2, func(t *testing.T, o Options) {
		f := &fakeTransport{latency: time.Second}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1500*time.Millisecond, cancel) // while the 3rd and 4th are under way
		sum, err := runFake(t, ctx, o, f)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(f.delivered) != 4 || sum.Counts[StatusSent] != 4 || sum.Counts[StatusNotAttempted] != 6 {
			t.Errorf("delivered %v, summary %+v; want the 4 started finished and 6 not_attempted", f.delivered, sum)
		}
		got := statuses(t, DefaultMailReport(o.Report))
		for row := 2; row < 12; row++ {
			want := "not_attempted"
			if row < 6 {
				want = "sent"
			}
			if got[row] != want {
				t.Errorf("row %d %s, want %s", row, got[row], want)
			}
		}
	})
}

func TestInterruptDuringBackoff(t *testing.T) {
	t.Parallel()
	inBubble(t, 3, 1, func(t *testing.T, o Options) {
		ctx, cancel := context.WithCancel(t.Context())
		f := &fakeTransport{answer: func(email string, attempt int) error {
			if email == "p00@example.com" {
				cancel() // the interrupt comes during the wait before the retry
				return newSendError(stageRcpt, &textproto.Error{Code: 451, Msg: "4.7.1 greylisted"})
			}
			return nil
		}}
		_, err := runFake(t, ctx, o, f)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		line := readMailReport(t, DefaultMailReport(o.Report))[2]
		if line[2] != "failed" || line[4] != "1" || !strings.Contains(line[5], "451 4.7.1 greylisted; the run stopped before another try") {
			t.Errorf("line = %v", line)
		}
		if got := statuses(t, DefaultMailReport(o.Report)); got[3] != "not_attempted" || got[4] != "not_attempted" {
			t.Errorf("statuses = %v", got)
		}
	})
}

func TestAbortStopsTheOthers(t *testing.T) {
	t.Parallel()
	inBubble(t, 10, 2, func(t *testing.T, o Options) {
		// The 3rd starts at 1s beside the 4th, and is refused at 1.5s, while the 4th is under way.
		f := &fakeTransport{latency: time.Second, slow: map[string]time.Duration{"p02@example.com": 500 * time.Millisecond}, answer: func(email string, _ int) error {
			if email == "p02@example.com" {
				return newSendError(stageMail, &textproto.Error{Code: 550, Msg: "5.7.1 sender refused"})
			}
			return nil
		}}
		sum, err := runFake(t, t.Context(), o, f)
		if !errors.Is(err, ErrAborted) {
			t.Fatalf("err = %v", err)
		}
		// The 4th was under way beside the 3rd: it finishes. Nothing starts after.
		// The 3rd is not_attempted too: the sender was refused, not its recipient.
		if sum.Counts[StatusSent] != 3 || sum.Counts[StatusFailed] != 0 || sum.Counts[StatusNotAttempted] != 7 || len(f.starts) != 4 {
			t.Errorf("summary %+v, %d started", sum, len(f.starts))
		}
	})
}

func TestProgressAndSummary(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o, _ := testOptions(t, nil, people)
		var seen []int
		o.Progress = func(r Result) { seen = append(seen, r.Row) }
		o.Concurrency = 1
		sum, _ := runTimed(t, o, &fakeTransport{latency: time.Second})
		slices.Sort(seen)
		if !slices.Equal(seen, []int{2, 3, 4, 5, 6, 7}) {
			t.Errorf("progress saw rows %v", seen)
		}
		if sum.Elapsed != 4*time.Second || sum.Attempts != 4 || sum.Counts.Any(unmailed...) {
			t.Errorf("summary %+v", sum)
		}
	})
}

func TestMailReportFailureStopsSending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o, logs := testOptions(t, nil, crowd(10))
		o.SMTPURL, o.Concurrency = "smtp://127.0.0.1:1", 2
		s, err := prepare(o)
		if err != nil {
			t.Fatal(err)
		}
		_, jobs, _, err := lineup(mustReadLines(t, o.Report), LinkLogin, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := &fakeTransport{latency: time.Second}
		diskFull := errors.New("no space left on device")
		written := 0
		err = s.dispatch(t.Context(), jobs, f.newDeliverer, StatusSent, nil, func(Result) error {
			if written == 3 {
				return diskFull
			}
			written++
			return nil
		})
		if !errors.Is(err, diskFull) {
			t.Fatalf("err = %v", err)
		}
		// The 4th could not be written, the 5th and 6th were under way: nothing started after.
		if len(f.starts) > 6 {
			t.Errorf("%d messages started after the mail report failed", len(f.starts)-4)
		}
		if n := strings.Count(logs.String(), "mailed, but not recorded"); n != len(f.delivered)-written {
			t.Errorf("%d sent but unrecorded messages logged, want %d:\n%s", n, len(f.delivered)-written, logs)
		}
	})
}

func mustReadLines(t *testing.T, path string) []report.Line {
	t.Helper()
	lines, err := report.ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

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
		want := peopleStatuses("sent", map[int]string{3: "unknown"})
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
