package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// Summary counts what a run did.
// Its Counts are the lines of the mail report by status; Attempts the SMTP transactions this
// run tried; Throttled the 4xx answers ("try again later") among them.
type Summary struct {
	provision.Tally[Status]
	Retries int // attempts after a 4xx answer or a dropped connection
	// Unprovisioned counts the report's lines that its provisioning run never reached
	// (not_attempted: an interrupted or aborted run): skipped here, no link, until that run
	// is finished. The exit status does not count them; the operator must hear of them.
	Unprovisioned int
}

// unmailed are the statuses of the people who need the operator: not mailed who should have
// been, or perhaps mailed (a run killed during the transaction, no reply to its end).
var unmailed = []Status{StatusFailed, StatusNotAttempted, StatusUnknown}

// Run reads the provisioning report o.Report and mails each person with a link their own
// message, or writes it (o.OutDir), recording every person in the mail report as it goes, or
// renders it (o.DryRun), writing nothing.
//
// Its error is nil when every message went; a *provision.ConfigError when nothing was sent because of the
// options, the report or an existing mail report (ErrExists, ErrOtherRun); ErrAborted (wrapped)
// when the server refused the login or the sender or could not be reached, or another run
// holds the report or the mail report (lock.ErrLocked, wrapped too); ErrMailReport (wrapped)
// when the mail report could not be written; ctx's error when interrupted; ErrFailed when
// some messages failed.
func Run(ctx context.Context, o Options) (Summary, error) {
	s, err := prepare(o)
	if err != nil {
		return Summary{}, err
	}
	return s.run(ctx, nil)
}

