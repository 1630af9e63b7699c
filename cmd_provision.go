package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ideanote-provision/ideanote-provision/cronline"
	"github.com/ideanote-provision/ideanote-provision/internal/cmdline"
	"github.com/ideanote-provision/ideanote-provision/internal/metrics"
	"github.com/ideanote-provision/ideanote-provision/internal/progress"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// provisionGroups orders the flags of --help: what every run needs first, tuning last.
var provisionGroups = []cmdline.FlagGroup{
	cmdline.Group("Essential flags", "space-id", "subdomain", "webapp-url", "widget-url", "widget-id",
		"api-token-file", "report", "resume", "overwrite", "dry-run"),
	cmdline.Group("Input", "map", "team", "locale", "delimiter", "encoding", "sheet", "header-row"),
	cmdline.Group("Scheduled waves", "state", "force", "refresh-after", "only-changes"),
	cmdline.Group("Mailing the links (--mail)", append([]string{"mail"}, mailOnlyFlags...)...),
	cmdline.Group("Output", "progress", "log-format", "metrics-file"),
	cmdline.Group("Sending (tuning)", "rate", "burst", "concurrency", "timeout", "max-attempts", "max-wait", "base-url"),
}

// mailOnlyFlags are the flags that mean nothing without --mail.
var mailOnlyFlags = []string{"smtp-url", "from", "smtp-password-file", "out-dir", "link", "mail-report",
	"template", "html-template", "subject", "reply-to", "mail-rate", "mail-concurrency"}

// newProvisionCmd returns the command that provisions an input; use is its usage line.
func newProvisionCmd(env environ, use string) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:     use,
		Short:   "Create or update every person of an HR export and write their login links to a report",
		Long:    helpText(provisionLong),
		Example: helpText(provisionExample),
		Args:    cmdline.OneArg("one input file (or - for standard input)", "ideanote-provision [flags] INPUT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Input = args[0]
			o.APIToken = env.getenv("IDEANOTE_API_TOKEN")
			o.Stdin = env.stdin
			if o.withMail {
				o.mail.Password = env.getenv("IDEANOTE_SMTP_PASSWORD")
			} else {
				for _, name := range mailOnlyFlags {
					if cmd.Flags().Changed(name) {
						return usagef("--%s is a flag of --mail: add --mail to mail the links once provisioned", name)
					}
				}
			}
			return execute(cmd.Context(), o, env.stderr)
		},
	}
	bindProvisionFlags(cmd.Flags(), o, env.getenv)
	cmd.SetUsageFunc(cmdline.GroupedUsage(provisionGroups))
	return cmd
}

// bindProvisionFlags declares the flags of a provisioning run into o; defaults come from the
// environment where a variable exists.
func bindProvisionFlags(fs *pflag.FlagSet, o *options, getenv func(string) string) {
	fs.SortFlags = false
	cmdline.EnvString(fs, &o.SpaceID, "space-id", "IDEANOTE_SPACE_ID", "", "workspace `id` (env IDEANOTE_SPACE_ID)", getenv)
	cmdline.EnvString(fs, &o.Subdomain, "subdomain", "IDEANOTE_SUBDOMAIN", "", "web-app links on `name`.ideanote.io (env IDEANOTE_SUBDOMAIN)", getenv)
	fs.StringVar(&o.WebAppURL, "webapp-url", "", "web-app root `URL` for a custom domain, instead of --subdomain")
	fs.StringVar(&o.WidgetURL, "widget-url", "", "full-page widget `link` to extend with each session token")
	fs.StringVar(&o.WidgetID, "widget-id", "", "widget `id`: shorthand for the default widget host with config=id")
	fs.StringVar(&o.tokenFile, "api-token-file", "", "read the owner API token from `file` instead of IDEANOTE_API_TOKEN")
	fs.StringVar(&o.Report, "report", "report.csv", "report `path` (mode 0600: it holds login links); a dry run writes its own, NAME.dry-run.csv beside it")
	fs.BoolVar(&o.Resume, "resume", false, "continue an earlier run that wrote this report: rows already ok there are not sent again")
	fs.BoolVar(&o.Overwrite, "overwrite", false, "replace an existing report")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read and validate everything, send nothing; the report says valid or invalid")

	fs.StringArrayVar(&o.mapping, "map", nil, "header `mapping`, e.g. 'email=Work Email,name=Full Name'; may be given more than once")
	fs.StringVar(&o.Read.Defaults.Team, "team", "", "`team` for rows whose team cell is empty")
	fs.StringVar(&o.Read.Defaults.Locale, "locale", "", "`locale` for rows whose locale cell is empty")
	fs.StringVar(&o.delimiter, "delimiter", "auto", "field `delimiter`: , ; \\t or auto (from the header line)")
	fs.StringVar(&o.Read.Encoding, "encoding", "", "text `encoding` of a CSV input: utf-8, windows-1252, iso-8859-15, utf-16le... (WHATWG labels); default UTF-8, or UTF-16 with a byte-order mark")
	fs.StringVar(&o.Read.Sheet, "sheet", "", "the `sheet` of an .xlsx input, by name (default the first)")
	fs.IntVar(&o.Read.HeaderRow, "header-row", 0, "the line (CSV) or row (.xlsx) that holds the header, from 1; 0 finds it below title rows")

	fs.StringVar(&o.State, "state", "", "remember in `file` what was provisioned; rows unchanged since their last ok are not sent")
	fs.BoolVar(&o.Force, "force", false, "with --state: send every row, unchanged ones too, and refresh the state")
	fs.DurationVar(&o.RefreshAfter, "refresh-after", 0, "with --state: send unchanged rows again once their last ok is older than `duration` (e.g. 720h)")
	fs.BoolVar(&o.OnlyChanges, "only-changes", false, "with --state: leave unchanged rows out of the report, which then lists exactly the people to mail")

	fs.BoolVar(&o.withMail, "mail", false, "then mail each person of this run with a link their own, as the mail command does (the same flags, a mail report beside the report)")
	bindMessageFlags(fs, &o.mail, getenv)
	fs.Float64Var(&o.mail.Rate, "mail-rate", mailRate, "with --mail: `n` messages per second at most, as mail's --rate")
	fs.IntVar(&o.mail.Concurrency, "mail-concurrency", mailConcurrency, "with --mail: `n` SMTP connections at most, as mail's --concurrency")

	o.output.bind(fs)

	fs.Float64Var(&o.Rate, "rate", 1, "at most `n` requests per second over all workers, retries included (1 = 60/min; 0 = none); the pool keeps under the server's limit in any case")
	fs.IntVar(&o.Burst, "burst", 1, "token-bucket burst: `n` requests may leave at once")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "at most `n` requests in flight")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "time allowed for one attempt (a `duration`)")
	fs.IntVar(&o.MaxAttempts, "max-attempts", 6, "`n` attempts per row before it is failed (429 answers do not count)")
	fs.DurationVar(&o.MaxWait, "max-wait", provision.DefaultMaxWait, "stop the run (exit 3) once rows have waited `duration` with the server accepting nothing, whatever it answers")
	cmdline.EnvString(fs, &o.BaseURL, "base-url", "IDEANOTE_BASE_URL", ideanote.DefaultBaseURL, "API root `URL`; http:// only for loopback hosts (env IDEANOTE_BASE_URL)", getenv)
}

