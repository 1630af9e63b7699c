package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrInput ends a run whose input could not be read to the end: rows after the failure have
// no result.
var ErrInput = errors.New("the input could not be read to the end")

// ErrEmit ends a run whose results could not be written (the report's disk is full): what was
// reported before it may be all there is.
var ErrEmit = errors.New("the results could not be written")

// Source yields the rows of an input in order: a Row with Err set for a row that cannot be sent
// (it is reported invalid), io.EOF at the end; any other error ends the input. provision/input
// has the CSV and Excel sources.
type Source interface {
	Read() (Row, error)
}

// Job is one run over an input: every row read ends in exactly one call to Emit.
type Job struct {
	Source Source
	Pool   *Pool // unused when DryRun
	DryRun bool  // validate only: valid rows are reported valid, nothing is sent
	// Skip, when set, returns the result for a valid row that is not to be sent (already ok in
	// the report being resumed, unchanged since the last run).
	Skip func(Row) (Result, bool)
	// Emit receives every result, from one goroutine, in completion order. An error from it
	// (the report cannot be written) ends the run.
	Emit func(Result) error
}

// Tally is what a run of either command counts, the shape both summaries share.
type Tally[S ~string] struct {
	Counts    Counts[S]     // results by status
	Attempts  int           // requests (or SMTP transactions) sent
	Throttled int           // answers that asked to slow down: a 429, an SMTP 4xx
	Elapsed   time.Duration // how long the run took
}

// Summary counts what a run did.
type Summary struct {
	Tally[Status]
	Rows  int // results emitted
	Blank int // blank rows skipped; set by the caller, which knows its Source
	// Unread is set when an interrupted run stopped reading its input after InterruptDrain:
	// the rows past the last one reported have no line, and --resume sends them.
	Unread bool
}

// InterruptDrain is how long an interrupted run goes on reading its input to report the rest
// as not_attempted. A huge workbook can take minutes to read; an operator who pressed Ctrl-C,
// or a service manager that sent SIGTERM, expects the process to end within seconds.
const InterruptDrain = 3 * time.Second

// errUnread ends the reading of an interrupted run's input once InterruptDrain has passed.
var errUnread = errors.New("the rest of the input was not read after the interruption")

// Counts are the results of a run by status: a command's summary (this package's, mail's)
// counts in it, and a status means the same in the log, the metrics and the exit status.
type Counts[S ~string] map[S]int

// Any reports whether some result ended in one of statuses.
func (c Counts[S]) Any(statuses ...S) bool {
	for _, st := range statuses {
		if c[st] > 0 {
			return true
		}
	}
	return false
}

// Run reads every row, sends the valid ones through the pool, and emits every result. When ctx
// is done the pool stops sending, and the rest of the input is still read and reported as
// not_attempted, so that the report has one line per row, for InterruptDrain at most (then
// Summary.Unread is set). The error is the pool's
// *AbortError, a read error, an Emit error, or ctx's error when the run was interrupted.
func (j *Job) Run(ctx context.Context) (Summary, error) {
	start := time.Now()
	sum := Summary{Tally: Tally[Status]{Counts: make(Counts[Status])}}
	// kill ends everything at once: the report is broken, nothing more can be recorded.
	kill, cancelKill := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelKill()

	results := make(chan Result, 64)
	work := make(chan Row)
	var poolErr, readErr error
	var wg sync.WaitGroup
	if !j.DryRun {
		wg.Go(func() { poolErr = j.Pool.Run(ctx, work, results) })
	}
	wg.Go(func() {
		readErr = j.read(ctx, kill, work, results)
		close(work)
	})
	go func() {
		wg.Wait()
		close(results)
	}()

	var emitErr error
	for res := range results {
		if emitErr != nil {
			continue
		}
		if err := j.Emit(res); err != nil {
			emitErr = err
			cancelKill()
			continue
		}
		sum.Rows++
		sum.Counts[res.Status]++
		sum.Attempts += res.Attempts
	}
	if j.Pool != nil {
		sum.Throttled = j.Pool.Throttles()
	}
	sum.Elapsed = time.Since(start)
	sum.Unread = errors.Is(readErr, errUnread)
	switch {
	case emitErr != nil:
		return sum, fmt.Errorf("%w: %w", ErrEmit, emitErr)
	case readErr != nil && !errors.Is(readErr, context.Canceled) && !errors.Is(readErr, errUnread):
		return sum, readErr
	case poolErr != nil:
		return sum, poolErr
	}
	return sum, ctx.Err()
}

// read sends invalid, skipped and dry-run rows straight to results and the rest to work. Once
// ctx is done it reads on for InterruptDrain, then returns errUnread.
func (j *Job) read(ctx, kill context.Context, work chan<- Row, results chan<- Result) error {
	var deadline time.Time // when the reading stops, once ctx is done
	for {
		if ctx.Err() != nil {
			if deadline.IsZero() {
				deadline = time.Now().Add(InterruptDrain)
			} else if !time.Now().Before(deadline) {
				return errUnread
			}
		}
		row, err := j.Source.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInput, err)
		}
		res, send := j.classify(row)
		if send {
			select {
			case work <- row:
				continue
			case <-kill.Done():
				return kill.Err()
			}
		}
		if res.Finished.IsZero() {
			res.Finished = time.Now()
		}
		select {
		case results <- res:
		case <-kill.Done():
			return kill.Err()
		}
	}
}

// classify returns the result of a row that is not to be sent, or send = true.
func (j *Job) classify(row Row) (res Result, send bool) {
	switch {
	case row.Err != nil:
		return Result{Row: row, Status: StatusInvalid, Err: row.Err}, false
	case j.Skip != nil:
		if res, skip := j.Skip(row); skip {
			return res, false
		}
	}
	if j.DryRun {
		return Result{Row: row, Status: StatusValid}, false
	}
	return Result{}, true
}
