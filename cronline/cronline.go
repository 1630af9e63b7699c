// Package cronline is the one cron line: a provisioning run (wave.Run), then, with mail, the mail
// run (mail.Run) of this run's people, then, with a state, the mail run with resume of each
// earlier report whose people are not all mailed, which the state remembers until they are.
package cronline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// Options is a run: its provisioning run, and its mail run when WithMail.
type Options struct {
	// Provision is the provisioning run; its State, when set, remembers the reports whose
	// people are not all mailed.
	Provision wave.Options
	// Mail is the mail run of Provision's report, as MailOf returns it. An earlier report's
	// mail run is this one with that report and Resume.
	Mail     mail.Options
	WithMail bool         // mail this run's people once provisioned; never in a dry run
	Log      *slog.Logger // nil logs nothing

	// Provisioned, when set, is called as wave.Run returns, before anything is mailed, with
	// its summary and error, and whether it was interrupted as Interrupted says (the command
	// line closes its bar, and says what comes next as this line does it).
	Provisioned func(sum provision.Summary, err error, interrupted bool)
	// MailRun runs one mail run (the command line wires its bar and closing lines); nil for
	// mail.Run.
	MailRun func(context.Context, mail.Options) (mail.Summary, error)
	// ExitStatus ranks an error by the exit status it maps to: of two errors the higher wins,
	// and 2 is a run stopped by its options, which sent nothing. Required.
	ExitStatus func(error) int
	// Words, when set, words an error for the log as the command line does: with the flag
	// that fixes it. Nil logs errors as they are.
	Words func(error) error
	// Remedies are the command line's words for each remedy, logged as the hint of the
	// lines that need one; a remedy not in it is not logged.
	Remedies map[Remedy]string
}

// Remedy is what an operator can do about people provisioned and not mailed; the command line
// words each in its own commands and flags (Options.Remedies).
type Remedy int

const (
	// RunAgain: the same line run again, resumed, mails the people provisioned so far.
	RunAgain Remedy = iota
	// NextRun: the next run with mail and the same state mails the reports it remembers.
	NextRun
	// MailByHand: the mail run of a report, resumed, mails its people not mailed yet.
	MailByHand
	// FinishProvisioning: the provisioning run of a report, resumed without mail, puts in place
	// the lines that a run stopped while resuming it left beside it (and sends into it the people
	// changed since, with new links); the next run with mail and the same state then mails the
	// report, each person once.
	FinishProvisioning
)

// hint is the log attribute that names the remedies rs, in the command line's words.
func (o *Options) hint(rs ...Remedy) slog.Attr {
	var words []string
	for _, r := range rs {
		if w := o.Remedies[r]; w != "" {
			words = append(words, w)
		}
	}
	return slog.String("hint", strings.Join(words, "; or "))
}

// NotMailedError is a mail run refused by its options (a template at fault...) after the
// people of Report were provisioned: nobody in it was mailed. It is an abort (mail.ErrAborted),
// not a configuration error, whose exit status says that nothing was sent.
type NotMailedError struct {
	Report string
	Err    error // why the mail run was refused; not in the chain
}

func (e *NotMailedError) Error() string {
	return fmt.Sprintf("%s: the mail run of %s did not start, so nobody was mailed: %s", mail.ErrAborted, e.Report, e.Err)
}
func (e *NotMailedError) Unwrap() error { return mail.ErrAborted }

// UnfinishedError is an earlier report that a provisioning run was stopped while resuming: the
// lines it wrote are beside it (report.TempPath), and nobody in it is mailed until a resumed
// provisioning run of it puts them in place. It is an abort (mail.ErrAborted): no later run
// finishes it on its own.
type UnfinishedError struct {
	Report string
}

func (e *UnfinishedError) Error() string {
	return fmt.Sprintf("%s: %s was being resumed by a provisioning run that was stopped, which left its new lines in %s: nobody in it is mailed until that run is finished",
		mail.ErrAborted, e.Report, report.TempPath(e.Report))
}
func (e *UnfinishedError) Unwrap() error { return mail.ErrAborted }

// notMailed returns err, the end of the mail run of report, as a *NotMailedError when the
// run's options refused it; any other error as it is.
func notMailed(report string, err error) error {
	if _, ok := errors.AsType[*provision.ConfigError](err); ok {
		return &NotMailedError{Report: report, Err: err}
	}
	return err
}

