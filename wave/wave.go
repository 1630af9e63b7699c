// Package wave is one provisioning run: it reads the HR file, sends each person through the
// pool, writes the report and, with a state, remembers what was provisioned. It is the twin of
// package mail, which mails the report it writes.
package wave

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
)

// unfinished are the statuses of the rows that an operator must look at: exit status 1.
var unfinished = []provision.Status{provision.StatusFailed, provision.StatusInvalid}

// ErrRowsFailed says that the run went through but some rows are failed or invalid.
var ErrRowsFailed = errors.New("some rows failed or are invalid: see the report")

// ErrIncomplete says that the report or the state could not be written completely.
var ErrIncomplete = errors.New("the report or the state is incomplete")

// Run provisions the people of o.Input and writes the report, holding the report's lock (and
// the state's) for the whole run.
//
// Its rules: each result is settled by the state plan, then written to the report if the plan
// reports it, then recorded in the state; the state is committed only after the report is
// synced, so that a row is never remembered as provisioned while its link is not in a report;
// and of the ways a run can end, a report or state not written completely wins (runOutcome).
//
// Its error is nil when every row went; a *provision.ConfigError when nothing was sent because
// of the options; lock.ErrLocked (wrapped) when another run holds the report or the state;
// ErrIncomplete (wrapped) when the report or the state could not be written; provision.ErrInput
// or provision.ErrAborted (wrapped) when the input or the API stopped the run; ctx's error when
// interrupted; ErrRowsFailed when some rows failed or are invalid.
func Run(ctx context.Context, o Options) (sum provision.Summary, err error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := o.check(); err != nil {
		return sum, err
	}
	links, err := report.NewLinks(o.Subdomain, o.WebAppURL, o.WidgetURL, o.WidgetID)
	if le, ok := errors.AsType[*report.LinkError](err); ok {
		return sum, configf("%s: %w", opt(linkFields[le.Setting]), err)
	} else if err != nil {
		return sum, configf("%w", err)
	}
	reader, err := openReader(&o)
	if err != nil {
		return sum, err
	}
	defer reader.Close()
	if ignored := reader.Ignored(); len(ignored) > 0 {
		log.Info("ignored columns: "+strings.Join(ignored, ", "), "hint", o.Names.Name(opt("Read.Map"))+" FIELD=COLUMN reads one of them")
	}

	unlock, err := lock.LockAs(o.Report, "a provisioning run") // named, for a mail run of the report to say who holds it
	if err != nil {
		if errors.Is(err, lock.ErrLocked) {
			return sum, err
		}
		return sum, configf("%s: %w", opt("Report"), err) // a folder that is not there or not writable
	}
	defer unlock()
	plan, closeState, err := openState(&o)
	if err != nil {
		return sum, err
	}
	defer closeState()
	w, done, err := openReport(&o, log, links, plan != nil)
	if err != nil {
		return sum, err
	}
	if plan != nil {
		plan.Store.BeforeCommit(w.Sync)
	}
	pool := newPool(&o)
	if o.Started != nil {
		o.Started(Running{Count: reader.CountRows, Throttles: pool.Throttles, PausedUntil: pool.PausedUntil})
	}
	defer context.AfterFunc(ctx, func() {
		log.Warn("interrupted: finishing the requests in flight and writing the report; interrupt again to exit at once")
	})()
	rowLog := provision.RowWarnings{Log: log, More: "more rows failed or are invalid: see the report's status and error columns"}
	job := &provision.Job{Source: reader, Pool: pool, DryRun: o.DryRun, Skip: plan.Skipper(done.Skip),
		Emit: func(res provision.Result) error {
			plan.Settle(&res)
			if plan.Reports(res) {
				if err := w.Write(res); err != nil {
					return err
				}
			}
			if err := plan.Record(res); err != nil {
				log.Error("the state cannot be saved; the run goes on, and the next run will send the rows not saved again", "error", err.Error())
			}
			if o.Progress != nil {
				o.Progress(res)
			}
			if res.Err != nil && res.Status != provision.StatusNotAttempted {
				rowLog.Warn("row "+string(res.Status), "row", res.Row.Line, "email", res.Row.User.Email, "attempts", res.Attempts, "error", res.Err.Error())
			}
			return nil
		}}
	name := o.Input
	if name == "-" && o.StdinName != "" {
		name = o.StdinName
	}
	startArgs := []any{"input", name, "format", reader.Format(), "report", o.Report, "columns", columnList(reader.Columns()),
		"dry_run", o.DryRun, "resume", o.Resume, "already_ok", len(done), "rate", o.Rate, "concurrency", o.Concurrency}
	if plan != nil {
		startArgs = append(startArgs, "state", o.State, "state_users", plan.Store.Len(), "force", o.Force,
			"refresh_after_s", provision.LogSeconds(o.RefreshAfter), "only_changes", o.OnlyChanges)
	}
	log.Info("starting", startArgs...)
	sum, runErr := job.Run(ctx)
	sum.Blank = reader.Blank()
	if sum.Unread {
		log.Warn("the rest of the input was not read after the interruption: those rows have no line in the report; "+o.Names.Name(opt("Resume"))+" sends them",
			"rows_reported", sum.Rows)
	}
	// The rows ok in the report being resumed that this run did not write again keep their
	// line: those people are provisioned, and their links must stay where mail reads them.
	kept, _ := w.WriteKept() // an error is the report's, which Close returns
	for _, res := range kept {
		plan.Settle(&res)
		sum.Rows++
		sum.Counts[res.Status]++
	}
	if len(kept) > 0 {
		log.Info("kept the lines of rows ok in the report being resumed that this run did not reach or did not send ok", "rows", len(kept))
	}
	closeErr := w.Close()
	// The state is committed after the report is synced: a row must never be remembered as
	// provisioned while its link is not in a report.
	stateErr := closeState()
	logSummary(log, sum, o.Report, plan.Changes(), runErr)
	return sum, runOutcome(log, o.Report, o.Names.Name(opt("Resume")), sum, runErr, closeErr, stateErr)
}