// execute runs the provisioning run described by o, then with --mail its mail run: stderr
// takes the log, the bars and the closing lines.
func execute(ctx context.Context, o *options, stderr io.Writer) (err error) {
	logOut := &progress.LogWriter{W: stderr}
	log := cmdline.NewLogger(o.logFormat, logOut)
	warn := func(msg string, args ...any) { log.Warn(msg, args...) }
	if err := o.check(warn); err != nil {
		return err
	}
	if o.withMail {
		if err := o.checkMail(warn); err != nil {
			return err
		}
		if o.DryRun {
			log.Info("dry run: nobody is mailed (the mail options are checked)")
		}
	}
	var prog *progress.Bar
	// checkMail made o.mail the mail run of this run's report.
	run := cronline.Options{Provision: o.Options, Mail: o.mail.Options, WithMail: o.withMail, Log: log, ExitStatus: exitStatus,
		Words: func(err error) error { return withFlags(err, false) }, Remedies: remedies}
	mailing := run.Mailing()
	run.Provision.Log, run.Provision.UserAgent = log, "ideanote-provision/"+cmdline.Version(version)
	run.Provision.Names, run.Mail.Names = optionNames(false), optionNames(false)
	run.Provision.Started = func(r wave.Running) {
		prog = progress.New(progress.Provisioning, o.progress, stderr, log, r.Count, r.Throttles)
		prog.WatchPauses(r.PausedUntil)
		prog.MailFollows, prog.MailFlags = mailing, progress.MailFlags(o.mail.From, o.mail.SMTPURL, o.Subdomain != "" || o.WebAppURL != "")
		if prog.Terminal() {
			logOut.ClearBefore(prog.Cleared)
		}
	}
	run.Provision.Progress = func(res provision.Result) { prog.Add(res) }
	run.Provisioned = func(sum provision.Summary, err error, interrupted bool) {
		if prog != nil {
			prog.Finish()
			logOut.ClearBefore(nil)
			prog.NextSteps(o.Report, o.Input, o.DryRun, sum, err, interrupted)
		}
	}
	run.MailRun = func(ctx context.Context, m mail.Options) (mail.Summary, error) {
		mo := o.mail
		mo.Options, mo.afterProvisioning = m, true
		return runMail(ctx, &mo, log, logOut, io.Discard, stderr)
	}
	// Every run past the checks and the mail report's lock writes its metrics, however it
	// ends; each run's series say how it ended, and the last success of each is its own.
	start := time.Now()
	sum, err := cronline.Run(ctx, run)
	if !sum.Provisioned {
		return err
	}
	runs := []metrics.Prefixed{{Prefix: metrics.ProvisionPrefix, Run: metrics.OfTally("rows", provision.Statuses, sum.Provision.Tally)}}
	errs := []error{sum.ProvisionErr}
	if sum.Mailed {
		runs = append(runs, mailMetrics(sum.Mail))
		errs = append(errs, sum.MailErr)
	}
	writeMetrics(log, o.metricsFile, runs, errs, start)
	return err
}

// checkMail checks the options of --mail, as the mail command would before it reads the
// report: a mistake in them stops the run before anything is provisioned.
func (o *options) checkMail(logWarn func(msg string, args ...any)) error {
	m := &o.mail
	m.Options = cronline.MailOf(o.Options, m.Options)
	m.output = output{progress: o.progress, logFormat: o.logFormat}
	if o.Input != "-" && cmdline.SameFile(o.Input, m.mailReportPath()) {
		return usagef("the input %s is also the mail report: give another --mail-report", o.Input)
	}
	if o.metricsFile != "" && cmdline.SameFile(o.metricsFile, m.mailReportPath()) {
		return usagef("--metrics-file must not be the mail report")
	}
	if o.State != "" && cmdline.SameFile(o.State, m.mailReportPath()) {
		return usagef("--state and --mail-report must be different files")
	}
	if err := m.readPassword(logWarn); err != nil {
		return err
	}
	return cronline.CheckMail(o.Options, m.Options)
}
