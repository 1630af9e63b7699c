package main

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ideanote-provision/ideanote-provision/internal/cmdline"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// options is everything a provisioning run is told, from flags and the environment: the run's
// own options, bound to the flags, and what only the command line knows.
type options struct {
	wave.Options
	tokenFile string
	mapping   []string // --map, once or more
	delimiter string
	output
	withMail bool        // --mail: mail the people of this run their links once it ends
	mail     mailOptions // the mail run of --mail
}

// output is what a command that runs is told of its output: the bar, the log, the metrics.
type output struct {
	progress    string
	logFormat   string
	metricsFile string // --metrics-file: the run's metrics for node_exporter; "" for none
}

// demoOutput is the output of the demo's runs: a bar on a terminal, a text log, no metrics.
var demoOutput = output{progress: "auto", logFormat: "text"}

// bind declares the output flags into fs.
func (o *output) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.progress, "progress", "auto", "`mode`: auto (a bar when stderr is a terminal), always, or never (no bar); without a bar, a log line every 30 s")
	fs.StringVar(&o.logFormat, "log-format", "text", "`format` of the log on stderr: text or json")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "at the end of the run, write its metrics to `file` (name it *.prom) for node_exporter's textfile collector")
}

// check checks --progress, --log-format and --metrics-file, which must not be one of the
// run's outputs (outputsName says which, for the message).
func (o *output) check(outputs []string, outputsName string) error {
	if err := cmdline.OneOf("--progress", o.progress, "auto", "always", "never"); err != nil {
		return err
	}
	if err := cmdline.OneOf("--log-format", o.logFormat, "text", "json"); err != nil {
		return err
	}
	if o.metricsFile == "" {
		return nil
	}
	return checkMetricsFile(o.metricsFile, outputs, outputsName)
}

// reportFor gives a dry run its own report, which it replaces on its own, and refuses a real
// run a report named as a dry run's.
func (o *options) reportFor() error {
	switch {
	case !o.DryRun && strings.HasSuffix(o.Report, wave.DryRunSuffix):
		return usagef("--report %s is named as a dry run's report: give a real run another --report", o.Report)
	case o.DryRun:
		o.Report = wave.DryRunReport(o.Report)
		if !o.Resume {
			o.Overwrite = true
		}
	}
	return nil
}

// check validates what only the command line knows, loads the token file, and parses
// --delimiter and --map; it never sends anything. wave.Run checks the rest.
func (o *options) check(logWarn func(msg string, args ...any)) error {
	if err := o.reportFor(); err != nil {
		return err
	}
	if o.State != "" && cmdline.SameFile(o.State, o.Report) {
		return usagef("--state and --report must be different files")
	}
	if o.Input != "-" {
		// Writing the report over the input would destroy it, and the reader would then read
		// the report's own lines as they are written, until the disk is full.
		for _, out := range []string{o.Report, report.TempPath(o.Report), o.State, o.metricsFile} {
			if out != "" && cmdline.SameFile(o.Input, out) {
				return usagef("the input %s is also the report, state or metrics file: give another --report, --state or --metrics-file", o.Input)
			}
		}
	}
	if err := o.output.check([]string{o.Report, o.State}, "the report or the state file"); err != nil {
		return err
	}
	if o.tokenFile != "" {
		var err error
		if o.APIToken, err = cmdline.ReadSecretFile("--api-token-file", "API token", o.tokenFile, strings.TrimSpace, logWarn); err != nil {
			return err
		}
	}
	comma, err := o.comma()
	if err != nil {
		return err
	}
	mapping, err := input.ParseMap(strings.Join(o.mapping, ","))
	if err != nil {
		return usagef("--map: %w", err)
	}
	o.Read.Comma, o.Read.Map = comma, mapping
	return nil
}

// comma returns the --delimiter as a rune, 0 for auto-detection.
func (o *options) comma() (rune, error) {
	switch o.delimiter {
	case "auto", "":
		return 0, nil
	case ",", ";", "\t":
		return rune(o.delimiter[0]), nil
	case `\t`, "tab":
		return '\t', nil
	}
	return 0, usagef("--delimiter must be , ; \\t or auto, not %s", strconv.Quote(o.delimiter))
}
