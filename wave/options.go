package wave

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// Options say what Run does: the command line binds its flags to them.
type Options struct {
	Input     string        // the HR file; "-" reads Stdin
	Stdin     io.Reader     // the input when Input is "-"
	StdinName string        // what the log calls Stdin ("-" when empty): the demo's built-in file
	Read      input.Options // how to read the input: delimiter, encoding, sheet, mapping, defaults

	Report    string // the report to write
	Resume    bool   // keep the rows an earlier run of Report did, send the others
	Overwrite bool   // replace an existing Report
	DryRun    bool   // read and validate everything, send nothing

	// The link targets of the report; one at least unless DryRun (report.NewLinks).
	Subdomain, WebAppURL, WidgetURL, WidgetID string

	State        string        // the store of what was provisioned, "" for none
	Force        bool          // send every row, unchanged ones too
	RefreshAfter time.Duration // send unchanged rows last provisioned this long ago; 0 never
	OnlyChanges  bool          // leave unchanged rows out of the report
	StateBatch   int           // rows per state commit; 0 for the default

	BaseURL    string       // the API root
	SpaceID    string       // the workspace
	APIToken   string       // never printed
	HTTPClient *http.Client // nil: a transport with an idle connection per request in flight
	UserAgent  string

	Rate        float64       // requests a second at most, retries included; 0 for no limit
	Burst       int           // requests that may leave at once
	Concurrency int           // requests in flight at most
	Timeout     time.Duration // per attempt
	MaxAttempts int           // attempts per row before it is failed (429 answers do not count)
	MaxWait     time.Duration // a row answered 429 fails once the server accepted nothing this long

	Log *slog.Logger // nil logs nothing
	// Names names the options in the log lines that tell what to do: a command line by its
	// flags. Nil says them in words.
	Names provision.Namer
	// Started, when set, is called once the input and the report are open, before the first
	// Progress, with what a progress display may ask the run while it goes.
	Started func(Running)
	// Progress, when set, is called after each line of the report, from one goroutine.
	Progress func(provision.Result)
}

// DryRunSuffix ends the name of a dry run's report. A dry run writes its own report, so that
// it never blocks the real run that follows ("report.csv exists"); only a dry run may write a
// file of that name, so a dry run replaces one on its own.
const DryRunSuffix = ".dry-run.csv"

// DryRunReport is the report a dry run writes for the report path: its own, beside it
// (report.csv -> report.dry-run.csv), so that a dry run neither blocks the real run that
// follows nor, given a real run's report and Overwrite, replaces its login links.
func DryRunReport(path string) string {
	if strings.HasSuffix(path, DryRunSuffix) {
		return path
	}
	return strings.TrimSuffix(path, filepath.Ext(path)) + DryRunSuffix
}

// configf is provision.Configf: both commands report their configuration errors alike.
var configf = provision.Configf

// optionWords say in words the Options fields that a ConfigError of this package names.
var optionWords = map[string]string{"Resume": "resume", "Overwrite": "overwrite", "Report": "report",
	"Force": "forcing", "RefreshAfter": "the refresh age", "OnlyChanges": "only changes", "State": "a state file",
	"SpaceID": "the space id", "APIToken": "the API token", "Subdomain": "the subdomain", "WebAppURL": "the web-app URL",
	"WidgetURL": "the widget URL", "WidgetID": "the widget id", "Read.Defaults.Locale": "the default locale",
	"Read.Map": "the column mapping", "Read.HeaderRow": "the header row", "BaseURL": "the base URL", "Rate": "the rate", "Burst": "the burst",
	"Concurrency": "the concurrency", "Timeout": "the timeout", "MaxAttempts": "the attempts", "MaxWait": "the longest wait"}

// linkFields are the Options fields of the settings a report.LinkError names.
var linkFields = map[string]string{report.SettingSubdomain: "Subdomain", report.SettingWebAppURL: "WebAppURL",
	report.SettingWidgetURL: "WidgetURL", report.SettingWidgetID: "WidgetID"}

// opt is the Options field named field, as a ConfigError names it.
func opt(field string) provision.Option {
	return provision.Option{Of: "wave", Field: field, Words: optionWords[field]}
}

// check validates o; it never sends anything. Its errors are *provision.ConfigError. It sets
// the default locale to its canonical form.
func (o *Options) check() error {
	if o.Resume && o.Overwrite {
		return configf("give %s or %s, not both", opt("Resume"), opt("Overwrite"))
	}
	if o.State == "" && (o.Force || o.RefreshAfter != 0 || o.OnlyChanges) {
		return configf("%s, %s and %s need %s", opt("Force"), opt("RefreshAfter"), opt("OnlyChanges"), opt("State"))
	}
	if o.RefreshAfter < 0 {
		return configf("%s must be a positive duration, e.g. 720h", opt("RefreshAfter"))
	}
	if !o.DryRun {
		if o.SpaceID == "" {
			return configf("no workspace: set %s", opt("SpaceID"))
		}
		if o.APIToken == "" {
			return configf("no API token: set %s", opt("APIToken"))
		}
		if o.Subdomain == "" && o.WebAppURL == "" && o.WidgetURL == "" && o.WidgetID == "" {
			return configf("no link target: give %s, %s, %s or %s", opt("Subdomain"), opt("WebAppURL"), opt("WidgetURL"), opt("WidgetID"))
		}
	}
	if o.Read.HeaderRow < 0 {
		return configf("%s %d: give the header's line from 1, or 0 to find it", opt("Read.HeaderRow"), o.Read.HeaderRow)
	}
	if o.Read.Defaults.Locale != "" {
		canon, err := input.CanonicalLocale(o.Read.Defaults.Locale)
		if err != nil {
			return configf("%s %q is %w", opt("Read.Defaults.Locale"), o.Read.Defaults.Locale, err)
		}
		o.Read.Defaults.Locale = canon
	}
	if err := ideanote.CheckBaseURL(o.BaseURL); err != nil {
		return configf("%s %w", opt("BaseURL"), err)
	}
	switch {
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0 || (o.Rate > 0 && o.Rate < pace.Floor):
		return configf("%s must be 0 (no limit) or at least 0.0167 (one request a minute), in requests a second", opt("Rate"))
	case o.Burst < 1:
		return configf("%s must be at least 1", opt("Burst"))
	case o.Concurrency < 1 || o.Concurrency > 1024:
		return configf("%s must be between 1 and 1024", opt("Concurrency"))
	case o.Timeout <= 0:
		return configf("%s must be positive, e.g. 30s", opt("Timeout"))
	case o.MaxAttempts < 1:
		return configf("%s must be at least 1", opt("MaxAttempts"))
	case o.MaxWait <= 0:
		return configf("%s must be positive, e.g. 15m", opt("MaxWait"))
	}
	return nil
}

// Running is what a progress display may ask a run while it goes. Its functions are safe to
// call from any goroutine.
type Running struct {
	// Count returns the rows to expect; it may read the input again: call it beside the run.
	Count func(context.Context) (int64, error)
	// Throttles returns the 429 answers so far.
	Throttles func() int
	// PausedUntil returns when the pause the server last asked for (a Retry-After) ends.
	PausedUntil func() time.Time
}
