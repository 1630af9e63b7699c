package wave

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
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
	// Progress: count returns the rows to expect (it may read the input again: call it beside
	// the run), throttles the 429 answers so far.
	Started func(count func(context.Context) (int64, error), throttles func() int)
	// Progress, when set, is called after each line of the report, from one goroutine.
	Progress func(provision.Result)
}
