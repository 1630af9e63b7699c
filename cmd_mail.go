package main

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ideanote-provision/ideanote-provision/internal/cmdline"
	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/internal/progress"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// mailGroups orders the flags of mail --help: what every run needs first, tuning last.
var mailGroups = []cmdline.FlagGroup{
	cmdline.Group("Essential flags", "smtp-url", "from", "out-dir", "link", "mail-report", "resume", "resend", "dry-run", "to",
		"overwrite", "smtp-password-file"),
	cmdline.Group("Templates", "template", "html-template", "subject", "reply-to"),
	cmdline.Group("Output", "progress", "log-format", "metrics-file"),
	cmdline.Group("Sending (tuning)", "rate", "concurrency", "max-wait"),
}

// mailOptions is everything a mail run is told, from flags and the environment: the run's own
// options, bound to the flags, and what only the command line knows.
type mailOptions struct {
	mail.Options
	passwordFile string
	output
	// afterProvisioning says that the run is a mail run of provisioning's --mail (this run's
	// report, or an earlier report the cron line mails first), not the mail command: the same
	// command, run again, finishes a provisioning run it did not.
	afterProvisioning bool
}

func newMailCmd(env environ) *cobra.Command {
	o := &mailOptions{}
	cmd := &cobra.Command{
		Use:     "mail [flags] REPORT",
		Short:   "Mail each person of a report their own login link",
		Long:    helpText(mailLong),
		Example: helpText(mailExample),
		Args:    cmdline.OneArg("one report (the report of a provisioning run)", "ideanote-provision mail [flags] REPORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Report = args[0]
			o.Password = env.getenv("IDEANOTE_SMTP_PASSWORD")
			return executeMail(cmd.Context(), o, env.stdout, env.stderr)
		},
	}
	bindMailFlags(cmd.Flags(), o, env.getenv)
	cmd.SetUsageFunc(cmdline.GroupedUsage(mailGroups))
	return cmd
}

