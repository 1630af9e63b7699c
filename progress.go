package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// progressLogEvery is how often a run without a terminal logs its progress.
const progressLogEvery = 30 * time.Second

// acceptedWindow is how far back "the rate the server is accepting now" looks.
const acceptedWindow = 10 * time.Second

// progress shows how far the run is: a bar on a terminal, a log line every 30 s otherwise.
//
// The rate and the time left count only rows that were sent: rows skipped on --resume, unchanged
// rows and invalid rows take no time, and counting them made the end look much nearer than it was.
type progress struct {
	labels    progressLabels
	bar       *progressbar.ProgressBar
	w         io.Writer // where the bar is drawn
	log       *slog.Logger
	throttles func() int // 429 answers so far
	now       func() time.Time
	start     time.Time
	stop      chan struct{}
	wg        sync.WaitGroup

	mu       sync.Mutex
	done     int64       // rows with a result
	ok       int64       // of which a success
	sent     int64       // of which at least one request went out
	total    int64       // estimated data rows, 0 while unknown
	accepted []time.Time // when recent 2xx results came, oldest first, within acceptedWindow
	lastDesc time.Time
	invalid  []int // the first maxListedRows invalid rows, for the closing lines
}

// maxListedRows is how many invalid rows the closing lines name.
const maxListedRows = 8

// progressLabels are the words of a command's bar and progress log lines.
type progressLabels struct {
	doing        string // the bar's title
	unit         string // what is counted
	accepted     string // what the rate counts
	tried        string // what the closing line calls the results that went to the server
	throttled    string // the server's answers that ask to slow down
	throttledKey string // their key in the log
}

var provisionLabels = progressLabels{doing: "provisioning", unit: "rows", accepted: "accepted", tried: "sent",
	throttled: "throttled (429)", throttledKey: "throttled_429"}

// newProgress starts showing the progress of a provisioning run. count, run beside the job,
// returns the rows to expect; nil when they cannot be known.
func newProgress(mode string, stderr io.Writer, log *slog.Logger, count func(context.Context) (int64, error), throttles func() int) *progress {
	return newProgressFor(provisionLabels, mode, stderr, log, count, throttles)
}

// newProgressFor is newProgress with the words of another command; with a nil count the total
// is unknown until setTotal.
func newProgressFor(labels progressLabels, mode string, stderr io.Writer, log *slog.Logger, count func(context.Context) (int64, error), throttles func() int) *progress {
	p := &progress{labels: labels, log: log, w: stderr, throttles: throttles, now: time.Now, stop: make(chan struct{})}
	p.start = p.now()
	f, isFile := stderr.(*os.File)
	useBar := mode == "always" || (mode == "auto" && isFile && term.IsTerminal(int(f.Fd())))
	if mode != "never" && useBar {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(labels.doing),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false), // its ETA would count skipped rows; ours is in the description
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
			// No spinner goroutine: it would draw on its own (and outlive the bar, which
			// stops it only on Finish); the bar is redrawn as rows arrive.
			progressbar.OptionSetSpinnerChangeInterval(0),
		)
	}
	// Counting the rows may read the file a second time: beside the run, so that it never
	// delays the first request.
	if count != nil && mode != "never" {
		p.wg.Go(func() { p.count(count) })
	}
	if p.bar == nil && mode != "never" {
		p.wg.Go(p.logLoop)
	}
	return p
}

func (p *progress) count(count func(context.Context) (int64, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	rows, err := count(ctx)
	if err != nil || rows <= 0 {
		return
	}
	p.setTotal(rows)
}

// setTotal sets how many results the run will have.
func (p *progress) setTotal(n int64) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
	if p.bar != nil {
		p.bar.ChangeMax64(n)
	}
}

func (p *progress) add(res provision.Result) {
	invalid := 0
	if res.Status == provision.StatusInvalid {
		invalid = res.Row.Line
	}
	p.step(res.Status.Success(), res.Attempts > 0, res.Status == provision.StatusOK, invalid)
}

// step counts one result: a success or not, sent to the server or not (skipped, invalid),
// accepted by the server just now, and the line of an invalid row (0 for none).
func (p *progress) step(success, sent, accepted bool, invalidLine int) {
	now := p.now()
	p.mu.Lock()
	p.done++
	if success {
		p.ok++
	}
	if sent {
		p.sent++
	}
	if accepted {
		p.accepted = append(p.accepted, now)
	}
	if invalidLine > 0 && len(p.invalid) < maxListedRows {
		p.invalid = append(p.invalid, invalidLine)
	}
	desc := ""
	if p.bar != nil && now.Sub(p.lastDesc) >= 250*time.Millisecond {
		p.lastDesc = now
		desc = p.describe(now)
	}
	p.mu.Unlock()
	if p.bar != nil {
		if desc != "" {
			p.bar.Describe(desc)
		}
		p.bar.Add(1)
	}
}

// acceptedRate is the rate of ok rows over the last acceptedWindow. p.mu is held.
func (p *progress) acceptedRate(now time.Time) float64 {
	cut := 0
	for cut < len(p.accepted) && now.Sub(p.accepted[cut]) > acceptedWindow {
		cut++
	}
	p.accepted = p.accepted[cut:]
	// Under a second of history, a handful of answers would read as a rate of hundreds.
	window := max(min(acceptedWindow, now.Sub(p.start)), time.Second)
	return float64(len(p.accepted)) / window.Seconds()
}

