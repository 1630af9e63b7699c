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
	"github.com/ideanote-provision/ideanote-provision/internal/secmem"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/wave"
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
	// The API token, session tokens and SMTP password live in this process's memory: a core
	// dump would write them to disk for anyone who can read the dumps.
	if err := secmem.DisableCoreDumps(); err != nil {
		printError(os.Stderr, logFormatOf(os.Args[1:]), fmt.Errorf("core dumps could not be turned off (%w); going on", err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // run logs it, in the log format asked for
		<-sigs
		// Every report line written so far is on disk; --resume continues from there.
		printError(os.Stderr, logFormatOf(os.Args[1:]), errInterruptedAgain)
		input.RemoveTempFiles() // an .xlsx's unpacked sheets are HR data: never left behind
		os.Exit(exitInterrupted)
	}()
	err := run(ctx, os.Args[1:], environ{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	os.Exit(exitStatus(err))
}

// usagef formats a configuration error of the command line, as the commands report theirs.
var usagef = provision.Configf

// errInterruptedAgain is printed when a second signal ends the run at once.
var errInterruptedAgain = errors.New("interrupted again: exiting now; run again with --resume to finish")

// exitStatus maps the outcome of a run to its documented exit status. It is pure, so that the
// metrics file can say, before the process exits, the code it will exit with.
func exitStatus(err error) int {
	var ce *provision.ConfigError
	var he *input.FileError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, wave.ErrRowsFailed), errors.Is(err, mail.ErrFailed):
		return exitRowsFailed
	case errors.Is(err, wave.ErrIncomplete), errors.Is(err, mail.ErrMailReport):
		return exitIncomplete
	case errors.As(err, &ce), errors.As(err, &he), errors.Is(err, report.ErrExists):
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