// exitUsage is the status of a run stopped by its options: nothing was sent.
const exitUsage = 2

// Summary is what the runs did.
type Summary struct {
	Provisioned  bool // the provisioning run started: it went past the mail report's lock
	Provision    provision.Summary
	ProvisionErr error        // how the provisioning run ended
	Mailed       bool         // this run's mail run went past its checks
	Mail         mail.Summary // this run's mail run
	MailErr      error        // how this run's mail run ended
}

// MailOf returns m as the mail run of the provisioning run p: of its report, resumed with it,
// replaced with it (new links, which everyone is mailed again), and waiting as long for a
// server that asks to slow down.
func MailOf(p wave.Options, m mail.Options) mail.Options {
	m.Report, m.Resume, m.Overwrite, m.MaxWait = p.Report, p.Resume, p.Overwrite, p.MaxWait
	return m
}

// CheckMail checks m, the mail run of the provisioning run p, as mail.Validate does, before
// anything is provisioned, and refuses it if it mails a link that p does not write: everyone
// would be provisioned and nobody mailed, and with a state a later run would not even list them.
func CheckMail(p wave.Options, m mail.Options) error {
	opt := func(of, field, words string) provision.Option {
		return provision.Option{Of: of, Field: field, Words: words}
	}
	link := opt("mail", "Link", "the link")
	switch {
	case m.Link == mail.LinkWidget && p.WidgetURL == "" && p.WidgetID == "":
		return provision.Configf("%s widget mails the widget link: give %s or %s too", link,
			opt("wave", "WidgetURL", "the widget URL"), opt("wave", "WidgetID", "the widget id"))
	case m.Link != mail.LinkWidget && p.Subdomain == "" && p.WebAppURL == "":
		return provision.Configf("%s mails the web-app link (%s login): give %s or %s too, or %[2]s widget", opt("cronline", "WithMail", "mailing"),
			link, opt("wave", "Subdomain", "the subdomain"), opt("wave", "WebAppURL", "the web-app URL"))
	}
	return mail.Validate(m)
}

// Mailing reports whether a run with o mails anyone: a dry run mails nobody.
func (o *Options) Mailing() bool { return o.WithMail && !o.Provision.DryRun }

// Run provisions, then mails as o says. Its error is the worst of the runs', by o.ExitStatus.
func Run(ctx context.Context, o Options) (sum Summary, err error) {
	if o.MailRun == nil {
		o.MailRun = mail.Run
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Words == nil {
		o.Words = func(err error) error { return err }
	}
	mailing := o.Mailing()
	if mailing {
		// One lock for both runs: no other run mails this report between them.
		unlock, err := mail.LockMailReport(o.Mail)
		if err != nil {
			return sum, err
		}
		defer unlock()
		o.Mail.MailReportLocked = true
	}
	// With a state, the state remembers tonight's report until its mail run mails everyone:
	// it remembers tonight's people as provisioned, so no later report lists them again. It
	// does so before anything is sent: a run killed while it provisions is mailed by the heal.
	var un *unmailed
	if mailing && o.Provision.State != "" {
		un = o.rememberUnmailed()
	}
	sum.Provisioned = true
	sum.Provision, err = wave.Run(ctx, o.Provision)
	interrupted := Interrupted(ctx, err)
	if o.Provisioned != nil {
		o.Provisioned(sum.Provision, err, interrupted)
	}
	sum.ProvisionErr = err
	if o.Provision.State != "" && !mailing && !o.sentNothing(err) {
		o.warnUnmailed()
	}
	if un != nil {
		if o.sentNothing(err) {
			o.unremember(un)
			un = nil
		} else if un.rememberErr != nil {
			o.Log.Warn("the state could not remember tonight's report until everyone in it is mailed: if its mail run does not mail them all, no later run will",
				"report", o.Provision.Report, "error", o.Words(un.rememberErr).Error(), o.hint(MailByHand))
		}
	}
	if !mailing || !reportToMail(interrupted, err) {
		if mailing {
			o.Log.Warn("nobody is mailed: the provisioning run was stopped before it sent anything, or interrupted", "report", o.Provision.Report, o.hint(RunAgain))
		}
		return sum, err
	}
	sum.Mail, sum.MailErr = o.MailRun(ctx, o.Mail)
	// Exit 2 says "nothing was sent", and people were provisioned: a mail run refused by its
	// options, which mailed nobody, must be read by a script as an abort.
	sum.MailErr = notMailed(o.Provision.Report, sum.MailErr)
	_, refused := errors.AsType[*NotMailedError](sum.MailErr)
	sum.Mailed = !refused
	err = o.worse(err, sum.MailErr)
	if un != nil {
		err = o.worse(err, o.heal(ctx, un, sum.MailErr))
	}
	return sum, err
}

// sentNothing reports whether a provisioning run that ended with err sent nothing: stopped by
// its options or a lock, before any request (exit 2, or a lock's 3).
func (o *Options) sentNothing(err error) bool {
	return o.ExitStatus(err) == exitUsage || errors.Is(err, lock.ErrLocked)
}

// Interrupted reports whether a run under ctx that ended with err was interrupted. An interrupt
// that comes as the run aborts (the API refusing the token) leaves err the abort's, and exit
// 3, but it is an interrupt all the same: the person asked the run to stop, so nothing more
// is started (no mail run), and the closing lines say so. The line and its closing lines both
// decide by it, so that they never disagree.
func Interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled)
}

