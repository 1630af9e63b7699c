// Package progress shows how far a run is: a bar on a terminal, a log line every 30 s
// otherwise, and the few plain lines a person reads when the run ends.
package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ideanote-provision/ideanote-provision/internal/tick"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// progressLogEvery is how often a run without a terminal logs its progress.
const progressLogEvery = 30 * time.Second

// acceptedWindow is how far back "the rate the server is accepting now" looks: a minute, the
// window of Ideanote's own limit, so that a window's burst followed by its pause reads as the
// rate the server allows, not as the burst.
const acceptedWindow = time.Minute

// redrawEvery is how often the bar is drawn again when no row arrives: the elapsed time, a
// pause's countdown and the time left move on while the server makes the run wait.
const redrawEvery = time.Second

// Bar shows how far the run is: a bar on a terminal, a log line every 30 s otherwise.
//
// The rate and the time left count only rows that were sent: rows skipped on --resume, unchanged
// rows and invalid rows take no time, and counting them made the end look much nearer than it was.
type Bar struct {
	// MailFollows says that this run mails the links itself (--mail) once provisioning ends:
	// the closing lines then say so instead of giving the mail command to run.
	MailFollows bool
	// MailFlags are the flags, before the report, of the mail command the closing lines give
	// (without --mail): the command line knows which the environment gives already.
	MailFlags []string

	labels    Labels
	bar       *progressbar.ProgressBar // drawn through draw only
	drawMu    sync.Mutex               // held by draw
	w         io.Writer                // where the bar is drawn
	log       *slog.Logger
	throttles func() int       // 429 answers so far
	paused    func() time.Time // when the server's last asked pause ends; nil when never told
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
	invalid  []int            // the first maxListedRows invalid rows, for the closing lines
	counts   map[string]int64 // results by status
	// stopping is set by the first result the run stopped before (an interrupt, an abort):
	// from then on no time is left, and none is shown.
	stopping bool
}

// maxListedRows is how many invalid rows the closing lines name.
const maxListedRows = 8

// progressLabels are the words of a command's bar and progress log lines.
type Labels struct {
	Doing        string   // the bar's title
	Unit         string   // what is counted
	Accepted     string   // what the rate counts
	Tried        string   // what the closing line calls the results that went to the server
	Throttled    string   // the server's answers that ask to slow down
	ThrottledKey string   // their key in the log
	Statuses     []string // the statuses of the results, in the order the closing line gives them
	Unreached    string   // the status of a result the run stopped before: no progress
}

// The words of each command.
var (
	Provisioning = Labels{Doing: "provisioning", Unit: "rows", Accepted: "accepted", Tried: "sent",
		Throttled: "throttled (429)", ThrottledKey: "throttled_429", Statuses: statusNames(provision.Statuses),
		Unreached: string(provision.StatusNotAttempted)}
	Mailing = Labels{Doing: "mailing", Unit: "people", Accepted: "sent", Tried: "tried",
		Throttled: "deferred (4xx)", ThrottledKey: "deferred_4xx", Statuses: statusNames(mail.Statuses),
		Unreached: string(mail.StatusNotAttempted)}
)

func statusNames[S ~string](statuses []S) []string {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	return names
}