// run runs the prepared setup. newDeliverer, when not nil, replaces the transport (tests).
func (s *setup) run(ctx context.Context, newDeliverer func() deliverer) (Summary, error) {
	o := &s.o
	start := o.Now()
	defer context.AfterFunc(ctx, func() {
		o.Log.Warn("interrupted: finishing the messages under way and writing the mail report; interrupt again to exit at once")
	})()
	sum := Summary{Tally: provision.Tally[Status]{Counts: make(provision.Counts[Status])}}
	if _, err := os.Stat(o.Report); err != nil { // said as such, not as a lock file's trouble
		return sum, configf("reading the report: %w", err)
	}
	// The report is locked as a provisioning run locks it, for the whole run: a report that a
	// provisioning run is still writing is not mailed, nor provisioned while it is mailed.
	unlockReport, err := s.lock(o.Report, "the report")
	if err != nil {
		return sum, err
	}
	defer unlockReport()
	// A resumed provisioning run writes its new lines beside the report until its end: stopped
	// before, its people only there (remembered by --state) would never be mailed.
	if tmp := report.TempPath(o.Report); exists(tmp) {
		return sum, configf("%s is %w: the provisioning run that wrote %s was stopped while resuming, and the people it added are only there: "+
			"finish it with %s first", tmp, report.ErrLeftOver, o.Report, provisionOpt("Resume", "resume"))
	}
	lines, err := report.ReadLines(o.Report)
	if err != nil {
		return sum, configf("reading the report: %w", err)
	}
	for _, l := range lines {
		if l.Status == string(provision.StatusNotAttempted) {
			sum.Unprovisioned++
		}
	}
	if i := slices.IndexFunc(lines, func(l report.Line) bool { return l.Status == string(provision.StatusValid) }); i >= 0 {
		// Else every person is skipped, no link, and the run ends well having mailed nobody.
		return sum, configf("%s is the report of a provisioning dry run (row %d is %s: it would have been sent), with no link in it: "+
			"nobody to mail; mail the report of the run without %s", o.Report, lines[i].Row, provision.StatusValid, provisionOpt("DryRun", "a dry run"))
	}
	// A dry run writes no mail report: it neither takes its lock nor needs --overwrite, and
	// with --resume only reads it, to render the messages a real run would send.
	if !o.MailReportLocked && !o.DryRun {
		unlock, err := s.lock(s.mailReport, opt("MailReport"))
		if err != nil {
			return sum, err
		}
		defer unlock()
	}
	kept, err := s.kept()
	if err != nil {
		return sum, err
	}
	if s.smtp != nil && !o.DryRun {
		// Said before anything is written: a run that cannot journal its messages sends none.
		if err := safefile.CheckReplace(JournalPath(s.mailReport)); err != nil {
			return sum, configf("the journal of messages in flight: %w", err)
		}
	}
	resend := make(map[string]string, len(o.Resend))
	for _, addr := range o.Resend {
		resend[provision.EmailKey(strings.TrimSpace(addr))] = addr
	}
	settled, jobs, carried, err := lineup(lines, o.Link, kept, resend, o.Leave)
	if err != nil {
		return sum, err
	}
	if err := s.checkCarried(carried); err != nil {
		return sum, err
	}
	keptN := carried.kept - carried.left
	status, transport := StatusSent, ""
	switch {
	case o.DryRun:
		status, transport = StatusRendered, "dry run"
		r := &renderer{out: o.Stdout}
		if len(o.To) > 0 {
			if r.to, err = checkTo(o.To, settled, jobs); err != nil {
				return sum, err
			}
		}
		newDeliverer = cmpOr(newDeliverer, func() deliverer { return r })
	case o.OutDir != "":
		status, transport = StatusWritten, o.OutDir
		open, err := prepareOutDir(o.OutDir)
		if err != nil {
			return sum, configf("%s: %w", opt("OutDir"), err)
		}
		if open {
			o.Log.Warn("the "+o.Names.Name(opt("OutDir"))+" folder is readable by other users, and every file in it logs somebody in: chmod 700 it", "dir", o.OutDir)
		}
		newDeliverer = cmpOr(newDeliverer, func() deliverer { return fileWriter{o.OutDir} })
	default:
		transport = s.smtp.String()
		newDeliverer = cmpOr(newDeliverer, func() deliverer { return newSMTPConn(s.smtp, o.TLS, o.Timeout) })
	}
	var w resultWriter = discard{}
	mailReport := "none (dry run)"
	if !o.DryRun {
		if w, err = createReport(s.mailReport, o.Resume); err != nil {
			return sum, configf("creating the mail report: %w", err)
		}
		mailReport = s.mailReport
	}
	// record writes a line of the mail report and counts it; emit does so for this run's
	// results, whose attempts the summary counts too. The lines settled before sending carry
	// earlier runs' attempts into the mail report, not into this run's summary.
	record := func(r Result) error {
		if err := w.write(r); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrMailReport, s.mailReport, err)
		}
		sum.Counts[r.Status]++
		s.logResult(r)
		if o.Progress != nil {
			o.Progress(r)
		}
		return nil
	}
	emit := func(r Result) error {
		if err := record(r); err != nil {
			return err
		}
		sum.Attempts += r.Attempts
		sum.Retries += max(r.Attempts-1, 0)
		sum.Throttled += r.Deferred
		return nil
	}
	o.Log.Info("mailing", "report", o.Report, "mail_report", mailReport, "to", transport, "link", o.Link,
		"messages", len(jobs), "already_done", keptN, "not_to_mail", len(settled)-keptN, "rate", o.Rate, "concurrency", o.Concurrency)
	if o.Started != nil {
		o.Started(len(settled)+len(jobs), len(jobs))
	}
	var runErr error
	for _, r := range settled {
		if runErr = record(r); runErr != nil {
			break
		}
	}
	var jl *journal
	if runErr == nil && status == StatusSent {
		// The lines carried, the unknown among them, are in the mail report now: the journal
		// of an earlier run has nothing more to say, and this run's starts.
		err := w.Sync()
		if err == nil {
			jl, err = createJournal(s.mailReport)
		}
		if err != nil {
			err = fmt.Errorf("the journal of messages in flight could not be started: %w", err)
			runErr = fmt.Errorf("%w: %w", ErrMailReport, err)
			for _, j := range jobs { // every person has their line all the same
				if emit(Result{Row: j.row, Email: j.email, Status: StatusNotAttempted, LinkSHA256: j.linkHash, Err: err}) != nil {
					break
				}
			}
		}
	}
	if runErr == nil {
		runErr = s.dispatch(ctx, jobs, newDeliverer, status, jl, emit)
	}
	closeErr := w.Close()
	s.endJournal(jl, closeErr == nil && !o.DryRun) // a dry run leaves an earlier run's journal be
	if err := closeErr; err != nil {
		err = fmt.Errorf("%w: %s: %w", ErrMailReport, s.mailReport, err)
		if runErr != nil { // the run's own end comes first, but this must not go unsaid
			o.Log.Error("the mail report could not be closed", "error", err.Error())
		} else {
			runErr = err
		}
	}
	sum.Elapsed = o.Now().Sub(start)
	s.templates.logFallbacks(o.Log)
	s.logSummary(sum, keptN, runErr)
	switch {
	case runErr != nil:
		if errors.Is(runErr, context.Canceled) && !o.DryRun {
			o.Log.Warn("interrupted: the people not mailed are not_attempted; run again with "+o.Names.Name(opt("Resume"))+" to mail them", "mail_report", s.mailReport)
		}
		return sum, runErr
	case sum.Counts.Any(unmailed...):
		return sum, ErrFailed
	}
	return sum, nil
}

