package progress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ideanote-provision/ideanote-provision/internal/syncbuf"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

func result(line int, s provision.Status, attempts int) provision.Result {
	return provision.Result{Row: provision.Row{Line: line}, Status: s, Attempts: attempts}
}

// TestProgressTimeLeftCountsSentRows checks that rows skipped on --resume, which take no time,
// do not make the end look nearer than it is.
func TestProgressTimeLeftCountsSentRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Provisioning, "never", new(bytes.Buffer), slog.New(slog.DiscardHandler), nil, nil)
		defer p.Finish()
		p.total = 100
		for i := range 50 {
			p.Add(result(i+2, provision.StatusSkipped, 0))
		}
		for i := range 10 {
			time.Sleep(time.Second)
			p.Add(result(i+52, provision.StatusOK, 1))
		}
		p.mu.Lock()
		left, ok := p.left(time.Now())
		rate := p.acceptedRate(time.Now())
		p.mu.Unlock()
		// 40 rows to go at one sent row a second.
		if !ok || left != 40*time.Second {
			t.Errorf("left = %v, %v; want 40s", left, ok)
		}
		if rate != 1 {
			t.Errorf("accepted rate = %v/s, want 1/s", rate)
		}
	})
}

// TestProgressLogLine checks the line logged every 30 s when stderr is not a terminal.
func TestProgressLogLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var throttled atomic.Int64
		p := New(Provisioning, "auto", new(bytes.Buffer), slog.New(slog.NewTextHandler(&logs, nil)), nil, func() int { return int(throttled.Load()) })
		// One ok row a second, half a second off the log's ticks: at 30 s, 30 rows are done and
		// the last 10 s saw 10 of them.
		time.Sleep(time.Second / 2)
		for i := range 30 {
			p.Add(result(i+2, provision.StatusOK, 1))
			time.Sleep(time.Second)
			if i == 20 {
				throttled.Store(3)
			}
		}
		p.Finish()
		line := logs.String()
		if n := strings.Count(line, "msg=progress"); n != 1 {
			t.Errorf("%d progress lines in 30.5 s, want 1:\n%s", n, line)
		}
		for _, want := range []string{"time=2000-01-01T00:00:30.000Z", "rows_done=30", "ok=30", "accepted_per_sec=1", "throttled_429=3"} {
			if !strings.Contains(line, want) {
				t.Errorf("progress line %q does not hold %q", line, want)
			}
		}
	})
}

// TestProgressNeverStillLogs checks that --progress never, which the cron lines use, means no
// bar and still a log line every 30 s, with the rows counted for the time left: it logged
// nothing between the start and the end of a night's run.
func TestProgressNeverStillLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		count := func(context.Context) (int64, error) { return 100, nil }
		p := New(Provisioning, "never", new(bytes.Buffer), slog.New(slog.NewTextHandler(&logs, nil)), count, nil)
		// One ok row a second, half a second off the log's ticks.
		time.Sleep(time.Second / 2)
		for i := range 60 {
			p.Add(result(i+2, provision.StatusOK, 1))
			time.Sleep(time.Second)
		}
		p.Finish()
		if n := strings.Count(logs.String(), "msg=progress"); n != 2 {
			t.Errorf("%d progress lines in 60.5 s, want 2:\n%s", n, logs.String())
		}
		for _, want := range []string{"rows_done=30 ok=30 accepted_per_sec=1 rows_total_est=100 eta_s=70",
			"rows_done=60 ok=60 accepted_per_sec=1 rows_total_est=100 eta_s=40"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the progress lines do not hold %q:\n%s", want, logs.String())
			}
		}
	})
}