// New starts showing the progress of a run in mode (auto, always or never) on stderr, with
// the words of labels: a bar when mode is always, or auto and stderr a terminal; else a log
// line every 30 s. count, run beside the job, returns the results to expect; nil when
// they cannot be known (SetTotal says it then). throttles, when not nil, returns the server's
// answers so far that asked to slow down.
func New(labels Labels, mode string, stderr io.Writer, log *slog.Logger, count func(context.Context) (int64, error), throttles func() int) *Bar {
	p := &Bar{labels: labels, log: log, w: stderr, throttles: throttles, now: time.Now, stop: make(chan struct{}),
		counts: map[string]int64{}}
	p.start = p.now()
	f, isFile := stderr.(*os.File)
	useBar := mode == "always" || (mode == "auto" && isFile && term.IsTerminal(int(f.Fd())))
	if useBar {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(labels.Doing),
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
	// delays the first request. It runs without a bar too: the log line's time left needs it.
	if count != nil {
		p.wg.Go(func() { p.count(count) })
	}
	// "never" means no bar, not silence: a cron run logs its progress like any run without
	// a terminal, or one waiting out the server's pauses would look hung.
	if p.bar == nil {
		p.wg.Go(p.logLoop)
	}
	if p.bar != nil {
		p.wg.Go(p.redrawLoop)
	}
	return p
}

// WatchPauses tells the bar when the server's last asked pause ends (a zero time or one past
// for none), so that it says so, and counts the pause in the rate and the time left. Call it
// before the first result.
func (p *Bar) WatchPauses(until func() time.Time) {
	p.mu.Lock()
	p.paused = until
	p.mu.Unlock()
}

// redrawLoop draws the bar every redrawEvery: without it the bar froze while the server made
// the run wait, elapsed time and all.
func (p *Bar) redrawLoop() {
	p.every(redrawEvery, func(now time.Time) {
		p.mu.Lock()
		p.lastDesc = now
		desc := p.describe(now)
		p.mu.Unlock()
		p.draw(func(b *progressbar.ProgressBar) { b.Describe(desc) })
	})
}

// draw calls f with the bar, one call at a time: the bar locks itself but for Clear, which
// read its state while the counting, a log line and the rows changed it.
func (p *Bar) draw(f func(*progressbar.ProgressBar)) {
	p.drawMu.Lock()
	defer p.drawMu.Unlock()
	f(p.bar)
}

// every calls f with the time every d until the bar stops.
func (p *Bar) every(d time.Duration, f func(now time.Time)) {
	tick.Every(d, p.stop, func() { f(p.now()) })
}

func (p *Bar) count(count func(context.Context) (int64, error)) {
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
	p.SetTotal(rows)
}

// SetTotal sets how many results the run will have.
func (p *Bar) SetTotal(n int64) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
	if p.bar != nil {
		p.draw(func(b *progressbar.ProgressBar) { b.ChangeMax64(n) })
	}
}

func (p *Bar) Add(res provision.Result) {
	invalid := 0
	if res.Status == provision.StatusInvalid {
		invalid = res.Row.Line
	}
	// A row answered only 429 before the run stopped is not_attempted: the server never took it in.
	sent := res.Attempts > 0 && res.Status != provision.StatusNotAttempted
	p.Step(string(res.Status), res.Status.Success(), sent, res.Status == provision.StatusOK, invalid)
}

// Step counts one result: its status, a success or not, sent to the server or not (skipped,
// invalid), accepted by the server just now, and the line of an invalid row (0 for none).
func (p *Bar) Step(status string, success, sent, accepted bool, invalidLine int) {
	now := p.now()
	p.mu.Lock()
	p.done++
	p.counts[status]++
	unreached := status == p.labels.Unreached
	p.stopping = p.stopping || unreached
	// The last result of all is described anew at once: the bar would else end on a time left
	// computed up to 250 ms before (about 24s left, after a run of 30 ms). A stopped run's
	// bar is not (the bar draws at most every 100 ms short of 100%); it loses its time left
	// at the next redraw, within a second, and Finish clears it.
	last := p.total > 0 && p.done >= p.total
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
	if p.bar != nil && (last || now.Sub(p.lastDesc) >= 250*time.Millisecond) {
		p.lastDesc = now
		desc = p.describe(now)
	}
	p.mu.Unlock()
	if p.bar != nil {
		p.draw(func(b *progressbar.ProgressBar) {
			if desc != "" {
				b.Describe(desc)
			}
			// A row the run never reached is no progress: an interrupted run's bar stays
			// short of 100% (the closing line counts it, as not_attempted).
			if !unreached {
				b.Add(1)
			}
		})
	}
}

// pauseLeft is how long the pause the server asked for still lasts; 0 when none. p.mu is held.
func (p *Bar) pauseLeft(now time.Time) time.Duration {
	if p.paused == nil {
		return 0
	}
	return max(p.paused().Sub(now), 0)
}

// acceptedRate is the rate the server accepts rows at now: the ok rows of the last
// acceptedWindow over that window. A pause the server asked for counts as part of the window,
// as if it were over: nothing will be accepted before it ends, and a burst followed by a pause
// is the server's rate, not the burst's. The rate is never above the rows accepted in the window
// over its length. p.mu is held.
func (p *Bar) acceptedRate(now time.Time) float64 {
	end := now.Add(p.pauseLeft(now))
	cut := 0
	for cut < len(p.accepted) && end.Sub(p.accepted[cut]) > acceptedWindow {
		cut++
	}
	p.accepted = p.accepted[cut:]
	// Under a second of history, a handful of answers would read as a rate of hundreds.
	window := max(min(acceptedWindow, end.Sub(p.start)), time.Second)
	return float64(len(p.accepted)) / window.Seconds()
}

