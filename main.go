// Command ideanote-provision puts the people of an HR export into an Ideanote workspace through
// the custom-login session endpoint and writes a report with a login link for each of them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// Exit codes, as documented in --help and the README.
const (
	exitOK          = 0
	exitRowsFailed  = 1
	exitUsage       = 2
	exitAborted     = 3
	exitIncomplete  = 4
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
		printError(os.Stderr, logFormatOf(os.Args[1:]), errInterruptedAgain)
		os.Exit(exitInterrupted)
	}()
	err := run(ctx, os.Args[1:], environ{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	os.Exit(exitStatus(err))
}

// usageError is a configuration mistake found before anything was sent.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef formats a usageError; %w wraps as in fmt.Errorf.
func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// errRowsFailed says that the run went through but some rows are failed or invalid.
var errRowsFailed = errors.New("some rows failed or are invalid: see the report")

// errInterruptedAgain is printed when a second signal ends the run at once.
var errInterruptedAgain = errors.New("interrupted again: exiting now; run again with --resume to finish")

// errIncomplete says that the report or the state could not be written completely.
var errIncomplete = errors.New("the report or the state is incomplete")

// exitStatus maps the outcome of a run to its documented exit status. It is pure, so that the
// metrics file can say, before the process exits, the code it will exit with.
func exitStatus(err error) int {
	var ue *usageError
	var he *input.FileError
	var me *mail.ConfigError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errRowsFailed), errors.Is(err, mail.ErrFailed):
		return exitRowsFailed
	case errors.Is(err, errIncomplete), errors.Is(err, mail.ErrMailReport):
		return exitIncomplete
	case errors.As(err, &ue), errors.As(err, &he), errors.Is(err, report.ErrExists), errors.As(err, &me):
		return exitUsage
	case errors.Is(err, context.Canceled), errors.Is(err, errInterruptedAgain):
		return exitInterrupted
	case errors.Is(err, provision.ErrAborted), errors.Is(err, lock.ErrLocked), errors.Is(err, provision.ErrInput),
		errors.Is(err, mail.ErrAborted):
		return exitAborted
	}
	// An error nobody classified stopped the run: "aborted" tells a script to look, where 1
	// would tell it to mail the report as usual.
	return exitAborted
}