// endJournal closes this run's journal, and removes the journal when the mail report is
// complete: each message it records has its line there.
func (s *setup) endJournal(jl *journal, complete bool) {
	if jl != nil {
		if err := jl.w.Close(); err != nil {
			s.o.Log.Warn("the journal of messages in flight could not be closed", "error", err.Error())
		}
	}
	if complete {
		if err := safefile.RemoveOwned(JournalPath(s.mailReport)); err != nil {
			s.o.Log.Warn("the journal of messages in flight could not be removed (it is harmless: the mail report records each of its messages)", "error", err.Error())
		}
	}
}

// checkTo finds the people of a dry run's --to among the messages to render, by
// provision.EmailKey. One that is not is a provision.ConfigError naming them, and why.
func checkTo(to []string, settled []Result, jobs []job) (map[string]bool, error) {
	keys := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		keys[provision.EmailKey(j.email)] = true
	}
	lines := make(map[string]Result, len(settled))
	for _, r := range settled {
		if k := provision.EmailKey(r.Email); r.Status != StatusSkipped || lines[k].Email == "" {
			lines[k] = r
		}
	}
	want := make(map[string]bool, len(to))
	for _, addr := range to {
		k := provision.EmailKey(strings.TrimSpace(addr))
		if keys[k] {
			want[k] = true
			continue
		}
		r, ok := lines[k]
		switch {
		case !ok:
			return nil, configf("%s %s: not in the report", opt("To"), addr)
		case r.Status == StatusSent || r.Status == StatusWritten:
			return nil, configf("%s %s: already mailed (row %d, kept by %s): no message to render", opt("To"), addr, r.Row, opt("Resume"))
		case r.Err != nil:
			return nil, configf("%s %s: no message to render (row %d, %s: %v)", opt("To"), addr, r.Row, r.Status, r.Err)
		}
		return nil, configf("%s %s: no message to render (row %d, %s)", opt("To"), addr, r.Row, r.Status)
	}
	return want, nil
}

// kept reads what an earlier run recorded: with Resume, the people to keep; without, it makes
// sure that the mail report records no delivery it would wipe out.
func (s *setup) kept() (map[string]Result, error) {
	o := &s.o
	doneStatuses := []Status{StatusSent}
	if o.OutDir != "" {
		doneStatuses = append(doneStatuses, StatusWritten)
	}
	if o.Overwrite || o.DryRun && !o.Resume { // nothing to keep, nor anything replaced
		return map[string]Result{}, nil
	}
	// The people perhaps mailed (unknown) are kept as those mailed are: they are mailed
	// again only on purpose (Resend).
	ids := make(map[string]bool)
	kept, err := readReport(s.mailReport, ids, append(doneStatuses, StatusUnknown)...)
	var inflight map[string]Result
	if err == nil {
		inflight, err = inFlight(s.mailReport, ids)
	}
	switch {
	case err != nil && o.Resume:
		return nil, configf("%s: %w", opt("Resume"), err)
	case err != nil:
		return nil, configf("%w: give %s to replace it", err, opt("Overwrite"))
	case o.Resume:
		maps.Copy(kept, inflight) // their last message is more recent than any line
		return kept, nil
	}
	// A mail report that delivered nothing (a dry run, a run stopped before its first message)
	// records nothing worth keeping; one that did must not be lost by accident. Messages
	// written as .eml files are not mailed: a run that sends replaces their record on its own.
	maps.Copy(kept, inflight)
	if n := len(kept); n > 0 {
		what := "people already mailed, or perhaps mailed (unknown)"
		if o.OutDir != "" {
			what = "people already mailed or perhaps mailed, or written as .eml files"
		}
		where := s.mailReport + " records" // a kill -9 may have left them in its journal only
		if len(inflight) > 0 {
			where = fmt.Sprintf("%s and its journal %s record", s.mailReport, JournalPath(s.mailReport))
		}
		return nil, configf("%w: %s %d %s: add %s to do only the others, or %s to replace it", ErrExists, where, n, what, opt("Resume"), opt("Overwrite"))
	}
	return map[string]Result{}, nil
}

// LockMailReport takes the lock of the mail report of o (MailReport, or the one beside Report),
// as Run does, for a caller that does more than Run under it: provisioning with --mail holds it
// from before provisioning to the end of the mail run, which it gives MailReportLocked. Its
// errors are Run's for the same lock.
func LockMailReport(o Options) (unlock func(), err error) {
	s := &setup{o: o, mailReport: cmp.Or(o.MailReport, DefaultMailReport(o.Report))}
	return s.lock(s.mailReport, opt("MailReport"))
}

// lock takes the lock of path (the report, or the mail report) for a mail run. Held by
// another run, it is ErrAborted, whose words say which run holds it; a lock that cannot be
// made (a folder not there, or not writable) is a provision.ConfigError.
func (s *setup) lock(path string, what any) (unlock func(), err error) {
	unlock, err = lock.LockAs(path, "a mail run")
	switch {
	case errors.Is(err, lock.ErrLocked):
		return nil, fmt.Errorf("%w: %s %s is in use: %w", ErrAborted, what, path, err)
	case err != nil:
		return nil, configf("%s %s: %w", what, path, err)
	}
	return unlock, nil
}