// openReader opens the input and reads its header.
func openReader(o *Options) (*input.Reader, error) {
	reader, err := input.Open(o.Input, o.Stdin, o.Read)
	if err != nil {
		var fe *input.FileError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", o.Input, err)
		}
		return nil, fmt.Errorf("%w: reading %s: %w", provision.ErrInput, o.Input, err)
	}
	return reader, nil
}

// openReport creates the report (beside the old one when resuming) and returns, with it, the
// rows an earlier run already did.
func openReport(o *Options, log *slog.Logger, links report.Links, withChange bool) (*report.Writer, report.DoneSet, error) {
	mode, err := report.ModeFor(o.Report, o.Resume, o.Overwrite)
	if errors.Is(err, report.ErrLeftOver) {
		return nil, nil, configf("%w: add %s to finish it, or %s to start again", err, opt("Resume"), opt("Overwrite"))
	}
	if err != nil {
		return nil, nil, provision.Configf("%w", err)
	}
	var done report.DoneSet
	if mode == report.Overwrite && withChange && !o.Force {
		if err := checkOverwrite(o); err != nil {
			return nil, nil, err
		}
	}
	if mode == report.Resume {
		if done, err = report.ReadBack(o.Report, func(path string, line int) {
			log.Warn("the last line of the report has no newline at its end and not every column: it was cut short, and is not read; the row is sent again",
				"report", path, "line", line)
		}); err != nil {
			return nil, nil, configf("%s: %w", opt("Resume"), err)
		}
		if len(done) == 0 {
			msg := o.Names.Name(opt("Resume")) + ": no ok rows in an earlier report; every row will be sent"
			if withChange && !o.Force {
				msg += " but those unchanged since their last ok (" + o.Names.Name(opt("State")) + ")"
			}
			log.Info(msg, "report", o.Report)
		}
		if err := checkResume(o, done, log); err != nil {
			return nil, nil, err
		}
	}
	opts := []report.Option{report.Keep(done)}
	if withChange {
		opts = append(opts, report.WithChange())
	}
	w, err := report.Create(o.Report, mode, links, opts...)
	if errors.Is(err, report.ErrExists) {
		return nil, nil, configf("report %s exists: add %s to continue that run, or %s to replace it", o.Report, opt("Resume"), opt("Overwrite"))
	}
	if err != nil {
		return nil, nil, provision.Configf("creating the report: %w", err)
	}
	return w, done, nil
}