// bindMailFlags declares the flags of a mail run into o; defaults come from the environment
// where a variable exists.
func bindMailFlags(fs *pflag.FlagSet, o *mailOptions, getenv func(string) string) {
	fs.SortFlags = false
	bindMessageFlags(fs, o, getenv)
	fs.BoolVar(&o.Resume, "resume", false, "mail only the people the mail report does not show as sent the link REPORT gives them")
	fs.StringArrayVar(&o.Resend, "resend", nil, "with --resume, mail the person with this `email` although the mail report shows them unknown or sent (repeatable)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "render every message, print the first to stdout, send and write nothing (no mail report); not with --out-dir")
	fs.StringArrayVar(&o.To, "to", nil, "with --dry-run, print the message of the person with this `email` instead of the first (repeatable)")
	fs.BoolVar(&o.Overwrite, "overwrite", false, "replace a mail report that shows messages sent (everyone is mailed again)")

	o.output.bind(fs)

	fs.Float64Var(&o.Rate, "rate", mailRate, "`n` messages per second at most (providers limit senders), from 0.0167 (one a minute); 0 = no limit")
	fs.IntVar(&o.Concurrency, "concurrency", mailConcurrency, "`n` SMTP connections at most, each reused for many messages")
	fs.DurationVar(&o.MaxWait, "max-wait", provision.DefaultMaxWait, "while the server asks to slow down (421, 450 4.7.1...), the run stops once it has accepted nothing for `duration`")
}

// The defaults of mail's --rate and --concurrency, and of provisioning's --mail-rate and
// --mail-concurrency.
const (
	mailRate        = 2
	mailConcurrency = 2
)

// bindMessageFlags declares the flags that say what is mailed, from where and how, into o:
// those of mail that provisioning's --mail takes as they are. The others (--resume, --dry-run,
// --rate, the output flags...) are the provisioning run's, or have a name of their own there.
func bindMessageFlags(fs *pflag.FlagSet, o *mailOptions, getenv func(string) string) {
	cmdline.EnvString(fs, &o.SMTPURL, "smtp-url", "IDEANOTE_SMTP_URL", "", "`URL` of the SMTP server: smtp://user@host:587 (STARTTLS) or smtps://user@host:465 (env IDEANOTE_SMTP_URL)", getenv)
	cmdline.EnvString(fs, &o.From, "from", "IDEANOTE_MAIL_FROM", "", "the `sender`, e.g. 'IT <it@acme.com>' (env IDEANOTE_MAIL_FROM)", getenv)
	fs.StringVar(&o.OutDir, "out-dir", "", "instead of sending, write one .eml file per person into `folder` (mode 0700); not with --dry-run")
	fs.StringVar(&o.Link, "link", mail.LinkLogin, "which `link` to mail: login (the web app) or widget")
	fs.StringVar(&o.MailReport, "mail-report", "", "what was sent to whom, `path` (default REPORT.mail.csv)")
	fs.StringVar(&o.passwordFile, "smtp-password-file", "", "read the SMTP password from `file` instead of IDEANOTE_SMTP_PASSWORD")

	fs.StringVar(&o.Template, "template", "", "the text body, a Go text/template `file` (variants beside it: welcome.fr.txt)")
	fs.StringVar(&o.HTMLTemplate, "html-template", "", "the HTML body, a Go html/template `file`; needs --template")
	fs.StringVar(&o.Subject, "subject", "", "the `subject`, a Go template (default: the template's \"subject\" block, else built-in)")
	fs.StringVar(&o.ReplyTo, "reply-to", "", "Reply-To `address`")
}

// check validates what the mail package does not know about, and loads the password file; it
// never sends anything. The mail package checks the rest when the run starts.
func (o *mailOptions) check(logWarn func(msg string, args ...any)) error {
	if err := o.output.check([]string{o.Report, o.mailReportPath()}, "the report or the mail report"); err != nil {
		return err
	}
	if strings.HasSuffix(o.Report, wave.DryRunSuffix) { // only a provisioning dry run writes one
		return usagef("%s is named as the report of a provisioning dry run, which has no link in it: nobody to mail; mail the report of the run without --dry-run", o.Report)
	}
	return o.readPassword(logWarn)
}

// readPassword reads --smtp-password-file, when given, into o.Password.
func (o *mailOptions) readPassword(logWarn func(msg string, args ...any)) error {
	if o.passwordFile == "" {
		return nil
	}
	// Only the line break an editor adds is dropped: spaces may belong to the password.
	trim := func(s string) string { return strings.TrimRight(s, "\r\n") }
	var err error
	o.Password, err = cmdline.ReadSecretFile("--smtp-password-file", "SMTP password", o.passwordFile, trim, logWarn)
	return err
}

// mailReportPath is the mail report the run writes.
func (o *mailOptions) mailReportPath() string {
	return cmp.Or(o.MailReport, mail.DefaultMailReport(o.Report))
}

// executeMail runs the mail job described by o: stdout takes a dry run's first message, stderr
// the log, the bar and the closing lines.
func executeMail(ctx context.Context, o *mailOptions, stdout, stderr io.Writer) (err error) {
	o.Names = optionNames(true)
	logOut := &progress.LogWriter{W: stderr}
	log := cmdline.NewLogger(o.logFormat, logOut)
	if err := o.check(func(msg string, args ...any) { log.Warn(msg, args...) }); err != nil {
		return err
	}
	// Every run past the checks writes its metrics, however it ends; a configuration error
	// found by the mail package (exit 2) writes none, as for provisioning.
	var sum mail.Summary
	defer func(start time.Time) {
		writeMetrics(log, o.metricsFile, []metrics.Prefixed{mailMetrics(sum)}, []error{err}, start)
	}(time.Now())
	sum, err = runMail(ctx, o, log, logOut, stdout, stderr)
	return err
}

// runMail runs the mail run of o with its bar and closing lines on stderr, its log through
// logOut (which the bar clears before each line).
func runMail(ctx context.Context, o *mailOptions, log *slog.Logger, logOut *progress.LogWriter, stdout, stderr io.Writer) (mail.Summary, error) {
	out := &progress.LogWriter{W: stdout} // a dry run's first message, which must not run on after the bar
	// The bar starts once the report is read and the mail report opened: a run stopped by
	// its configuration shows no empty bar before its error.
	var prog *progress.MailBar
	run := o.Options
	run.Log, run.Stdout = log, out
	run.Started = func(lines, messages int) {
		prog = progress.NewMail(o.progress, stderr, log, lines, messages)
		prog.AfterProvisioning = o.afterProvisioning
		if prog.Terminal() {
			logOut.ClearBefore(prog.Cleared)
			out.ClearBefore(prog.Cleared)
		}
	}
	run.Progress = func(r mail.Result) { prog.AddMessage(r) }
	sum, err := mail.Run(ctx, run)
	if prog != nil {
		prog.Finish()
		logOut.ClearBefore(nil)
		out.ClearBefore(nil)
		prog.MailNextSteps(o.Report, o.mailReportPath(), o.OutDir, o.DryRun, sum)
	}
	return sum, err
}