func TestProgressNextSteps(t *testing.T) {
	tests := []struct {
		name   string
		counts map[provision.Status]int
		dryRun bool
		want   []string
		not    []string
		err    error
		mail   bool     // --mail: the run mails the links itself
		flags  []string // the mail command's flags
		order  bool     // want, in this order
	}{
		{"all ok", map[provision.Status]int{provision.StatusOK: 3}, false,
			[]string{"Report: ", "3 people have a login link", "ideanote-provision mail --from 'IT <it@example.com>' 'wave 1.csv'"}, []string{"--resume"}, nil, false,
			[]string{"--from", "IT <it@example.com>"}, true},
		{"all ok, sender and server from the environment", map[provision.Status]int{provision.StatusOK: 3}, false,
			[]string{"Mail each their own:\n  ideanote-provision mail 'wave 1.csv'\n"}, []string{"--from", "--resume"}, nil, false, nil, false},
		{"all ok, widget links only", map[provision.Status]int{provision.StatusOK: 3}, false,
			[]string{"ideanote-provision mail --link widget 'wave 1.csv'"}, nil, nil, false, []string{"--link", "widget"}, false},
		{"all ok, mailed by this run", map[provision.Status]int{provision.StatusOK: 3}, false,
			[]string{"3 people have a login link", "mailing each their own now"}, []string{"ideanote-provision mail"}, nil, true, nil, false},
		{"failed and invalid", map[provision.Status]int{provision.StatusOK: 1, provision.StatusFailed: 2, provision.StatusInvalid: 1}, false,
			[]string{"1 person has a login link", "2 rows failed", "1 row is invalid (row 7): fix it in people.csv", "then run again with --resume"}, nil, nil, false, nil, false},
		{"interrupted", map[provision.Status]int{provision.StatusNotAttempted: 5}, false,
			[]string{"5 rows were not sent (interrupted): run again with --resume"}, []string{"ideanote-provision mail"}, context.Canceled, false, nil, false},
		// Resumed first, then mailed: mailed first, the second mail run needs --resume.
		{"interrupted after some ok", map[provision.Status]int{provision.StatusOK: 6, provision.StatusNotAttempted: 19}, false,
			[]string{"19 rows were not sent (interrupted): run again with --resume to finish.\n",
				"6 people have a login link so far (the report is a secret: mode 0600). Once the run is finished, mail each their own:\n",
				"  ideanote-provision mail 'wave 1.csv'\n"}, nil, context.Canceled, false, nil, true},
		{"interrupted after some ok, with --mail", map[provision.Status]int{provision.StatusOK: 6, provision.StatusNotAttempted: 19}, false,
			[]string{"19 rows were not sent (interrupted)", "6 people have a login link so far",
				"nobody was mailed: the same command, run again with --resume, finishes the run and mails them"},
			[]string{"mailing each their own now", "ideanote-provision mail"}, context.Canceled, true, nil, true},
		{"aborted", map[provision.Status]int{provision.StatusOK: 1, provision.StatusNotAttempted: 1}, false,
			[]string{"1 row was not sent: the run was aborted", "fix the cause, then run again with --resume"}, nil,
			&provision.AbortError{Cause: provision.CauseSpace, Code: 403}, false, nil, false},
		// After an abort, a run with --mail mails the people ok so far.
		{"aborted, with --mail", map[provision.Status]int{provision.StatusOK: 1, provision.StatusNotAttempted: 1}, false,
			[]string{"1 row was not sent: the run was aborted",
				"1 person has a login link so far (the report is a secret: mode 0600); mailing each their own now."},
			[]string{"ideanote-provision mail"}, &provision.AbortError{Cause: provision.CauseSpace, Code: 403}, true, nil, true},
		{"dry run", map[provision.Status]int{provision.StatusValid: 4, provision.StatusInvalid: 1}, true,
			[]string{"Dry run: 4 rows are valid, 1 invalid; nothing was sent.", "run the dry run again"}, []string{"ideanote-provision mail"}, nil, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := New(Provisioning, "always", &out, slog.New(slog.DiscardHandler), nil, func() int { return 0 })
			if tt.counts[provision.StatusInvalid] > 0 {
				p.Add(result(7, provision.StatusInvalid, 0))
			}
			p.MailFollows, p.MailFlags = tt.mail, tt.flags
			p.Finish()
			out.Reset()
			// Interrupted as the line decides it after a run that ended with tt.err alone.
			p.NextSteps("wave 1.csv", "people.csv", tt.dryRun, provision.Summary{Tally: provision.Tally[provision.Status]{Counts: tt.counts}}, tt.err, errors.Is(tt.err, context.Canceled))
			rest := out.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("closing lines do not say %q (in order: %v):\n%s", w, tt.order, out.String())
				} else if tt.order {
					rest = rest[i+len(w):]
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out.String(), w) {
					t.Errorf("closing lines say %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// An interrupt that comes as the run aborts: the run ends with the abort, whose cause is to be
// fixed, and a run with --mail mails nobody (the line does not start a mail run after an
// interrupt), as the closing lines must say: they said "mailing each their own now".
func TestProgressNextStepsAbortedAndInterrupted(t *testing.T) {
	var out bytes.Buffer
	p := New(Provisioning, "always", &out, slog.New(slog.DiscardHandler), nil, func() int { return 0 })
	p.MailFollows = true
	p.Finish()
	out.Reset()
	counts := provision.Counts[provision.Status]{provision.StatusOK: 1, provision.StatusFailed: 3, provision.StatusNotAttempted: 2}
	p.NextSteps("r.csv", "in.csv", false, provision.Summary{Tally: provision.Tally[provision.Status]{Counts: counts}},
		&provision.AbortError{Cause: provision.CauseToken, Code: 401}, true)
	for _, w := range []string{"2 rows were not sent: the run was aborted", "fix the cause, then run again with --resume",
		"1 person has a login link so far", "nobody was mailed: the same command, run again with --resume, finishes the run and mails them"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("closing lines do not say %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "mailing each their own now") {
		t.Errorf("closing lines say the run mails now, after an interrupt:\n%s", out.String())
	}
}

func TestProgressNoClosingLinesWithoutATerminal(t *testing.T) {
	var out bytes.Buffer
	p := New(Provisioning, "never", &out, slog.New(slog.DiscardHandler), nil, nil)
	p.Finish()
	p.NextSteps("r.csv", "in.csv", false, provision.Summary{Tally: provision.Tally[provision.Status]{Counts: provision.Counts[provision.Status]{provision.StatusOK: 1}}}, nil, false)
	if out.Len() != 0 {
		t.Errorf("without a bar, the closing lines are the log's: got %q", out.String())
	}
}

// lastFrame is the last drawing of the bar in out: the bar redraws its line after a carriage
// return.
func lastFrame(out string) string {
	frames := strings.Split(out, "\r")
	for i := len(frames) - 1; i >= 0; i-- {
		if f := strings.TrimSpace(frames[i]); f != "" {
			return f
		}
	}
	return ""
}

// drawnBar returns a provisioning bar drawn whatever the terminal, and what it draws: a buffer
// the test reads while the bar writes it. throttled counts the 429s (nil: none).
func drawnBar(throttled func() int) (*Bar, *syncbuf.Buffer) {
	out := new(syncbuf.Buffer)
	return New(Provisioning, "always", out, slog.New(slog.DiscardHandler), nil, throttled), out
}

// TestBarDuringPause checks what the bar shows while the server makes the run wait: it still
// ticks (the elapsed time runs), says that the server asked to wait and for how long still,
// and counts the pause in the rate and the time left. The server is the issue's: a fixed 20-s
// window of 20 requests, sent at 5 a second, then a Retry-After of 14 s.
func TestBarDuringPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p, out := drawnBar(func() int { return 1 })
		p.WatchPauses(func() time.Time { return start.Add(18 * time.Second) })
		p.SetTotal(50)
		for i := range 20 {
			time.Sleep(200 * time.Millisecond)
			p.Add(result(i+2, provision.StatusOK, 1))
		}
		time.Sleep(10*time.Second - time.Since(start) + time.Millisecond)
		frame := lastFrame(out.String())
		// 20 accepted by the end of the pause, 18 s after the start: 1.11/s; 30 rows to go
		// take 27 s at that rate, after the 8 s left of the pause. The truth: 20 rows at 18 s,
		// 10 more at 38 s, done at about 40 s, 30 s from now.
		for _, want := range []string{"(20/50)", "[10s]", "the server asked to wait: 8s to go", "1.11/s accepted", "1 throttled (429)", "about 35s left"} {
			if !strings.Contains(frame, want) {
				t.Errorf("the bar during the pause shows %q, without %q", frame, want)
			}
		}
		time.Sleep(3 * time.Second)
		if frame := lastFrame(out.String()); !strings.Contains(frame, "[13s]") || !strings.Contains(frame, "5s to go") {
			t.Errorf("3 s later the bar shows %q, want [13s] and 5s to go", frame)
		}
		p.Finish()
	})
}

// TestBarTimeLeft checks the time left once a rate is established, within a third of the
// truth: rows skipped on --resume take no time, and a fast start does not make the end look
// nearer when the server then accepts one row a second.
func TestBarTimeLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, out := drawnBar(nil)
		p.SetTotal(130)
		line := 2
		for range 13 { // done by an earlier run
			p.Add(result(line, provision.StatusSkipped, 0))
			line++
		}
		for range 40 { // a burst the server accepted at once
			p.Add(result(line, provision.StatusOK, 1))
			line++
		}
		for range 60 { // then one a second
			time.Sleep(time.Second)
			p.Add(result(line, provision.StatusOK, 1))
			line++
		}
		time.Sleep(time.Second / 2)
		p.mu.Lock()
		left, ok := p.left(time.Now())
		p.mu.Unlock()
		truth := 17 * time.Second // 17 rows at one a second
		if !ok || left < truth*2/3 || left > truth*4/3 {
			t.Errorf("time left = %v (%v), want within a third of %v", left, ok, truth)
		}
		time.Sleep(time.Second)
		if frame := lastFrame(out.String()); !strings.Contains(frame, "(113/130)") || !strings.Contains(frame, "left") {
			t.Errorf("the bar shows %q", frame)
		}
		p.Finish()
	})
}

