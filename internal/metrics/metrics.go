// Package metrics writes what a run did as a file in the Prometheus text format, for
// node_exporter's textfile collector.
package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
)

// Prefixes of the two commands' series.
const (
	ProvisionPrefix = "ideanote_provision"
	MailPrefix      = "ideanote_mail"
)

// Run is what one run did.
type Run struct {
	// Unit names what the statuses count: "rows" (provisioning) or "messages" (mail).
	Unit string
	// Statuses is every status the command has, so that those no item ended in are
	// written as 0: an alert on failed rows then sees 0, not an absent series.
	Statuses []string
	// Counts is how many items ended in each status. A status missing from Statuses
	// is written all the same rather than dropped.
	Counts map[string]int
	// Requests is the number of attempts sent.
	Requests int
	// Throttled is the number of answers that asked to try later: 429 for
	// provisioning, SMTP 4xx for mail.
	Throttled int
	// Duration is how long the run took.
	Duration time.Duration
	// ExitCode is the process's exit code; 0 is a success.
	ExitCode int
	// End is when the run ended; it is the last run's time, and the last success's
	// when ExitCode is 0. It must be set.
	End time.Time
}

// WriteFile writes r as the series of prefix (ProvisionPrefix or MailPrefix) to path:
//
//	{prefix}_{unit}{status="…"}                     one per status, 0s included
//	{prefix}_requests_total                         attempts sent by this run
//	{prefix}_throttled_total                        "try later" answers in this run
//	{prefix}_duration_seconds
//	{prefix}_exit_code
//	{prefix}_last_run_timestamp_seconds             r.End
//	{prefix}_last_success_timestamp_seconds
//
// The last success is r.End when r.ExitCode is 0; otherwise it is taken from the file
// being replaced, and 0 when that file has none (never succeeded, or unreadable).
// 0 rather than an absent series so that an alert on the age of the last success
// also fires for a job that has never succeeded.
//
// The two _total series count this run only, like the others: they start from 0 at
// every run, so they are meant to be read as they are, not through rate() or increase().
//
// The file is written beside path under a private name and renamed over it, so that a reader
// never sees half of it; the temporary name does not end in .prom, so the textfile collector
// skips it. A symbolic link or a file of another user at path is refused (safefile.ErrUnsafe).
// Its mode is 0644 whatever the umask: it holds no secret. A temporary file that a killed run
// left is removed once safefile.StaleAge old.
func WriteFile(path, prefix string, r Run) error {
	return WriteRuns(path, Prefixed{Prefix: prefix, Run: r})
}

// Prefixed is a run and the prefix of its series.
type Prefixed struct {
	Prefix string
	Run    Run
}

// WriteRuns is WriteFile for several runs of one process, each with its own prefix, in one
// file: provisioning and the mail run that follows it. Each last success is its own run's.
func WriteRuns(path string, runs ...Prefixed) error {
	for _, p := range runs {
		if p.Run.End.IsZero() {
			return errors.New("metrics: the run's end time is not set")
		}
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("metrics file %s: folder %s does not exist: %w", path, dir, err)
		}
		return fmt.Errorf("metrics file %s: folder %s: %w", path, dir, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("metrics file %s: %s is not a folder", path, dir)
	}

	// A symbolic link or another user's file in the way is refused before it is even read.
	if err := safefile.CheckReplace(path); err != nil {
		return fmt.Errorf("metrics file %w", err) // it names the file and why
	}
	var regs []*prometheus.Registry
	for _, p := range runs {
		lastSuccess := unixSeconds(p.Run.End)
		if p.Run.ExitCode != 0 {
			lastSuccess = previousLastSuccess(path, p.Prefix+"_last_success_timestamp_seconds")
		}
		reg, err := registry(p.Prefix, p.Run, lastSuccess)
		if err != nil {
			return fmt.Errorf("metrics file %s: %w", path, err)
		}
		regs = append(regs, reg)
	}
	// A run killed before its rename left its temporary file: removed once old enough not to be
	// another run's in flight. The file holds no secret, so one not removed fails nothing.
	safefile.RemoveStale(path, safefile.StaleAge)
	// Not prometheus.WriteToTextfile, which chmods its temporary file by name: here the file is
	// chmod'ed through the descriptor, and what is at path checked before the rename.
	err := safefile.Replace(path, 0o644, func(f *os.File) error {
		for _, reg := range regs {
			mfs, err := reg.Gather()
			if err != nil {
				return err
			}
			for _, mf := range mfs {
				if _, err := expfmt.MetricFamilyToText(f, mf); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, safefile.ErrUnsafe) {
		return fmt.Errorf("metrics file %w", err) // it names the file and why
	}
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// registry holds the series of one run in a registry of their own, so that nothing
// else (Go runtime, process) ends up in the file.
func registry(prefix string, r Run, lastSuccess float64) (*prometheus.Registry, error) {
	if r.Unit == "" {
		return nil, errors.New("the run's unit is not set")
	}
	// client_golang accepts any UTF-8 name, which the text format then quotes; the
	// textfile collector and older Prometheus servers want the classic names.
	if name := prefix + "_" + r.Unit; !model.LegacyValidation.IsValidMetricName(name) {
		return nil, fmt.Errorf("%q is not a classic metric name", name)
	}
	reg := prometheus.NewRegistry()

	byStatus := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: prefix + "_" + r.Unit,
		Help: fmt.Sprintf("The %s of the last run, by the status each ended in.", r.Unit),
	}, []string{"status"})
	if err := reg.Register(byStatus); err != nil {
		return nil, err
	}
	statuses := slices.Clone(r.Statuses)
	for s := range r.Counts {
		if !slices.Contains(statuses, s) {
			statuses = append(statuses, s)
		}
	}
	for _, s := range statuses {
		g, err := byStatus.GetMetricWithLabelValues(s)
		if err != nil {
			return nil, fmt.Errorf("status %q: %w", s, err)
		}
		g.Set(float64(r.Counts[s]))
	}

	counter := func(name, help string, v int) error {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "_" + name, Help: help})
		if err := reg.Register(c); err != nil {
			return err
		}
		c.Add(float64(max(v, 0))) // a counter refuses to go down
		return nil
	}
	gauge := func(name, help string, v float64) error {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: prefix + "_" + name, Help: help})
		if err := reg.Register(g); err != nil {
			return err
		}
		g.Set(v)
		return nil
	}
	err := errors.Join(
		counter("requests_total", "Requests sent by the last run, retries included.", r.Requests),
		counter("throttled_total", "Answers that asked the last run to try later (HTTP 429, SMTP 4xx).", r.Throttled),
		gauge("duration_seconds", "How long the last run took.", r.Duration.Seconds()),
		gauge("exit_code", "The exit code of the last run (0 ok, 1 some failed, 2 usage, 3 aborted, 4 output incomplete, 130 interrupted).", float64(r.ExitCode)),
		gauge("last_run_timestamp_seconds", "When the last run ended, in seconds since the Unix epoch.", unixSeconds(r.End)),
		gauge("last_success_timestamp_seconds", "When the last run that exited 0 ended, in seconds since the Unix epoch; 0 if none is known.", lastSuccess),
	)
	if err != nil {
		return nil, err
	}
	return reg, nil
}

func unixSeconds(t time.Time) float64 {
	// Not UnixNano()/1e9: a float64 does not hold today's nanoseconds exactly.
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}
