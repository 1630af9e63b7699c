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
)

// Options say what Run does: the command line binds its flags to them.
type Options struct {
	Input string        // the HR file; "-" reads Stdin
	Stdin io.Reader     // the input when Input is "-"
	Read  input.Options // how to read the input: delimiter, encoding, sheet, mapping, defaults

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

// check validates o; it never sends anything. Its errors are *provision.ConfigError. It sets
// the default locale to its canonical form.
func (o *Options) check() error {
	if o.Resume && o.Overwrite {
		return provision.Configf("give --resume or --overwrite, not both")
	}
	if o.State == "" && (o.Force || o.RefreshAfter != 0 || o.OnlyChanges) {
		return provision.Configf("--force, --refresh-after and --only-changes need --state FILE")
	}
	if o.RefreshAfter < 0 {
		return provision.Configf("--refresh-after must be a positive duration, e.g. 720h")
	}
	if !o.DryRun {
		if o.SpaceID == "" {
			return provision.Configf("no workspace: set IDEANOTE_SPACE_ID or --space-id")
		}
		if o.APIToken == "" {
			return provision.Configf("no API token: set IDEANOTE_API_TOKEN or use --api-token-file FILE")
		}
		if o.Subdomain == "" && o.WebAppURL == "" && o.WidgetURL == "" && o.WidgetID == "" {
			return provision.Configf("no link target: give --subdomain, --webapp-url, --widget-url or --widget-id")
		}
	}
	if o.Read.Defaults.Locale != "" {
		canon, err := input.CanonicalLocale(o.Read.Defaults.Locale)
		if err != nil {
			return provision.Configf("--locale %q is %w", o.Read.Defaults.Locale, err)
		}
		o.Read.Defaults.Locale = canon
	}
	if err := ideanote.CheckBaseURL(o.BaseURL); err != nil {
		return provision.Configf("--base-url %w", err)
	}
	switch {
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0 || (o.Rate > 0 && o.Rate < pace.Floor):
		return provision.Configf("--rate must be 0 (no limit) or at least 0.0167 (one request a minute), in requests a second")
	case o.Burst < 1:
		return provision.Configf("--burst must be at least 1")
	case o.Concurrency < 1 || o.Concurrency > 1024:
		return provision.Configf("--concurrency must be between 1 and 1024")
	case o.Timeout <= 0:
		return provision.Configf("--timeout must be positive, e.g. 30s")
	case o.MaxAttempts < 1:
		return provision.Configf("--max-attempts must be at least 1")
	case o.MaxWait <= 0:
		return provision.Configf("--max-wait must be positive, e.g. 15m")
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