// TestBarClosingLineCountsByStatus checks the line that replaces the bar after an interrupt: it
// said "30 rows done in 10.1s, 10 sent" with 20 rows never attempted.
func TestBarClosingLineCountsByStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, out := drawnBar(func() int { return 1 })
		p.SetTotal(30)
		for i := range 10 {
			time.Sleep(time.Second)
			p.Add(result(i+2, provision.StatusOK, 1))
		}
		p.Add(result(12, provision.StatusNotAttempted, 1)) // answered 429, then stopped
		for i := range 19 {
			p.Add(result(i+13, provision.StatusNotAttempted, 0))
		}
		p.Finish()
		last := lastFrame(out.String())
		if want := "provisioning: 30 rows in 10s: 10 ok, 20 not_attempted; 10 sent, 1 throttled (429)"; last != want {
			t.Errorf("closing line %q, want %q", last, want)
		}
	})
}

// TestBarLastFrameOfAnInterruptedRun checks the bar of a run interrupted after 6 of 25 rows: it
// jumped to 100% (25/25), the rows never reached counted as done, with a time left that was
// stale. It stays at 6/25 and shows no time left.
func TestBarLastFrameOfAnInterruptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, out := drawnBar(func() int { return 0 })
		p.SetTotal(25)
		time.Sleep(time.Second / 2) // half a second off the redraws
		for i := range 6 {
			time.Sleep(3 * time.Second)
			p.Add(result(i+2, provision.StatusOK, 1))
		}
		time.Sleep(time.Second)
		if frame := lastFrame(out.String()); !strings.Contains(frame, "(6/25)") || !strings.Contains(frame, "left") {
			t.Errorf("the bar during the run shows %q, want (6/25) and a time left", frame)
		}
		for i := range 19 { // interrupted: the rest come at once
			p.Add(result(i+8, provision.StatusNotAttempted, 0))
		}
		time.Sleep(time.Second) // the next redraw at the latest
		frame := lastFrame(out.String())
		p.Finish()
		if !strings.Contains(frame, "(6/25)") || strings.Contains(frame, "left") {
			t.Errorf("the last frame of an interrupted run shows %q, want (6/25) and no time left", frame)
		}
		if strings.Contains(out.String(), "100%") || strings.Contains(out.String(), "25/25") {
			t.Errorf("the bar of an interrupted run went to 100%%:\n%s", out.String())
		}
	})
}

