package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/report"
	"github.com/ideanote-provision/ideanote-provision/wave"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func versionString() string {
	if version == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return version
}

// options is everything a provisioning run is told, from flags and the environment: the run's
// own options, bound to the flags, and what only the command line knows.
type options struct {
	wave.Options
	tokenFile   string
	mapping     []string // --map, once or more
	delimiter   string
	progress    string
	logFormat   string
	metricsFile string      // --metrics-file: the run's metrics for node_exporter; "" for none
	withMail    bool        // --mail: mail the people of this run their links once it ends
	mail        mailOptions // the mail run of --mail
}

// dryRunSuffix ends the name of a dry run's report. A dry run writes its own report, so that it
// never blocks the real run that follows ("report.csv exists"); only a dry run may write a
// file of that name, so a dry run replaces one on its own.
const dryRunSuffix = ".dry-run.csv"

// dryRunReport is the report of a dry run when --report is not given.
const dryRunReport = "report" + dryRunSuffix

// reportFor lets a dry run replace a dry run's report, and refuses a real run a report named
// as a dry run's.
func (o *options) reportFor() error {
	dryRunName := strings.HasSuffix(o.Report, dryRunSuffix)
	switch {
	case !o.DryRun && dryRunName:
		return usagef("--report %s is named as a dry run's report: give a real run another --report", o.Report)
	case o.DryRun && dryRunName && !o.Resume:
		o.Overwrite = true
	}
	return nil
}

// linkFlags are the flags of the link settings of report.LinkError.
var linkFlags = map[string]string{report.SettingSubdomain: "--subdomain", report.SettingWebAppURL: "--webapp-url",
	report.SettingWidgetURL: "--widget-url", report.SettingWidgetID: "--widget-id"}

// check validates what only the command line knows, loads the token file, and parses
// --delimiter and --map; it never sends anything. wave.Run checks the rest.
func (o *options) check(logWarn func(msg string, args ...any)) error {
	if err := o.reportFor(); err != nil {
		return err
	}
	if o.State != "" && sameFile(o.State, o.Report) {
		return usagef("--state and --report must be different files")
	}
	if o.Input != "-" {
		// Writing the report over the input would destroy it, and the reader would then read
		// the report's own lines as they are written, until the disk is full.
		for _, out := range []string{o.Report, report.TempPath(o.Report), o.State, o.metricsFile} {
			if out != "" && sameFile(o.Input, out) {
				return usagef("the input %s is also the report, state or metrics file: give another --report, --state or --metrics-file", o.Input)
			}
		}
	}
	if o.metricsFile != "" {
		outputs := []string{o.Report, o.State}
		if err := checkMetricsFile(o.metricsFile, outputs, "the report or the state file"); err != nil {
			return err
		}
	}
	if o.Read.HeaderRow < 0 {
		return usagef("--header-row %d: give the header's line from 1, or 0 to find it", o.Read.HeaderRow)
	}
	if o.tokenFile != "" {
		var err error
		if o.APIToken, err = readSecretFile("--api-token-file", "API token", o.tokenFile, strings.TrimSpace, logWarn); err != nil {
			return err
		}
	}
	// The run checks the links too; here, so that the message names the flag.
	var le *report.LinkError
	if _, err := report.NewLinks(o.Subdomain, o.WebAppURL, o.WidgetURL, o.WidgetID); errors.As(err, &le) {
		return usagef("%s: %w", linkFlags[le.Setting], err)
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
	return checkOutputFlags(o.progress, o.logFormat)
}

// checkOutputFlags checks --progress and --log-format, which every command that runs has.
func checkOutputFlags(progress, logFormat string) error {
	switch progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress must be auto, always or never")
	}
	switch logFormat {
	case "text", "json":
	default:
		return usagef("--log-format must be text or json")
	}
	return nil
}

// readSecretFile reads the secret in the file at path, given by flag, trimmed by trim, and warns
// when other users can read the file. An error never echoes the path: a secret pasted in its
// place would be printed.
func readSecretFile(flag, what, path string, trim func(string) string, logWarn func(msg string, args ...any)) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", usagef("%s: cannot read the file: %w (give the path of a file that holds the %s)", flag, err, what)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		logWarn("the "+what+" file is readable by other users: chmod 600 it", "file", path, "mode", st.Mode().Perm().String())
	}
	secret := trim(string(b))
	if secret == "" {
		return "", usagef("%s %s is empty", flag, path)
	}
	return secret, nil
}

// sameFile reports whether a and b name one file, existing or not.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// comma returns the --delimiter as a rune, 0 for auto-detection.
func (o *options) comma() (rune, error) {
	switch o.delimiter {
	case "auto", "":
		return 0, nil
	case ",", ";", "\t", `\t`, "tab":
		if o.delimiter == `\t` || o.delimiter == "tab" {
			return '\t', nil
		}
		return rune(o.delimiter[0]), nil
	}
	return 0, usagef("--delimiter must be , ; \\t or auto, not %s", strconv.Quote(o.delimiter))
}