// left estimates the time to finish: what is left of a pause, then the rows still to come at
// the rate the server accepts now; false while there is nothing to go on, and once the run
// stops. Rows skipped, unchanged or invalid take no time: the rate counts accepted rows only.
// p.mu is held.
func (p *Bar) left(now time.Time) (time.Duration, bool) {
	rate := p.acceptedRate(now)
	if p.total <= 0 || p.sent == 0 || p.done >= p.total || rate <= 0 || p.stopping {
		return 0, false
	}
	rows := float64(p.total - p.done)
	return p.pauseLeft(now) + time.Duration(rows/rate*float64(time.Second)), true
}

// describe is what the bar shows beside the count. p.mu is held.
func (p *Bar) describe(now time.Time) string {
	s := ""
	if d := p.pauseLeft(now); d > 0 {
		s = fmt.Sprintf("the server asked to wait: %s to go; ", ceilSecond(d))
	}
	s += fmt.Sprintf("%.2f/s %s", p.acceptedRate(now), p.labels.Accepted)
	if p.throttles != nil {
		s += fmt.Sprintf(", %d %s", p.throttles(), p.labels.Throttled)
	}
	if d, ok := p.left(now); ok {
		s += ", about " + roundLeft(d) + " left"
	}
	return s
}

// ceilSecond rounds d up to a whole second: a pause under way never reads "0s to go".
func ceilSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// roundLeft rounds a time left to what a person reads: seconds under two minutes, minutes after.
func roundLeft(d time.Duration) string {
	if d < 2*time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func (p *Bar) logLoop() {
	p.every(progressLogEvery, func(now time.Time) {
		p.mu.Lock()
		l := p.labels
		args := []any{l.Unit + "_done", p.done, "ok", p.ok, l.Accepted + "_per_sec", math.Round(p.acceptedRate(now)*100) / 100}
		if p.throttles != nil {
			args = append(args, l.ThrottledKey, p.throttles())
		}
		if d := p.pauseLeft(now); d > 0 {
			args = append(args, "server_pause_left_s", math.Round(d.Seconds()))
		}
		if d, ok := p.left(now); ok {
			args = append(args, l.Unit+"_total_est", p.total, "eta_s", math.Round(d.Seconds()))
		}
		p.mu.Unlock()
		p.log.Info("progress", args...)
	})
}

// Clear takes the bar off the screen, so that a log line does not run on after it.
func (p *Bar) Clear() {
	p.Cleared(func() {})
}

// Cleared takes the bar off the screen and calls write, with no drawing of the bar between:
// a redraw (every second, or as a row arrives) between the two made write's line run on after
// the bar. The bar is drawn again on its next redraw. write runs under the bar's draw lock:
// it must not draw the bar, nor log through a writer that clears it (the lock is not
// reentrant).
func (p *Bar) Cleared(write func()) {
	if p.bar == nil {
		write()
		return
	}
	p.draw(func(b *progressbar.ProgressBar) {
		b.Clear()
		write()
	})
}

// Finish stops the counting and the log loop, and replaces the bar by a line that stays: the
// bar redraws itself at most every 100 ms, so its last state on screen may be behind.
func (p *Bar) Finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar == nil {
		return
	}
	p.draw(func(b *progressbar.ProgressBar) {
		b.Exit()
		b.Clear()
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, p.closingLine())
}

// closingLine is the line that replaces the bar: how many results of each status, so that a
// run stopped early says so ("20 not_attempted") rather than "30 rows done". p.mu is held.
func (p *Bar) closingLine() string {
	line := fmt.Sprintf("%s: %d %s in %s", p.labels.Doing, p.done, p.labels.Unit, p.now().Sub(p.start).Round(100*time.Millisecond))
	var parts []string
	for _, st := range p.labels.Statuses {
		if n := p.counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if p.sent > 0 {
		line += fmt.Sprintf("; %d %s", p.sent, p.labels.Tried)
	}
	if p.throttles != nil {
		line += fmt.Sprintf(", %d %s", p.throttles(), p.labels.Throttled)
	}
	return line
}

// Terminal reports whether the run shows a bar, and so is watched by a person.
func (p *Bar) Terminal() bool { return p.bar != nil }

// NextSteps tells the person at the terminal, in a few plain lines, where the report is and
// what to do next: the log's summary line is for machines and is easily missed.
// runErr is how the run ended, so that rows not sent are put down to their true cause;
// interrupted is whether it was interrupted, as the caller decides it for what it does next
// (an interrupt that comes as the run aborts leaves runErr the abort's).
func (p *Bar) NextSteps(reportPath, input string, dryRun bool, sum provision.Summary, runErr error, interrupted bool) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	invalid := slices.Clone(p.invalid)
	p.mu.Unlock()
	w := p.w
	c := sum.Counts
	withLink := c[provision.StatusOK] + c[provision.StatusSkipped]
	// A run that left rows not sent is finished first, with --resume, then mailed: mailed
	// first, its people would need mail --resume the second time.
	unfinished := c[provision.StatusNotAttempted] > 0
	fmt.Fprintf(w, "\nReport: %s\n", AbsPath(reportPath))
	if dryRun {
		fmt.Fprintf(w, "Dry run: %s valid, %d invalid; nothing was sent.\n", countRows(c[provision.StatusValid], "is", "are"), c[provision.StatusInvalid])
	} else if withLink > 0 && !unfinished {
		p.mailLine(reportPath, withLink, "")
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
		switch {
		// An abort first, interrupted or not: its cause is to be fixed before --resume.
		case errors.Is(runErr, provision.ErrAborted):
			fmt.Fprintf(w, "%s not sent: the run was aborted (the error below says why); fix the cause, then run again with --resume.\n", countRows(n, "was", "were"))
		case interrupted:
			fmt.Fprintf(w, "%s not sent (interrupted): run again with --resume to finish.\n", countRows(n, "was", "were"))
		default:
			fmt.Fprintf(w, "%s not sent (the run stopped first, the error below says why): run again with --resume to finish.\n", countRows(n, "was", "were"))
		}
		switch {
		case dryRun || withLink == 0:
		case p.MailFollows && interrupted: // an interrupted run with --mail mails nobody
			fmt.Fprintf(w, "%s a login link so far (the report is a secret: mode 0600); nobody was mailed: the same command, run again with --resume, finishes the run and mails them.\n",
				countPeople(withLink, "has", "have"))
		default:
			p.mailLine(reportPath, withLink, " so far")
		}
	}
}

// mailLine says how many people have a link, so far when the run is not finished, and what
// mails them: this run, or the mail command once the run is finished.
func (p *Bar) mailLine(reportPath string, n int, soFar string) {
	w := p.w
	fmt.Fprintf(w, "%s a login link%s (the report is a secret: mode 0600)", countPeople(n, "has", "have"), soFar)
	switch {
	case p.MailFollows:
		fmt.Fprintln(w, "; mailing each their own now.")
	case soFar != "":
		fmt.Fprintf(w, ". Once the run is finished, mail each their own:\n  %s\n", p.mailCommand(reportPath))
	default:
		fmt.Fprintf(w, ". Mail each their own:\n  %s\n", p.mailCommand(reportPath))
	}
}

// MailFlags are the flags, before the report, of the mail command that the closing lines give
// for a run's report: the sender and the SMTP server unless from and smtpURL (the environment's)
// give them, as placeholders to fill in (an example sender, copied, mailed staff from someone
// else), and --link widget when the run writes no login link (mail refuses the report without
// it).
func MailFlags(from, smtpURL string, loginLinks bool) []string {
	var flags []string
	if from == "" {
		flags = append(flags, "--from", "NAME <ADDRESS>")
	}
	if smtpURL == "" {
		flags = append(flags, "--smtp-url", "smtp://USER@HOST:587")
	}
	if !loginLinks {
		flags = append(flags, "--link", "widget")
	}
	return flags
}

// mailCommand is the mail command of reportPath, with p.MailFlags, quoted for a shell.
func (p *Bar) mailCommand(reportPath string) string {
	args := []string{"ideanote-provision", "mail"}
	for _, f := range append(slices.Clone(p.MailFlags), reportPath) {
		args = append(args, shellQuote(f))
	}
	return strings.Join(args, " ")
}

// MailNextSteps tells the person at the terminal, in a few plain lines, where the mail report
// is, how many were mailed and what to do next: the log's summary line is for machines.
// report is the provisioning run's report that was mailed. Whatever the output, it first warns
// of the people the provisioning run did not reach: they have no link, and are only "skipped"
// in a run that exits 0 (with --mail, provisioning's own lines say how to finish it).
func (p *MailBar) MailNextSteps(report, mailReport, outDir string, dryRun bool, sum mail.Summary) {
	if n := sum.Unprovisioned; n > 0 && !p.AfterProvisioning {
		p.log.Warn("the provisioning run of this report is not finished: people it did not reach (not_attempted) have no link and were not mailed; "+
			"finish it (the provisioning command with --resume --report REPORT), then mail them with mail --resume REPORT",
			"report", report, "not_provisioned", n)
	}
	c := sum.Counts
	lines := 0
	for _, n := range c {
		lines += n
	}
	if !p.Terminal() || lines == 0 { // nothing was read: the error says why
		return
	}
	w := p.w
	fmt.Fprintf(w, "\nMail report: %s\n", AbsPath(mailReport))
	switch {
	case dryRun:
		fmt.Fprintf(w, "Dry run: %s rendered, the first printed above; nothing was sent. To send them, run the same command without --dry-run.\n",
			countMessages(c[mail.StatusRendered]))
	case outDir != "":
		fmt.Fprintf(w, "%s written into %s as .eml files (mode 0600: each logs its person in).\n",
			countMessages(c[mail.StatusWritten]), AbsPath(outDir))
	case c[mail.StatusSent] > 0:
		fmt.Fprintf(w, "%s been mailed their login link.\n", countPeople(c[mail.StatusSent], "has", "have"))
	}
	if n := c[mail.StatusFailed]; n > 0 {
		fmt.Fprintf(w, "%s failed: the mail report's error column says why; run the same command with --resume to try %s again.\n",
			countMessages(n), pick(n, "it", "them"))
	}
	if n := c[mail.StatusNotAttempted]; n > 0 {
		fmt.Fprintf(w, "%s not mailed (the run stopped first): run the same command with --resume to mail them.\n", countPeople(n, "was", "were"))
	}
	if n := c[mail.StatusUnknown]; n > 0 {
		fmt.Fprintf(w, "%s unknown: perhaps mailed (a run killed during the transaction, or no reply to the end of the message), not mailed again (the log names them). "+
			"Check the SMTP server's log for their message_id, or ask them, then mail them on purpose: ideanote-provision mail --resume --resend EMAIL, with this run's mail flags.\n", countPeople(n, "is", "are"))
	}
	if n := c[mail.StatusSkipped]; n > 0 {
		fmt.Fprintf(w, "%s skipped: no link in the report, or the same email on an earlier row (the error column says which).\n", countPeople(n, "was", "were"))
	}
	// With --mail, the provisioning run's closing lines said how to finish it.
	if n := sum.Unprovisioned; n > 0 && !p.AfterProvisioning {
		fmt.Fprintf(w, "The provisioning run is not finished: %s no link because it did not reach them (not_attempted). Finish it, then mail them:\n"+
			"  ideanote-provision --resume --report %s INPUT   (with the flags and the input of that run)\n"+
			"  ideanote-provision mail --resume %[2]s   (with this run's mail flags)\n",
			countPeople(n, "has", "have"), shellQuote(report))
	}
	// The links are live logins: the report is the one copy left of them all.
	fmt.Fprintf(w, "The report %s still holds every login link, each a live login: keep it private, and delete it once everyone is mailed.\n", AbsPath(report))
}

// pick returns one when n is 1, else many.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func countMessages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}

// AbsPath is path made absolute for a person to find, or path when that fails.
func AbsPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
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

// LogWriter is the log's writer: while a bar is drawn, it takes the bar off the screen before
// each log line, so that the line does not run on after the bar. The bar redraws itself.
type LogWriter struct {
	W       io.Writer
	mu      sync.Mutex
	cleared func(write func())
}

func (l *LogWriter) Write(b []byte) (n int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cleared == nil {
		return l.W.Write(b)
	}
	l.cleared(func() { n, err = l.W.Write(b) })
	return n, err
}

// ClearBefore makes every later log line be written by cleared (a bar's Cleared), which takes
// the bar off the screen first and draws nothing until the line is written; nil writes lines
// as they come.
func (l *LogWriter) ClearBefore(cleared func(write func())) {
	l.mu.Lock()
	l.cleared = cleared
	l.mu.Unlock()
}