// TestBarClearedWhileCounted checks, under the race detector, that a log line may take the bar
// off the screen while the rows are counted and arrive: the bar's own Clear reads its state
// without its lock.
func TestBarClearedWhileCounted(t *testing.T) {
	out := new(syncbuf.Buffer)
	logOut := &LogWriter{W: out}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	p := New(Provisioning, "always", out, log, func(context.Context) (int64, error) { return 100, nil }, nil)
	logOut.ClearBefore(p.Cleared)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			log.Info("a line")
		}
	})
	for i := range 50 {
		p.Add(result(i+2, provision.StatusOK, 1))
	}
	wg.Wait()
	p.Finish()
}

func TestMailFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, smtpURL string
		login         bool
		want          []string
	}{
		{"IT <it@acme.com>", "smtp://it@mx:587", true, nil},
		{"", "smtp://it@mx:587", true, []string{"--from", "NAME <ADDRESS>"}},
		{"IT <it@acme.com>", "", true, []string{"--smtp-url", "smtp://USER@HOST:587"}},
		{"IT <it@acme.com>", "smtp://it@mx:587", false, []string{"--link", "widget"}},
	}
	for _, tt := range tests {
		if got := MailFlags(tt.from, tt.smtpURL, tt.login); !slices.Equal(got, tt.want) {
			t.Errorf("MailFlags(%q, %q, %v) = %q, want %q", tt.from, tt.smtpURL, tt.login, got, tt.want)
		}
	}
}

