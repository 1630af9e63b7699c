package main

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
	"github.com/ideanote-provision/ideanote-provision/report"
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

var errHelp = flag.ErrHelp

// options is everything a run is told, from flags and the environment.
type options struct {
	input       string
	spaceID     string
	apiToken    string // never printed
	tokenFile   string
	baseURL     string
	subdomain   string
	webAppURL   string
	widgetURL   string
	widgetID    string
	reportPath  string
	resume      bool
	overwrite   bool
	rate        float64
	burst       int
	concurrency int
	timeout     time.Duration
	maxAttempts int
	maxWait     time.Duration
	team        string
	locale      string
	mapping     string
	delimiter   string
	dryRun      bool
	progress    string
	logFormat   string

	statePath    string        // --state: what was provisioned, for scheduled waves
	force        bool          // send every row even when unchanged
	refreshAfter time.Duration // send unchanged rows last provisioned this long ago
	onlyChanges  bool          // leave unchanged rows out of the report
	stateBatch   int           // rows per state commit; 0 for the default (tests set it)
}

const usageText = `Usage:
  ideanote-provision [flags] INPUT.csv      (INPUT may be - for standard input)
  ideanote-provision demo                   (the whole job against a built-in fake Ideanote)

Puts every person of INPUT.csv into an Ideanote workspace through the custom-login session
endpoint, and writes a report CSV with a login link for each of them. The report holds
credentials: it is created with mode 0600; mail each link to its owner only.

Example:
  export IDEANOTE_SPACE_ID=b06f0a9a-4813-4515-81a0-29e8f2d193ec
  export IDEANOTE_API_TOKEN=...            # or --api-token-file /etc/ideanote/token
  ideanote-provision --subdomain acme --report wave-12.csv people.csv

The API token is read from IDEANOTE_API_TOKEN or --api-token-file, never from a flag.

Scheduled waves (e.g. nightly from cron on the whole staff list):
  ideanote-provision --subdomain acme --state /var/lib/ideanote/state.db --only-changes \
      --report /var/lib/ideanote/wave-$(date +%F).csv staff.csv
  Only people new or changed since their last ok are sent; the report's change column says
  new, changed, unchanged or refreshed.

Exit status:
  0    every row ok, skipped (resume), unchanged (--state) or valid (dry run)
  1    some rows failed or are invalid (see the report's status and error columns)
  2    usage or configuration error; nothing was sent
  3    aborted: the API refused the token, space or URL three times in a row, the input could not be
       read to the end (e.g. a quote left open), or the report or state is locked
  130  interrupted; the report is complete up to the interruption, rerun with --resume

Flags:
`

// parseOptions reads flags from args and defaults from getenv.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "api-token" || name == "token") {
			return nil, usagef("the API token is never a flag (every local user can read a command line): set IDEANOTE_API_TOKEN or use --api-token-file")
		}
	}
	o := &options{}
	fs := flag.NewFlagSet("ideanote-provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		io.WriteString(fs.Output(), usageText) // not Fprint: the text holds a literal %F
		fs.PrintDefaults()
	}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&o.spaceID, "space-id", env("IDEANOTE_SPACE_ID", ""), "workspace `id` (env IDEANOTE_SPACE_ID)")
	fs.StringVar(&o.tokenFile, "api-token-file", "", "read the owner API token from `file` instead of IDEANOTE_API_TOKEN")
	fs.StringVar(&o.baseURL, "base-url", env("IDEANOTE_BASE_URL", ideanote.DefaultBaseURL), "API root `URL`; http:// only for loopback hosts (env IDEANOTE_BASE_URL)")
	fs.StringVar(&o.subdomain, "subdomain", env("IDEANOTE_SUBDOMAIN", ""), "web-app links on `name`.ideanote.io (env IDEANOTE_SUBDOMAIN)")
	fs.StringVar(&o.webAppURL, "webapp-url", "", "web-app root `URL` for a custom domain, instead of --subdomain")
	fs.StringVar(&o.widgetURL, "widget-url", "", "full-page widget `link` to extend with each session token")
	fs.StringVar(&o.widgetID, "widget-id", "", "widget `id`: shorthand for the default widget host with config=id")
	fs.StringVar(&o.reportPath, "report", "report.csv", "report `path`")
	fs.BoolVar(&o.resume, "resume", false, "continue an earlier run that wrote this report: rows already ok there are not sent again")
	fs.BoolVar(&o.overwrite, "overwrite", false, "replace an existing report")
	fs.Float64Var(&o.rate, "rate", 1, "at most `n` requests per second over all workers, retries included (1 = 60/min; 0 = none); the pool keeps under the server's limit in any case")
	fs.IntVar(&o.burst, "burst", 1, "token-bucket burst: `n` requests may leave at once")
	fs.IntVar(&o.concurrency, "concurrency", 4, "at most `n` requests in flight")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "time allowed for one attempt")
	fs.IntVar(&o.maxAttempts, "max-attempts", 6, "attempts per row before it is failed (429 answers do not count)")
	fs.DurationVar(&o.maxWait, "max-wait", provision.DefaultMaxWait, "a row answered 429 fails once the server has accepted nothing for `duration`")
	fs.StringVar(&o.team, "team", "", "team for rows whose team cell is empty")
	fs.StringVar(&o.locale, "locale", "", "locale for rows whose locale cell is empty")
	fs.StringVar(&o.mapping, "map", "", "header mapping, e.g. 'email=Work Email,name=Full Name'")
	fs.StringVar(&o.delimiter, "delimiter", "auto", "field delimiter: , ; \\t or auto (from the header line)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and validate everything, send nothing; the report says valid or invalid")
	fs.StringVar(&o.progress, "progress", "auto", "auto (a bar when stderr is a terminal), always or never")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json, on stderr")
	fs.StringVar(&o.statePath, "state", "", "remember in `file` what was provisioned; rows unchanged since their last ok are not sent")
	fs.BoolVar(&o.force, "force", false, "with --state: send every row, unchanged ones too, and refresh the state")
	fs.DurationVar(&o.refreshAfter, "refresh-after", 0, "with --state: send unchanged rows again once their last ok is older than `duration` (e.g. 720h), for fresh links")
	fs.BoolVar(&o.onlyChanges, "only-changes", false, "with --state: leave unchanged rows out of the report, which then lists exactly the people to email")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, usagef("%v (see --help)", err)
	}
	if *showVersion {
		return nil, errVersion
	}
	if fs.NArg() != 1 {
		return nil, usagef("expected one input file (or - for standard input), got %d arguments: ideanote-provision [flags] INPUT.csv", fs.NArg())
	}
	o.input = fs.Arg(0)
	o.apiToken = strings.TrimSpace(getenv("IDEANOTE_API_TOKEN"))
	return o, nil
}

