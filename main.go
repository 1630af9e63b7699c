// Command ideanote-provision puts the people of a CSV file into an Ideanote workspace through
// the custom-login session endpoint and writes a report with a login link for each of them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// Exit codes, as documented in --help and SPEC.md.
const (
	exitOK          = 0
	exitRowsFailed  = 1
	exitUsage       = 2
	exitAborted     = 3
	exitInterrupted = 130
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // run logs it, in the log format asked for
		<-sigs
		// Every report line written so far is on disk; --resume continues from there.
		fmt.Fprintln(os.Stderr, "interrupted again: exiting now; run again with --resume to finish")
		os.Exit(exitInterrupted)
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a configuration mistake found before anything was sent.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errRowsFailed says that the run went through but some rows are failed or invalid.
var errRowsFailed = errors.New("some rows failed or are invalid: see the report")

// exitCode maps the outcome of run to the documented exit status, printing the error.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var he *input.FileError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errRowsFailed):
		return exitRowsFailed
	case errors.As(err, &ue), errors.As(err, &he), errors.Is(err, report.ErrExists):
		fmt.Fprintln(stderr, "ideanote-provision:", err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, provision.ErrAborted), errors.Is(err, report.ErrLocked), errors.Is(err, provision.ErrInput):
		fmt.Fprintln(stderr, "ideanote-provision:", err)
		return exitAborted
	}
	fmt.Fprintln(stderr, "ideanote-provision:", err)
	return exitRowsFailed
}
