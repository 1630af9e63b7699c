package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
)

// execute runs the job described by o. httpClient, when not nil, replaces the default
// transport (the demo's fake server).
func execute(ctx context.Context, o *options, stdin io.Reader, stderr io.Writer, httpClient *http.Client) (err error) {
	logOut := &logWriter{w: stderr}
	log := newLogger(o.logFormat, logOut)
	if err := o.check(func(msg string, args ...any) { log.Warn(msg, args...) }); err != nil {
		return err
	}
	// Every run past the checks writes its metrics, however it ends: job.Run below fills sum.
	var sum provision.Summary
	defer func(start time.Time) {
		writeMetrics(log, o.metricsFile, metrics.ProvisionPrefix, provisionMetrics(sum), start, err)
	}(time.Now())
	links, err := report.NewLinks(o.subdomain, o.webAppURL, o.widgetURL, o.widgetID)
	if err != nil {
		return usagef("%w", err)
	}
	reader, err := openReader(o, stdin)
	if err != nil {
		return err
	}
	defer reader.Close()
	if ignored := reader.Ignored(); len(ignored) > 0 {
		log.Info("ignored columns: "+strings.Join(ignored, ", "), "hint", "--map FIELD=COLUMN reads one of them")
	}

	unlock, err := lock.LockAs(o.reportPath, "a provisioning run") // named, for a mail run of the report to say who holds it
	if err != nil {
		if errors.Is(err, lock.ErrLocked) {
			return err
		}
		return usagef("--report: %w", err) // a folder that is not there or not writable
	}
	defer unlock()
	plan, closeState, err := openState(o)
	if err != nil {
		return err
	}
	defer closeState()
	w, done, err := openReport(o, log, links, plan != nil)
	if err != nil {
		return err
	}
	if plan != nil {
		plan.Store.BeforeCommit(w.Sync)
	}
	pool := newPool(o, httpClient)
	prog := newProgress(o.progress, stderr, log, reader.CountRows, pool.Throttles)
	if prog.terminal() {
		logOut.clearBefore(prog.clear)
	}
	defer context.AfterFunc(ctx, func() {
		prog.clear()
		log.Warn("interrupted: finishing the requests in flight and writing the report; interrupt again to exit at once")
	})()
	rowLog := rowLogger{log: log}
	job := &provision.Job{Source: reader, Pool: pool, DryRun: o.dryRun, Skip: plan.Skipper(done.Skip),
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
			prog.add(res)
			rowLog.record(res)
			return nil
		}}
	startArgs := []any{"input", o.input, "format", reader.Format(), "report", o.reportPath, "columns", columnList(reader.Columns()),
		"dry_run", o.dryRun, "resume", o.resume, "already_ok", len(done), "rate", o.rate, "concurrency", o.concurrency}
	if plan != nil {
		startArgs = append(startArgs, "state", o.statePath, "state_users", plan.Store.Len(), "force", o.force,
			"refresh_after", o.refreshAfter.String(), "only_changes", o.onlyChanges)
	}
	log.Info("starting", startArgs...)
	sum, runErr := job.Run(ctx)
	sum.Blank = reader.Blank()
	prog.finish()
	logOut.clearBefore(nil)
	closeErr := w.Close()
	// The state is committed after the report is synced: a row must never be remembered as
	// provisioned while its link is not in a report.
	stateErr := closeState()
	logSummary(log, sum, o.reportPath, plan.Changes(), runErr)
	prog.nextSteps(o.reportPath, o.input, o.dryRun, sum)
	return runOutcome(log, o.reportPath, sum, runErr, closeErr, stateErr)
}

// openReader opens the input and reads its header.
func openReader(o *options, stdin io.Reader) (*input.Reader, error) {
	opts, err := o.inputOptions()
	if err != nil {
		return nil, err
	}
	reader, err := input.Open(o.input, stdin, opts)
	if err != nil {
		var fe *input.FileError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", o.input, err)
		}
		return nil, fmt.Errorf("%w: reading %s: %w", provision.ErrInput, o.input, err)
	}
	return reader, nil
}

// inputOptions are the options of the input reader.
func (o *options) inputOptions() (input.Options, error) {
	comma, err := o.comma()
	if err != nil {
		return input.Options{}, err
	}
	mapping, err := input.ParseMap(strings.Join(o.mapping, ","))
	if err != nil {
		return input.Options{}, usagef("%w", err)
	}
	return input.Options{Comma: comma, Encoding: o.encoding, Sheet: o.sheet, Map: mapping,
		Defaults: input.Defaults{Team: o.team, Locale: o.locale}}, nil
}