// checkCarried refuses a resume from a mail report most of whose people mailed are not in the
// report with the link they were mailed: it is another provisioning run's mail report, and
// resuming from it would leave those people without their new link. It logs what a resume
// that goes on carries over, and what it does not.
func (s *setup) checkCarried(c carried) error {
	o := &s.o
	if n := c.earlier(); n > 0 && c.kept*2 < n {
		return configf("%s: %s %w: of the %d people it records as mailed, %d are in %s with the link they were mailed "+
			"(%d have another link in it, %d are not in it or have no link); give this report a %s of its own, "+
			"or %s to mail everyone in it again", opt("Resume"), s.mailReport, ErrOtherRun, n, c.kept, o.Report, c.changed, c.gone,
			opt("MailReport"), opt("Overwrite"))
	}
	if c.byEmail > 0 {
		o.Log.Warn("the mail report has no link_sha256 column (an older version wrote it): its people are kept as mailed by their email alone, "+
			"whatever their link in this report; give "+o.Names.Name(opt("Overwrite"))+" instead of "+o.Names.Name(opt("Resume"))+" if the report is of another provisioning run",
			"mail_report", s.mailReport, "kept_by_email", c.byEmail)
	}
	if c.changed > 0 {
		o.Log.Warn("people mailed before have another link in this report: mailing them their new one", "people", c.changed)
	}
	if c.gone > 0 {
		o.Log.Warn("people mailed before are not in this report, or have no link in it: their lines are left out of the mail report",
			"mail_report", s.mailReport, "people", c.gone)
	}
	return nil
}

// logSummary logs the one line that sums up a run: "done", or how it ended otherwise. kept is
// how many of the lines sent were kept from an earlier run, which the rate leaves out.
func (s *setup) logSummary(sum Summary, kept int, runErr error) {
	mailReport := s.mailReport
	if s.o.DryRun {
		mailReport = "none (dry run)"
	}
	args := provision.LogCounts([]any{"mail_report", mailReport}, Statuses, sum.Counts)
	delivered := sum.Counts[StatusSent] + sum.Counts[StatusWritten] + sum.Counts[StatusRendered]
	args = append(args, "attempts", sum.Attempts, "retries", sum.Retries, "deferred_4xx", sum.Throttled,
		"elapsed_s", provision.LogSeconds(sum.Elapsed), "messages_per_sec", provision.LogRate(delivered-kept, sum.Elapsed))
	doneWith := "done, with messages that failed"
	if sum.Counts[StatusUnknown] > 0 {
		doneWith = "done, with people unknown (perhaps mailed: a run killed during the transaction, or no reply to the end of the message; the log names them; check, then mail them with " + s.resend() + ")"
		if sum.Counts.Any(StatusFailed, StatusNotAttempted) {
			doneWith = "done, with messages that failed, and " + strings.TrimPrefix(doneWith, "done, with ")
		}
	}
	provision.LogEnd(s.o.Log, runErr, sum.Counts.Any(unmailed...), doneWith, args...)
}

// logResult logs one person's line: failures for the operator's eyes, the rest for debugging.
// Never a link: the result holds none.
func (s *setup) logResult(r Result) {
	switch r.Status {
	case StatusFailed:
		s.warnings.Warn("not mailed", "row", r.Row, "email", r.Email, "attempts", r.Attempts, "error", oneLine(r.Err))
	case StatusUnknown:
		s.o.Log.Warn("not mailed: perhaps mailed already (a run killed during the transaction, or no reply to the end of the message); "+
			"check the SMTP server's log for the message_id, or ask them, then mail them on purpose with mail "+s.resend(),
			"row", r.Row, "email", r.Email, "message_id", r.MessageID, "error", oneLine(r.Err))
	case StatusSkipped:
		s.o.Log.Debug("skipped", "row", r.Row, "email", r.Email, "reason", oneLine(r.Err))
	default:
		s.o.Log.Debug(string(r.Status), "row", r.Row, "email", r.Email, "message_id", r.MessageID, "attempts", r.Attempts)
	}
}

// resend is how the log names the remedy for a person perhaps mailed: resumed, resend them.
func (s *setup) resend() string {
	return s.o.Names.Name(opt("Resume")) + " " + s.o.Names.Name(opt("Resend")) + " EMAIL"
}

// exists reports whether something is at path, be it a link.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func cmpOr(f, g func() deliverer) func() deliverer {
	if f != nil {
		return f
	}
	return g
}
