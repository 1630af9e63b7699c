package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/demo"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/wave"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	err := refuseTokenFlag(args)
	if err == nil {
		root := newRootCmd(env)
		if completing(args) {
			root.SetOut(plainWriter{env.stdout})
		}
		root.SetArgs(args)
		err = withFlags(root.ExecuteContext(ctx))
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

// logFormatOf returns the --log-format given in args, "text" when none is. It reads args itself
// because it must work for errors found before, or while, the flags are parsed.
func logFormatOf(args []string) string {
	format := "text"
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--log-format="); ok {
			format = v
		} else if a == "--log-format" && i+1 < len(args) {
			format = args[i+1]
		}
	}
	return format
}

// refuseTokenFlag stops a token or an SMTP password given as a flag before anything parses it:
// cobra would echo an unknown flag's value in its error, and the secret is already exposed to
// every local user.
func refuseTokenFlag(args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		switch name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name {
		case "api-token", "token":
			return usagef("the API token is never a flag (every local user can read a command line): set IDEANOTE_API_TOKEN or use --api-token-file")
		case "smtp-password", "password":
			return usagef("the SMTP password is never a flag (every local user can read a command line): set IDEANOTE_SMTP_PASSWORD or use --smtp-password-file")
		}
	}
	return nil
}

// newRootCmd builds the command table. The root command provisions, so that the common case
// needs no subcommand; `provision` names it too.
func newRootCmd(env environ) *cobra.Command {
	root := newProvisionCmd(env, "ideanote-provision [flags] INPUT")
	root.Version = versionString()
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
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		// pflag's "unknown shorthand flag: 't' in -tSECRET" would echo what was typed after
		// the letter: a token pasted there, for one.
		if msg, _, cut := strings.Cut(err.Error(), " in -"); cut && strings.HasPrefix(msg, "unknown shorthand flag") {
			return usagef("%s (see --help)", msg)
		}
		if name, hint := flagSuggestion(cmd, err.Error()); hint != "" {
			return usagef("unknown flag %s: %s (see --help)", name, hint)
		}
		return usagef("%w (see --help)", err)
	})
	// Cobra's own errors about arguments are usage errors too: exit 2, not "rows failed".
	root.InitDefaultCompletionCmd()
	refuseUnknownShells(root)
	suggestCommand(root)
	usageArgs(root)
	registerCompletions(root)
	bashWithoutPackage(root)
	return root
}

// refuseUnknownShells makes `completion SHELL` fail with a usage error for a shell that has no
// script: cobra printed the help and exited 0, and a script sourcing that output failed far
// from its cause.
func refuseUnknownShells(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sub := range c.Commands() {
			shells = append(shells, sub.Name())
		}
		c.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("no completion script for %q; the shells: %s", args[0], strings.Join(shells, ", "))
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
}

// oneArg takes exactly one argument; what says which in the error, beside the usage line.
func oneArg(what, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("expected %s, got %d: %s", what, len(args), usage)
		}
		return nil
	}
}

// usageArgs makes the argument checks of c and of every command below it return usage errors.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				var ce *provision.ConfigError
				if errors.As(err, &ce) {
					return err
				}
				return usagef("%w (see %s --help)", err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
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
					return execute(ctx, &options{Options: o, delimiter: "auto", progress: "auto", logFormat: "text"}, env.stderr)
				},
				Mail: func(ctx context.Context, o mail.Options) error {
					return executeMail(ctx, &mailOptions{Options: o, progress: "auto", logFormat: "text"}, env.stdout, env.stderr)
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
			fmt.Fprintln(env.stdout, "ideanote-provision", versionString())
			return nil
		},
	}
}

// flagGroup is a titled section of --help.
type flagGroup struct {
	title string
	names []string
}

// groupedUsage returns a usage function that prints the flags of cmd by group, in the order
// given, and any flag not named in a group at the end: the flags an operator needs first, the
// tuning after them.
func groupedUsage(groups []flagGroup) func(*cobra.Command) error {
	return func(cmd *cobra.Command) error {
		w := cmd.OutOrStderr()
		fmt.Fprintf(w, "Usage:\n  %s\n", cmd.UseLine())
		if cmd.HasAvailableSubCommands() {
			fmt.Fprintln(w, "\nCommands:")
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					fmt.Fprintf(w, "  %-12s %s\n", c.Name(), c.Short)
				}
			}
		}
		if cmd.Example != "" {
			fmt.Fprintf(w, "\nExample:\n%s\n", cmd.Example)
		}
		all := cmd.Flags()
		seen := map[string]bool{}
		for _, g := range groups {
			fs := pflag.NewFlagSet(g.title, pflag.ContinueOnError)
			fs.SortFlags = false
			for _, n := range g.names {
				if f := all.Lookup(n); f != nil && !f.Hidden {
					fs.AddFlag(f)
					seen[n] = true
				}
			}
			if fs.HasFlags() {
				fmt.Fprintf(w, "\n%s:\n%s", g.title, fs.FlagUsagesWrapped(100))
			}
		}
		rest := pflag.NewFlagSet("other", pflag.ContinueOnError)
		all.VisitAll(func(f *pflag.Flag) {
			if !seen[f.Name] && !f.Hidden {
				rest.AddFlag(f)
			}
		})
		if rest.HasFlags() {
			fmt.Fprintf(w, "\nOther flags:\n%s", rest.FlagUsagesWrapped(100))
		}
		if cmd.HasAvailableSubCommands() {
			fmt.Fprintf(w, "\nUse \"%s [command] --help\" for more about a command.\n", cmd.CommandPath())
		}
		return nil
	}
}

// envDefault returns the value of the environment variable name, or def when it is unset or empty.
func envDefault(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