// openReport creates the report (beside the old one when resuming) and returns, with it, the
// rows an earlier run already did.
func openReport(o *options, log *slog.Logger, links report.Links, withChange bool) (*report.Writer, report.DoneSet, error) {
	mode, err := report.ModeFor(o.reportPath, o.resume, o.overwrite)
	if err != nil {
		return nil, nil, usagef("%w", err)
	}
	var done report.DoneSet
	if mode == report.Resume {
		if done, err = report.ReadBack(o.reportPath); err != nil {
			return nil, nil, usagef("--resume: %w", err)
		}
		if len(done) == 0 {
			log.Info("--resume: no ok rows in an earlier report; every row will be sent", "report", o.reportPath)
		}
		if err := checkResume(o, done, log); err != nil {
			return nil, nil, err
		}
	}
	var opts []report.Option
	if withChange {
		opts = append(opts, report.WithChange())
	}
	w, err := report.Create(o.reportPath, mode, links, opts...)
	if errors.Is(err, report.ErrExists) {
		return nil, nil, usagef("report %s exists: add --resume to continue that run, or --overwrite to replace it", o.reportPath)
	}
	if err != nil {
		return nil, nil, usagef("creating the report: %w", err)
	}
	return w, done, nil
}

// runOutcome turns how the run ended into the error for exitCode, logging what the operator must
// know beyond the summary. A report or state that could not be written wins over every other
// outcome: the operator must know that the report may not say everything.
func runOutcome(log *slog.Logger, reportPath string, sum provision.Summary, runErr, closeErr, stateErr error) error {
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
		log.Warn("interrupted: rows not sent are not_attempted; run again with --resume to finish", "report", reportPath)
	case errors.Is(runErr, provision.ErrInput):
		log.Error("the report holds only the rows read before the input failed; fix the file and run again with --resume", "report", reportPath)
	}
	switch {
	case len(incomplete) > 0:
		return fmt.Errorf("%w: %w", errIncomplete, errors.Join(incomplete...))
	case runErr != nil:
		return runErr
	case sum.Failed():
		return errRowsFailed
	}
	return nil
}

func newPool(o *options, httpClient *http.Client) *provision.Pool {
	if httpClient == nil {
		// One transport, with as many idle connections as requests in flight, so that every
		// worker reuses its connection.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = o.concurrency * 2
		t.MaxIdleConnsPerHost = o.concurrency * 2
		httpClient = &http.Client{Transport: t}
	}
	return &provision.Pool{
		Endpoint: &ideanote.Client{BaseURL: o.baseURL, SpaceID: o.spaceID, APIToken: o.apiToken,
			HTTPClient: httpClient, UserAgent: "ideanote-provision/" + versionString()},
		Pacer:       pace.New(o.rate, o.burst),
		Concurrency: o.concurrency,
		MaxAttempts: o.maxAttempts,
		MaxWait:     o.maxWait,
		Timeout:     o.timeout,
	}
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// rowLogger logs rows that did not go through, up to a limit: past it the report says it all.
type rowLogger struct {
	log *slog.Logger
	n   int
}

const maxRowLogs = 50

func (l *rowLogger) record(res provision.Result) {
	if res.Err == nil || res.Status == provision.StatusNotAttempted {
		return
	}
	l.n++
	switch {
	case l.n <= maxRowLogs:
		l.log.Warn("row "+string(res.Status), "row", res.Row.Line, "email", res.Row.User.Email, "attempts", res.Attempts, "error", res.Err.Error())
	case l.n == maxRowLogs+1:
		l.log.Warn("more rows failed or are invalid: see the report's status and error columns")
	}
}

// logSummary logs the one line that sums up a run: "done", or how it ended otherwise; changes,
// when not nil, is the change counts of --state.
func logSummary(log *slog.Logger, s provision.Summary, path string, changes map[string]int, runErr error) {
	args := []any{"report", path, "rows", s.Rows}
	for _, st := range provision.Statuses {
		if n := s.Counts[st]; n > 0 {
			args = append(args, string(st), n)
		}
	}
	if changes != nil {
		args = append(args, slog.Group("change", state.New, changes[state.New], state.Changed, changes[state.Changed],
			state.Unchanged, changes[state.Unchanged], state.Refreshed, changes[state.Refreshed]))
	}
	rate := 0.0
	if secs := s.Elapsed.Seconds(); secs > 0 {
		rate = float64(s.Attempts) / secs
	}
	args = append(args, "attempts", s.Attempts, "throttled_429", s.Throttled, "blank_rows", s.Blank,
		"elapsed", s.Elapsed.Round(time.Millisecond).String(), "requests_per_sec", fmt.Sprintf("%.2f", rate))
	switch {
	case errors.Is(runErr, context.Canceled):
		log.Warn("interrupted", args...)
	case runErr != nil:
		log.Error("aborted", args...)
	case s.Failed():
		log.Warn("done, with failed or invalid rows", args...)
	default:
		log.Info("done", args...)
	}
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