var errVersion = errors.New("version")

// check validates the options and loads the token file; it never sends anything.
func (o *options) check(logWarn func(msg string, args ...any)) error {
	if o.resume && o.overwrite {
		return usagef("give --resume or --overwrite, not both")
	}
	if o.statePath == "" && (o.force || o.refreshAfter != 0 || o.onlyChanges) {
		return usagef("--force, --refresh-after and --only-changes need --state FILE")
	}
	if o.refreshAfter < 0 {
		return usagef("--refresh-after must be a positive duration, e.g. 720h")
	}
	if o.statePath != "" && sameFile(o.statePath, o.reportPath) {
		return usagef("--state and --report must be different files")
	}
	if o.input != "-" {
		// Writing the report over the input would destroy it, and the reader would then read
		// the report's own lines as they are written, until the disk is full.
		for _, out := range []string{o.reportPath, report.TempPath(o.reportPath), o.statePath} {
			if out != "" && sameFile(o.input, out) {
				return usagef("the input %s is also the report or state file: give another --report or --state", o.input)
			}
		}
	}
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			// The path is not echoed: a token pasted in place of the path would be printed.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return usagef("--api-token-file: cannot read the file: %v (give the path of a file that holds the token)", err)
		}
		if st, err := os.Stat(o.tokenFile); err == nil && st.Mode().Perm()&0o077 != 0 {
			logWarn("the API token file is readable by other users: chmod 600 it", "file", o.tokenFile, "mode", st.Mode().Perm().String())
		}
		o.apiToken = strings.TrimSpace(string(b))
		if o.apiToken == "" {
			return usagef("--api-token-file %s is empty", o.tokenFile)
		}
	}
	if !o.dryRun {
		if o.spaceID == "" {
			return usagef("no workspace: set IDEANOTE_SPACE_ID or --space-id")
		}
		if o.apiToken == "" {
			return usagef("no API token: set IDEANOTE_API_TOKEN or use --api-token-file FILE")
		}
		if o.subdomain == "" && o.webAppURL == "" && o.widgetURL == "" && o.widgetID == "" {
			return usagef("no link target: give --subdomain, --webapp-url, --widget-url or --widget-id")
		}
	}
	if o.locale != "" {
		canon, err := provision.CanonicalLocale(o.locale)
		if err != nil {
			return usagef("--locale %q is not a BCP 47 language tag (e.g. en, fr-FR)", o.locale)
		}
		o.locale = canon
	}
	if err := ideanote.CheckBaseURL(o.baseURL); err != nil {
		return usagef("--base-url %v", err)
	}
	switch {
	case math.IsNaN(o.rate) || math.IsInf(o.rate, 0) || o.rate < 0 || (o.rate > 0 && o.rate < pace.Floor):
		return usagef("--rate must be 0 (no limit) or at least 0.0167 (one request a minute), in requests a second")
	case o.burst < 1:
		return usagef("--burst must be at least 1")
	case o.concurrency < 1 || o.concurrency > 1024:
		return usagef("--concurrency must be between 1 and 1024")
	case o.timeout <= 0:
		return usagef("--timeout must be positive, e.g. 30s")
	case o.maxAttempts < 1:
		return usagef("--max-attempts must be at least 1")
	case o.maxWait <= 0:
		return usagef("--max-wait must be positive, e.g. 15m")
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress must be auto, always or never")
	}
	switch o.logFormat {
	case "text", "json":
	default:
		return usagef("--log-format must be text or json")
	}
	return nil
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