// runOutcome turns how the run ended into the error for exitCode, logging what the operator must
// know beyond the summary (resume is how the log names the Resume option). A report or state
// that could not be written wins over every other outcome: the operator must know that the
// report may not say everything.
func runOutcome(log *slog.Logger, reportPath, resume string, sum provision.Summary, runErr, closeErr, stateErr error) error {
	var incomplete []error
	if errors.Is(runErr, provision.ErrEmit) {
		incomplete = append(incomplete, runErr)
	}
	if closeErr != nil {
		log.Error("the report could not be closed: its last lines may be missing", "report", reportPath, "error", closeErr.Error())
		incomplete = append(incomplete, fmt.Errorf("closing the report %s: %w", reportPath, closeErr))
	}
	if stateErr != nil {
		log.Error("the state could not be saved: the next run will send again the rows not saved", "error", stateErr.Error())
		incomplete = append(incomplete, fmt.Errorf("saving the state: %w", stateErr))
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		log.Warn("interrupted: rows not sent are not_attempted; run again with "+resume+" to finish", "report", reportPath)
	case errors.Is(runErr, provision.ErrInput):
		log.Error("the report holds only the rows read before the input failed; fix the file and run again with "+resume, "report", reportPath)
	}
	switch {
	case len(incomplete) > 0:
		return fmt.Errorf("%w: %w", ErrIncomplete, errors.Join(incomplete...))
	case runErr != nil:
		return runErr
	case sum.Counts.Any(unfinished...):
		return ErrRowsFailed
	}
	return nil
}

func newPool(o *Options) *provision.Pool {
	httpClient := o.HTTPClient
	if httpClient == nil {
		// One transport, with as many idle connections as requests in flight, so that every
		// worker reuses its connection.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = o.Concurrency * 2
		t.MaxIdleConnsPerHost = o.Concurrency * 2
		httpClient = &http.Client{Transport: t}
	}
	return &provision.Pool{
		Endpoint: &ideanote.Client{BaseURL: o.BaseURL, SpaceID: o.SpaceID, APIToken: o.APIToken,
			HTTPClient: httpClient, UserAgent: o.UserAgent},
		Pacer:       pace.New(o.Rate, o.Burst),
		Concurrency: o.Concurrency,
		MaxAttempts: o.MaxAttempts,
		MaxWait:     o.MaxWait,
		Timeout:     o.Timeout,
	}
}

// logSummary logs the one line that sums up a run: "done", or how it ended otherwise; changes,
// when not nil, is the change counts of --state.
func logSummary(log *slog.Logger, s provision.Summary, path string, changes map[string]int, runErr error) {
	args := provision.LogCounts([]any{"report", path, "rows", s.Rows}, provision.Statuses, s.Counts)
	if changes != nil {
		args = append(args, slog.Group("change", state.New, changes[state.New], state.Changed, changes[state.Changed],
			state.Unchanged, changes[state.Unchanged], state.Refreshed, changes[state.Refreshed]))
	}
	args = append(args, "attempts", s.Attempts, "throttled_429", s.Throttled, "blank_rows", s.Blank,
		"elapsed_s", provision.LogSeconds(s.Elapsed), "requests_per_sec", provision.LogRate(s.Attempts, s.Elapsed))
	provision.LogEnd(log, runErr, s.Counts.Any(unfinished...), "done, with failed or invalid rows", args...)
}

// columnList shows which input column fills each field, as in "email=Work Email name=Name".
func columnList(cols map[string]string) string {
	var parts []string
	for _, f := range provision.Fields {
		names := []string{f.Name}
		if f.Name == "name" {
			names = append(names, "firstname", "lastname") // joined into name when there is no name column
		}
		for _, n := range names {
			if c, ok := cols[n]; ok {
				parts = append(parts, n+"="+c)
			}
		}
	}
	return strings.Join(parts, " ")
}
