package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// progressLogEvery is how often a run without a terminal logs its progress.
const progressLogEvery = 30 * time.Second

// progress shows how far the run is: a bar on a terminal, a log line every 30 s otherwise.
type progress struct {
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	done  atomic.Int64
	ok    atomic.Int64
	total atomic.Int64 // estimated data rows, 0 while unknown
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// newProgress starts showing progress; count, run beside the job, returns the rows to expect.
func newProgress(mode string, stderr io.Writer, log *slog.Logger, count func(context.Context) (int64, error)) *progress {
	p := &progress{log: log, start: time.Now(), stop: make(chan struct{})}
	f, isFile := stderr.(*os.File)
	useBar := mode == "always" || (mode == "auto" && isFile && term.IsTerminal(int(f.Fd())))
	if mode != "never" && useBar {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("provisioning"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	// Counting the rows may read the file a second time: beside the run, so that it never
	// delays the first request.
	if mode != "never" {
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
	p.total.Store(rows)
	if p.bar != nil {
		p.bar.ChangeMax64(rows)
	}
}

func (p *progress) add(res provision.Result) {
	p.done.Add(1)
	if res.Status.Success() {
		p.ok.Add(1)
	}
	if p.bar != nil {
		p.bar.Add(1)
	}
}

func (p *progress) logLoop() {
	t := time.NewTicker(progressLogEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			done := p.done.Load()
			elapsed := time.Since(p.start)
			args := []any{"rows_done", done, "ok", p.ok.Load(), "rows_per_sec", float64(done) / elapsed.Seconds()}
			if total := p.total.Load(); total > 0 && done > 0 && done < total {
				eta := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
				args = append(args, "rows_total_est", total, "eta", eta.Round(time.Second).String())
			}
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

func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		p.bar.Finish()
	}
}
