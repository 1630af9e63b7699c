package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ideanote-provision/ideanote-provision/internal/cmdline"
	"github.com/ideanote-provision/ideanote-provision/internal/demo"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/wave"
	"github.com/spf13/cobra"
)

// environ is what a run takes from its process. It is passed in, never read from globals, so
// that tests can run in parallel with environments of their own.
type environ struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program but for the process: arguments in, an error for exitStatus out. The
// error, when the operator has to read it, is printed here, in the log's format.
func run(ctx context.Context, args []string, env environ) error {
	err := cmdline.RefuseFlags(args, secretFlags)
	if err == nil {
		root := newRootCmd(env)
		if cmdline.Completing(args) {
			root.SetOut(cmdline.PlainWriter{W: env.stdout})
		}
		root.SetArgs(args)
		cmd, cmdErr := root.ExecuteContextC(ctx)
		err = withFlags(cmdErr, cmd.Name() == "mail")
	}
	// Failed rows are in the report and the log, an interrupt in the log: nothing to add.
	if err != nil && !errors.Is(err, wave.ErrRowsFailed) && !errors.Is(err, mail.ErrFailed) && exitStatus(err) != exitInterrupted {
		printError(env.stderr, logFormatOf(args), err)
	}
	return err
}

// printError prints the error that ends a run. With --log-format json it is a JSON log line, so
// that a log collector reading stderr does not choke on the line that matters most.
func printError(stderr io.Writer, format string, err error) {
	if format == "json" {
		slog.New(slog.NewJSONHandler(stderr, nil)).Error(err.Error(), "exit_code", exitStatus(err))
		return
	}
	fmt.Fprintln(stderr, "ideanote-provision:", err)
}

// logFormatOf returns the --log-format given in args: errors found before, or while, the
// flags are parsed are printed in it too.
func logFormatOf(args []string) string { return cmdline.FlagValue(args, "log-format", "text") }

// secretFlags are the flags a secret would be given with, refused before anything parses
// them: the secret is already exposed to every local user.
var secretFlags = map[string]string{"api-token": noTokenFlag, "token": noTokenFlag,
	"smtp-password": noPasswordFlag, "password": noPasswordFlag}

const (
	noTokenFlag    = "the API token is never a flag (every local user can read a command line): set IDEANOTE_API_TOKEN or use --api-token-file"
	noPasswordFlag = "the SMTP password is never a flag (every local user can read a command line): set IDEANOTE_SMTP_PASSWORD or use --smtp-password-file"
)

// newRootCmd builds the command table. The root command provisions, so that the common case
// needs no subcommand; `provision` names it too.
func newRootCmd(env environ) *cobra.Command {
	root := newProvisionCmd(env, "ideanote-provision [flags] INPUT")
	root.Version = cmdline.Version(version)
	root.SetVersionTemplate("ideanote-provision {{.Version}}\n")
	root.AddCommand(
		newProvisionCmd(env, "provision [flags] INPUT"),
		newMailCmd(env),
		newDemoCmd(env),
		newVersionCmd(env),
	)
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetIn(env.stdin)
	root.SilenceErrors = true // exitCode prints the error, once
	root.SilenceUsage = true  // a failed run is not a reason to print the help
	root.SetFlagErrorFunc(cmdline.FlagError)
	root.InitDefaultCompletionCmd()
	cmdline.RefuseUnknownShells(root)
	cmdline.SuggestCommand(root)
	cmdline.UsageArgs(root) // cobra's own errors about arguments are usage errors too: exit 2
	completions.Register(root)
	cmdline.BashWithoutPackage(root)
	return root
}

func newDemoCmd(env environ) *cobra.Command {
	var reportPath, mailDir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole job, provision then mail, against built-in fakes on 127.0.0.1 (no network, no token)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo.Run(cmd.Context(), reportPath, mailDir, env.stdout, demo.Commands{
				Provision: func(ctx context.Context, o wave.Options) error {
					return execute(ctx, &options{Options: o, delimiter: "auto", output: demoOutput}, env.stderr)
				},
				Mail: func(ctx context.Context, o mail.Options) error {
					return executeMail(ctx, &mailOptions{Options: o, output: demoOutput}, env.stdout, env.stderr)
				},
			})
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "demo-report.csv", "report `path`")
	cmd.Flags().StringVar(&mailDir, "mail-dir", "demo-mail", "`folder` for the messages mailed, as .eml files")
	return cmd
}

func newVersionCmd(env environ) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(env.stdout, "ideanote-provision", cmdline.Version(version))
			return nil
		},
	}
}