// left estimates the time to finish from the rows still to come and the rate at which rows
// were sent; false while there is nothing to go on. p.mu is held.
func (p *progress) left(now time.Time) (time.Duration, bool) {
	elapsed := now.Sub(p.start)
	if p.total <= 0 || p.sent == 0 || p.done >= p.total || elapsed <= 0 {
		return 0, false
	}
	perRow := elapsed / time.Duration(p.sent)
	return perRow * time.Duration(p.total-p.done), true
}

// describe is what the bar shows beside the count. p.mu is held.
func (p *progress) describe(now time.Time) string {
	s := fmt.Sprintf("%.2f/s %s", p.acceptedRate(now), p.labels.accepted)
	if p.throttles != nil {
		s += fmt.Sprintf(", %d %s", p.throttles(), p.labels.throttled)
	}
	if d, ok := p.left(now); ok {
		s += ", about " + roundLeft(d) + " left"
	}
	return s
}

// roundLeft rounds a time left to what a person reads: seconds under two minutes, minutes after.
func roundLeft(d time.Duration) string {
	if d < 2*time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func (p *progress) logLoop() {
	t := time.NewTicker(progressLogEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			now := p.now()
			p.mu.Lock()
			l := p.labels
			args := []any{l.unit + "_done", p.done, "ok", p.ok, l.accepted + "_per_sec", fmt.Sprintf("%.2f", p.acceptedRate(now))}
			if p.throttles != nil {
				args = append(args, l.throttledKey, p.throttles())
			}
			if d, ok := p.left(now); ok {
				args = append(args, l.unit+"_total_est", p.total, "eta", roundLeft(d))
			}
			p.mu.Unlock()
			p.log.Info("progress", args...)
		}
	}
}

// clear takes the bar off the screen, so that a log line does not run on after it.
func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

// finish stops the counting and the log loop, and replaces the bar by a line that stays: the
// bar redraws itself at most every 100 ms, so its last state on screen may be behind.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar == nil {
		return
	}
	p.bar.Exit()
	p.bar.Clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("%s: %d %s done in %s", p.labels.doing, p.done, p.labels.unit, p.now().Sub(p.start).Round(100*time.Millisecond))
	if p.sent > 0 {
		line += fmt.Sprintf(", %d %s", p.sent, p.labels.tried)
	}
	if p.throttles != nil {
		line += fmt.Sprintf(", %d %s", p.throttles(), p.labels.throttled)
	}
	fmt.Fprintln(p.w, line)
}

// terminal reports whether the run shows a bar, and so is watched by a person.
func (p *progress) terminal() bool { return p.bar != nil }

// nextSteps tells the person at the terminal, in a few plain lines, where the report is and
// what to do next: the log's summary line is for machines and is easily missed.
func (p *progress) nextSteps(reportPath, input string, dryRun bool, sum provision.Summary) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	invalid := slices.Clone(p.invalid)
	p.mu.Unlock()
	abs, err := filepath.Abs(reportPath)
	if err != nil {
		abs = reportPath
	}
	w := p.w
	c := sum.Counts
	fmt.Fprintf(w, "\nReport: %s\n", abs)
	if dryRun {
		fmt.Fprintf(w, "Dry run: %s valid, %d invalid; nothing was sent.\n", countRows(c[provision.StatusValid], "is", "are"), c[provision.StatusInvalid])
	} else if n := c[provision.StatusOK] + c[provision.StatusSkipped]; n > 0 {
		fmt.Fprintf(w, "%s a login link (the report is a secret: mode 0600). Mail each their own:\n  ideanote-provision mail --from 'IT <it@example.com>' %s\n",
			countPeople(n, "has", "have"), shellQuote(reportPath))
	}
	if n := c[provision.StatusInvalid]; n > 0 {
		more := ""
		if n > len(invalid) {
			more = ", …"
		}
		which, them := "rows", "them"
		if n == 1 {
			which, them = "row", "it"
		}
		fmt.Fprintf(w, "%s invalid (%s %s%s): fix %s in %s, as the error column says", countRows(n, "is", "are"), which, joinInts(invalid), more, them, input)
		if dryRun {
			fmt.Fprintln(w, ", and run the dry run again.")
		} else {
			fmt.Fprintln(w, ", then run again with --resume.")
		}
	}
	if n := c[provision.StatusFailed]; n > 0 {
		fmt.Fprintf(w, "%s: the error column says why; run again with --resume to retry them.\n", countRows(n, "failed", "failed"))
	}
	if n := c[provision.StatusNotAttempted]; n > 0 {
		fmt.Fprintf(w, "%s not sent: run again with --resume to finish.\n", countRows(n, "was", "were"))
	}
}

func countPeople(n int, one, many string) string {
	if n == 1 {
		return "1 person " + one
	}
	return fmt.Sprintf("%d people %s", n, many)
}

func countRows(n int, one, many string) string {
	if n == 1 {
		return "1 row " + one
	}
	return fmt.Sprintf("%d rows %s", n, many)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// logWriter is the log's writer: while a bar is drawn, it takes the bar off the screen before
// each log line, so that the line does not run on after the bar. The bar redraws itself.
type logWriter struct {
	w     io.Writer
	mu    sync.Mutex
	clear func()
}

func (l *logWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clear != nil {
		l.clear()
	}
	return l.w.Write(b)
}

// clearBefore makes every later log line take the bar off the screen first.
func (l *logWriter) clearBefore(clear func()) {
	l.mu.Lock()
	l.clear = clear
	l.mu.Unlock()
}