// reportToMail reports whether a provisioning run that ended with err, interrupted as
// Interrupted says, leaves a report whose people with a link are to be mailed: every run that
// sent something, since the state remembers the people ok in its report whatever the end, and
// does not send them again (nor would a later run's report list them). Not a run stopped by
// its options or a lock, which sent nothing, nor one interrupted: the people ok so far are
// mailed by the same command run again, resumed.
func reportToMail(interrupted bool, err error) bool {
	if interrupted {
		return false
	}
	return err == nil || errors.Is(err, wave.ErrRowsFailed) || errors.Is(err, wave.ErrIncomplete) ||
		errors.Is(err, provision.ErrAborted) || errors.Is(err, provision.ErrInput)
}

// worse is the error of a and b whose exit status is the worse (the higher): the one status a
// run exits with.
func (o *Options) worse(a, b error) error {
	if o.ExitStatus(b) > o.ExitStatus(a) {
		return b
	}
	return a
}

// unmailed is what a run with mail and a state knows of the reports the state remembers as
// not all mailed: tonight's, and the earlier ones, which it mails after tonight's.
type unmailed struct {
	tonight     string // tonight's report, its key; "" when the state could not remember it
	added       bool   // this run remembered tonight's report first: no earlier run of it did
	rememberErr error  // why the state could not remember tonight's report
	earlier     []state.Unmailed
}