// orderWriter records each write, in order. Before it records a log line (a write that holds
// "msg="), it lets rival draw, as the bar's redraws and rows do from their own goroutines.
type orderWriter struct {
	mu     sync.Mutex
	writes []string
	rival  func()
}

func (w *orderWriter) Write(b []byte) (int, error) {
	if w.rival != nil && strings.Contains(string(b), "msg=") {
		w.rival()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(b))
	return len(b), nil
}

// TestLogLineAfterClearedBar: a log line is written right after the bar is taken off the
// screen, with no drawing of the bar between: the bar's redraws (every second, and as rows
// arrive) could come between the clear and the line, which then ran on after the bar.
func TestLogLineAfterClearedBar(t *testing.T) {
	rec := &orderWriter{}
	logOut := &LogWriter{W: rec}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	p := New(Provisioning, "always", rec, log, nil, nil)
	defer p.Finish()
	logOut.ClearBefore(p.Cleared)
	// A rival draws whenever it can, as the bar's goroutines would: while the line is written
	// it must not be able to.
	rec.rival = func() {
		if p.drawMu.TryLock() {
			p.drawMu.Unlock()
			p.draw(func(*progressbar.ProgressBar) { fmt.Fprint(rec, "\r[a frame of the bar]") })
		}
	}
	log.Info("a line")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, w := range rec.writes {
		if !strings.Contains(w, "msg=") {
			continue
		}
		if i == 0 || strings.Trim(rec.writes[i-1], "\r ") != "" {
			t.Errorf("the log line is not written right after the bar is cleared; the writes:\n%q", rec.writes)
		}
	}
}

// TestMailCommandThroughAShell runs the mail command the closing lines print through /bin/sh,
// as a person pasting it would, and checks the arguments the program would get: the quoting
// was checked only by splitting the string in Go.
func TestMailCommandThroughAShell(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	from := "Ops Team <ops@example.com>"
	report := `/srv/hr exports/wave 1's "final" $HOME \n *.csv`
	for _, flags := range [][]string{
		{"--from", from},
		MailFlags("", "", false), // the placeholders to fill in
	} {
		var out bytes.Buffer
		p := New(Provisioning, "always", &out, slog.New(slog.DiscardHandler), nil, nil)
		p.MailFlags = flags
		p.Finish()
		out.Reset()
		p.NextSteps(report, "in.csv", false, provision.Summary{Tally: provision.Tally[provision.Status]{Counts: provision.Counts[provision.Status]{provision.StatusOK: 2}}}, nil, false)
		_, command, ok := strings.Cut(out.String(), "Mail each their own:\n  ")
		command, _, _ = strings.Cut(command, "\n")
		if !ok {
			t.Fatalf("no mail command in the closing lines:\n%s", out.String())
		}
		// printf prints each argument the shell made of the command, one a line.
		got, err := exec.Command("/bin/sh", "-c", `printf '%s\n' `+command).Output()
		if err != nil {
			t.Errorf("sh -c %q: %v", command, err)
			continue
		}
		want := append(append([]string{"ideanote-provision", "mail"}, flags...), report)
		if args := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); !slices.Equal(args, want) {
			t.Errorf("sh -c %q gives the arguments\n%q, want\n%q", command, args, want)
		}
	}
}
