package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/state"
)

// run is the whole program but for the process: arguments in, an error for exitCode out.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:], stdout, stderr)
	}
	o, err := parseOptions(args, os.Getenv, stderr)
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, "ideanote-provision", versionString())
		return nil
	}
	if err != nil {
		return err
	}
	return execute(ctx, o, stdin, stderr, nil)
}

// execute runs the job described by o. httpClient, when not nil, replaces the default
// transport (the demo's fake server).
func execute(ctx context.Context, o *options, stdin io.Reader, stderr io.Writer, httpClient *http.Client) error {
	log := newLogger(o.logFormat, stderr)
	if err := o.check(func(msg string, args ...any) { log.Warn(msg, args...) }); err != nil {
		return err
	}
	links, err := report.NewLinks(o.subdomain, o.webAppURL, o.widgetURL, o.widgetID)
	if err != nil {
		return usagef("%v", err)
	}
	reader, in, size, err := openReader(o, stdin)
	if err != nil {
		return err
	}
	defer in.Close()

	unlock, err := report.Lock(o.reportPath)
	if err != nil {
		if errors.Is(err, report.ErrLocked) {
			return err
		}
		return usagef("--report: %v", err) // a folder that is not there or not writable
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
	prog := newProgress(o.progress, stderr, log, o.input, size)
	defer context.AfterFunc(ctx, func() {
		prog.clear()
		log.Warn("interrupted: finishing the requests in flight and writing the report; interrupt again to exit at once")
	})()
	rowLog := rowLogger{log: log}
	waves := &waveRecorder{plan: plan, log: log, changes: make(map[string]int)}
	job := &provision.Job{Source: reader, Pool: pool, DryRun: o.dryRun, Skip: skipper(done, plan),
		Emit: func(res provision.Result) error {
			waves.settle(&res)
			if !(o.onlyChanges && res.Change == state.Unchanged) {
				if err := w.Write(res); err != nil {
					return err
				}
			}
			waves.record(res)
			prog.add(res)
			rowLog.record(res)
			return nil
		}}
	startArgs := []any{"input", o.input, "report", o.reportPath, "columns", columnList(reader.Columns),
		"dry_run", o.dryRun, "resume", o.resume, "already_ok", len(done), "rate", o.rate, "concurrency", o.concurrency}
	if plan != nil {
		startArgs = append(startArgs, "state", o.statePath, "state_users", plan.Store.Len(), "force", o.force,
			"refresh_after", o.refreshAfter.String(), "only_changes", o.onlyChanges)
	}
	log.Info("starting", startArgs...)
	sum, runErr := job.Run(ctx)
	prog.finish()
	closeErr := w.Close()
	// The state is committed after the report is synced: a row must never be remembered as
	// provisioned while its link is not in a report.
	stateErr := closeState()
	logSummary(log, sum, reader.Blank, o.reportPath, waves.summary(), runErr)
	return runOutcome(log, o.reportPath, sum, runErr, closeErr, stateErr)
}

// openReader opens the input and reads its header.
func openReader(o *options, stdin io.Reader) (*provision.Reader, io.Closer, int64, error) {
	comma, err := o.comma()
	if err != nil {
		return nil, nil, 0, err
	}
	mapping, err := provision.ParseMap(o.mapping)
	if err != nil {
		return nil, nil, 0, usagef("%v", err)
	}
	in, size, err := openInput(o.input, stdin)
	if err != nil {
		return nil, nil, 0, usagef("%v", err)
	}
	reader, err := provision.NewReader(in, provision.Options{Comma: comma, Map: mapping,
		Defaults: provision.Defaults{Team: o.team, Locale: o.locale}})
	if err != nil {
		in.Close()
		var he *provision.HeaderError
		if errors.As(err, &he) {
			return nil, nil, 0, fmt.Errorf("%s: %w", o.input, err)
		}
		return nil, nil, 0, fmt.Errorf("reading %s: %w", o.input, err)
	}
	return reader, in, size, nil
}

// openReport creates the report (beside the old one when resuming) and returns, with it, the
// rows an earlier run already did.
func openReport(o *options, log *slog.Logger, links report.Links, withChange bool) (*report.Writer, report.DoneSet, error) {
	mode, done, err := reportMode(o, log)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, usagef("creating the report: %v", err)
	}
	return w, done, nil
}

// runOutcome turns how the run ended into the error for exitCode, logging what the operator must
// know beyond the summary.
func runOutcome(log *slog.Logger, reportPath string, sum provision.Summary, runErr, closeErr, stateErr error) error {
	switch {
	case runErr != nil:
		// The run's own end comes first, but what failed while closing must not go unsaid.
		if closeErr != nil {
			log.Error("the report could not be closed", "report", reportPath, "error", closeErr.Error())
		}
		if stateErr != nil {
			log.Error("the state could not be saved; the next run will send again the rows not saved", "error", stateErr.Error())
		}
		switch {
		case errors.Is(runErr, context.Canceled):
			log.Warn("interrupted: rows not sent are not_attempted; run again with --resume to finish", "report", reportPath)
		case errors.Is(runErr, provision.ErrInput):
			log.Error("the report holds only the rows read before the input failed; fix the file and run again with --resume", "report", reportPath)
		}
		return runErr
	case closeErr != nil:
		return fmt.Errorf("closing the report: %w", closeErr)
	case stateErr != nil:
		return fmt.Errorf("%v: the report is complete, but the next run will send again the rows not saved", stateErr)
	case sum.Failed():
		return errRowsFailed
	}
	return nil
}

// reportMode decides how the report is opened and reads back what a resumed run keeps.
func reportMode(o *options, log *slog.Logger) (report.Mode, report.DoneSet, error) {
	switch {
	case o.overwrite:
		return report.Overwrite, nil, nil
	case o.resume:
		done, err := report.ReadBack(o.reportPath)
		if err != nil {
			return 0, nil, usagef("--resume: %v", err)
		}
		if len(done) == 0 {
			log.Info("--resume: no ok rows in an earlier report; every row will be sent", "report", o.reportPath)
		}
		return report.Resume, done, nil
	}
	if _, err := os.Stat(report.TempPath(o.reportPath)); err == nil {
		return 0, nil, usagef("%s is left from an interrupted --resume: add --resume to finish it, or --overwrite to start again", report.TempPath(o.reportPath))
	}
	return report.New, nil, nil
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

// openInput opens the input file, or standard input for "-". size is 0 when unknown.
func openInput(name string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(stdin), 0, nil
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("input %s does not exist", name)
		}
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("input %s is a directory", name)
	}
	return f, st.Size(), nil
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
func logSummary(log *slog.Logger, s provision.Summary, blank int, path string, changes []any, runErr error) {
	args := []any{"report", path, "rows", s.Rows}
	for _, st := range []provision.Status{provision.StatusOK, provision.StatusSkipped, provision.StatusUnchanged,
		provision.StatusValid, provision.StatusFailed, provision.StatusInvalid, provision.StatusNotAttempted} {
		if n := s.Counts[st]; n > 0 {
			args = append(args, string(st), n)
		}
	}
	if changes != nil {
		args = append(args, slog.Group("change", changes...))
	}
	rate := 0.0
	if secs := s.Elapsed.Seconds(); secs > 0 {
		rate = float64(s.Attempts) / secs
	}
	args = append(args, "attempts", s.Attempts, "throttled_429", s.Throttled, "blank_rows", blank,
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
		if c, ok := cols[f.Name]; ok {
			parts = append(parts, f.Name+"="+c)
		}
	}
	return strings.Join(parts, " ")
}