// withState locks and opens the state store for f, then closes it: the store is held only
// while f runs, never across provisioning (wave.Run opens it then) nor a mail run.
func (o *Options) withState(readOnly bool, f func(*state.Store) error) error {
	st, closeState, err := wave.OpenState(o.Provision.State, state.Options{Space: o.Provision.SpaceID, ReadOnly: readOnly})
	if err != nil {
		return err
	}
	err = f(st)
	if cerr := closeState(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// rememberUnmailed has the state remember tonight's report, and returns it with the earlier
// reports the state remembers. It runs before provisioning, and says nothing of an error:
// a run that then sends nothing (the state locked by another run, say) needs no warning.
func (o *Options) rememberUnmailed() *unmailed {
	un := &unmailed{}
	report, err := filepath.Abs(o.Provision.Report)
	if err == nil {
		var mailReport string
		if o.Mail.MailReport != "" {
			mailReport, err = filepath.Abs(o.Mail.MailReport)
		}
		if err == nil {
			err = o.withState(false, func(st *state.Store) error {
				added, err := st.RememberUnmailed(state.Unmailed{Report: report, MailReport: mailReport, Since: time.Now()})
				if err != nil {
					return err
				}
				un.added = added
				list, err := st.Unmailed()
				for _, u := range list {
					if u.Report != report {
						un.earlier = append(un.earlier, u)
					}
				}
				return err
			})
		}
	}
	if err != nil {
		un.rememberErr = err
		return un
	}
	un.tonight = report
	return un
}

// unremember has the state forget tonight's report again when this run remembered it and then
// sent nothing (stopped by its options or a lock): there is nobody in it to mail.
func (o *Options) unremember(un *unmailed) {
	if !un.added {
		return
	}
	err := o.withState(false, func(st *state.Store) error { return st.ForgetUnmailed(un.tonight) })
	if err != nil {
		// Harmless: a report that is not there is forgotten by the next run, with a warning.
		o.Log.Debug("the state could not forget tonight's report, which nothing was sent for", "report", o.Provision.Report, "error", o.Words(err).Error())
	}
}

// heal runs, after tonight's mail run (which ended with tonightErr), the mail run with resume
// on each earlier report still to mail, and has the state forget each report whose mail run
// ended with exit 0, or that no longer exists. Its error is the worst of those runs.
func (o *Options) heal(ctx context.Context, un *unmailed, tonightErr error) error {
	var worst error
	var done []string // the reports to forget
	if un.tonight != "" && tonightErr == nil {
		done = append(done, un.tonight)
	}
	if un.rememberErr != nil && tonightErr != nil {
		worst = fmt.Errorf("%w: the state does not remember %s, whose people are not all mailed: %w", wave.ErrIncomplete, o.Provision.Report, un.rememberErr)
	}
	for i, u := range un.earlier {
		if ctx.Err() != nil || errors.Is(tonightErr, mail.ErrAborted) {
			rest := make([]string, 0, len(un.earlier)-i)
			for _, u := range un.earlier[i:] {
				rest = append(rest, u.Report)
			}
			o.Log.Warn("earlier reports not mailed tonight: the mail run was aborted or interrupted",
				"reports", strings.Join(rest, ", "), o.hint(NextRun))
			break
		}
		switch err := o.finish(u.Report); {
		case errors.Is(err, fs.ErrNotExist):
			o.Log.Warn("an earlier report whose people were not all mailed no longer exists: the state forgets it", "report", u.Report)
			done = append(done, u.Report)
			continue
		case err != nil:
			remedy := NextRun
			if _, ok := errors.AsType[*UnfinishedError](err); ok {
				remedy = FinishProvisioning
			}
			o.Log.Warn("earlier report not mailed: its provisioning run is not finished", "report", u.Report,
				"exit", o.ExitStatus(err), "error", o.Words(err).Error(), o.hint(remedy))
			worst = o.worse(worst, err)
			continue
		}
		leave, err := o.newerLinks(u.Report)
		if err != nil {
			o.Log.Warn("earlier report not mailed: the state could not say who has a newer link", "report", u.Report,
				"exit", o.ExitStatus(err), "error", o.Words(err).Error(), o.hint(NextRun))
			worst = o.worse(worst, err)
			continue
		}
		o.Log.Info("mailing an earlier report whose people were not all mailed (resumed: nobody twice)", "report", u.Report,
			"since", u.Since.Format(time.RFC3339), "newer_links", len(leave))
		m := o.Mail
		m.Report, m.MailReport, m.Leave = u.Report, u.MailReport, leave
		m.Resume, m.Overwrite, m.MailReportLocked = true, false, false
		_, err = o.MailRun(ctx, m)
		err = notMailed(u.Report, err) // as for tonight's: its people were provisioned
		if err == nil {
			o.Log.Info("earlier report mailed: everyone in it is mailed", "report", u.Report, "exit", o.ExitStatus(nil))
			done = append(done, u.Report)
		} else {
			o.Log.Warn("earlier report not all mailed", "report", u.Report,
				"exit", o.ExitStatus(err), "error", o.Words(err).Error(), o.hint(NextRun))
		}
		worst = o.worse(worst, err)
	}
	if len(done) > 0 {
		err := o.withState(false, func(st *state.Store) error {
			for _, r := range done {
				if err := st.ForgetUnmailed(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// Harmless: the next run mails them again with resume, which mails nobody twice.
			o.Log.Warn("the state could not forget the reports now mailed: the next run that mails runs their mail run again, which mails nobody twice",
				"reports", strings.Join(done, ", "), "error", o.Words(err).Error())
		}
	}
	return worst
}

// finish puts in place an earlier report whose provisioning run was killed before it did: its
// lines are all in TempPath(report), and the report is not there. Every person that run
// provisioned has a line there (the state records no row before its line is written), and the
// rows it did not reach are not in the state, so a later run sends them: nothing is left to
// provision, and the report is mailed as it is. It returns an error wrapping fs.ErrNotExist
// when neither file is there; nil when the report is there with no REPORT.tmp beside it; an
// *UnfinishedError when both are: which lines of each to keep is a resumed provisioning run's
// to say.
func (o *Options) finish(path string) error {
	tmp := report.TempPath(path)
	if _, err := os.Lstat(tmp); errors.Is(err, fs.ErrNotExist) {
		_, err := os.Lstat(path)
		return err
	}
	// Held as a provisioning run holds it: no run of this report is writing it meanwhile.
	unlock, err := lock.LockAs(path, "the mail run of an earlier report")
	if err != nil {
		return err
	}
	defer unlock()
	switch _, err := os.Lstat(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		return &UnfinishedError{Report: path}
	}
	if err := report.PutInPlace(path); err != nil {
		return err
	}
	o.Log.Info("an earlier report whose provisioning run was stopped is put in place, to be mailed: everyone that run provisioned has a line in it",
		"report", path)
	return nil
}

// newerLinks returns the people of the earlier report at path, by provision.EmailKey, whose
// state entry is newer than their line: provisioned again since (tonight, or in a report after
// this one), they have a newer link, which that report's mail run mails. Mailed from this one
// too, they would have two messages, and perhaps the older link last. Each maps to the reason
// their mail report line gives.
//
// A person's entry is looked up as --resume pairs people (by sub when both have one, else by
// email): under their line's key, and under the other key the same person has when the external
// id (sub) column was added or dropped since, which keys them by sub one run and by email the
// other; the entry under the line's key is then the older one.
func (o *Options) newerLinks(path string) (map[string]string, error) {
	// The lines mail reads (ReadLines, with a complete last line that has no newline): a
	// person left out here must be the person mail would mail. Read before the state is
	// locked, so that it is held for the lookups only.
	lines, err := report.ReadLines(path)
	if err != nil {
		return nil, err
	}
	leave := make(map[string]string)
	err = o.withState(true, func(st *state.Store) error {
		// The newest entry keyed by sub of each address: a line without a sub is that person.
		bySub := make(map[string]time.Time)
		err := st.Each(func(key string, e state.Entry) {
			email := strings.TrimSpace(e.Email)
			if email != "" && key != state.Key(provision.User{Email: email}) && e.At.After(bySub[provision.EmailKey(email)]) {
				bySub[provision.EmailKey(email)] = e.At
			}
		})
		if err != nil {
			return err
		}
		for _, l := range lines {
			if s := provision.Status(l.Status); s != provision.StatusOK && s != provision.StatusSkipped {
				continue
			}
			if l.Finished.IsZero() {
				continue // no time to compare: mailed, as it would be without a state
			}
			email := strings.TrimSpace(l.Email)
			var at time.Time
			if e, ok := st.Get(state.Key(provision.User{Email: email, Sub: l.Sub})); ok {
				at = e.At
			}
			if l.Sub != "" { // the same person provisioned since without a sub
				if e, ok := st.Get(state.Key(provision.User{Email: email})); ok && e.At.After(at) {
					at = e.At
				}
			} else if t := bySub[provision.EmailKey(email)]; t.After(at) { // or with one
				at = t
			}
			// The report says the time to the second, as it was taken for the state entry.
			if at.Truncate(time.Second).After(l.Finished) {
				leave[provision.EmailKey(email)] = "not mailed from this report: provisioned again since, at " +
					at.UTC().Format(time.RFC3339) + ", with a newer link, which a later report mails"
			}
		}
		return nil
	})
	return leave, err
}

// warnUnmailed names, in a run without mail (or a dry run), the reports the state remembers
// as not all mailed, and how to mail them.
func (o *Options) warnUnmailed() {
	var list []state.Unmailed
	err := o.withState(true, func(st *state.Store) error {
		var err error
		list, err = st.Unmailed()
		return err
	})
	if err != nil {
		o.Log.Debug("the state's reports to mail could not be read", "error", o.Words(err).Error())
		return
	}
	for _, u := range list {
		hint := o.hint(NextRun, MailByHand)
		if _, err := os.Lstat(report.TempPath(u.Report)); err == nil {
			hint = o.hint(NextRun) // which puts it in place first: the mail run alone refuses it
			if _, err := os.Lstat(u.Report); err == nil {
				hint = o.hint(FinishProvisioning)
			}
		}
		o.Log.Warn("the state remembers a report whose people are not all mailed",
			"report", u.Report, "since", u.Since.Format(time.RFC3339), hint)
	}
}
