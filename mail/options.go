// Package mail sends each person of a provisioning report one message with their own login
// link, over SMTP or as .eml files, and keeps a mail report so that nobody is mailed twice.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/mail"
	"path/filepath"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// The links a message can carry (Options.Link).
const (
	LinkLogin  = "login"  // the web-app link (login_url)
	LinkWidget = "widget" // the widget link (widget_url)
)

// Defaults of the Options left zero.
const (
	DefaultMaxAttempts = 5
	DefaultTimeout     = 30 * time.Second
	DefaultBackoff     = time.Second // the longest wait before the first retry; it doubles after each
	MaxBackoff         = time.Minute
)

// Options say what Run does: the command line binds its flags to them. The zero value of each
// optional field is a useful default.
type Options struct {
	Report     string // the provisioning report to read (required)
	MailReport string // the mail report to write; "" means DefaultMailReport(Report)
	Resume     bool   // keep the people the mail report shows sent the report's link, send the others
	Overwrite  bool   // replace a mail report that records messages already delivered
	// Resend, with Resume, names people to mail although the mail report keeps them: those
	// StatusUnknown (or sent) that the operator has checked and chose to mail on purpose.
	Resend []string
	// Leave names people of the report not to mail, by provision.EmailKey, with the reason
	// their mail report line gives (status skipped): a caller that knows of a newer link sent
	// them elsewhere. Resend wins over it; a person the mail report keeps as mailed (Resume)
	// keeps their line, and one it shows perhaps mailed (unknown) is skipped with the reason.
	Leave map[string]string
	// MailReportLocked says that the caller holds the mail report's lock (LockMailReport), for
	// longer than Run: Run does not take it again.
	MailReportLocked bool

	// SMTPURL is smtp://user@host:587 (STARTTLS required) or smtps://user@host:465 (TLS from
	// the first byte); plain smtp:// without TLS is allowed only to a loopback host. The user
	// is optional; the password is never in the URL.
	SMTPURL  string
	Password string      // the SMTP password, from the environment or a file
	TLS      *tls.Config // nil: the system's roots; set for a private CA (or a test server)
	OutDir   string      // instead of sending, write one .eml file per person here (SMTPURL unused)
	DryRun   bool        // render every message, print the first to Stdout, send nothing
	// To, with DryRun, names the people whose messages are printed instead of the first; each
	// must be a person of the report with a message to render.
	To []string

	From    string // the sender, "IT <it@acme.com>" (required)
	ReplyTo string // the Reply-To address, or ""
	// Subject is a text/template for the subject; "" takes the subject that the text template
	// defines ({{define "subject"}}), else the built-in one of the person's language.
	Subject      string
	Template     string // the text template file, "" for the built-in; variants beside it
	HTMLTemplate string // the HTML template file, "" for none (the built-in with Template "")
	Link         string // LinkLogin ("" too) or LinkWidget

	Rate        float64       // messages a second at most over SMTP; 0 for no limit
	Concurrency int           // connections (or writers) at once, 1 to 64
	MaxAttempts int           // SMTP tries per message; 0 means DefaultMaxAttempts
	Timeout     time.Duration // per connection and per message; 0 means DefaultTimeout
	Backoff     time.Duration // the longest wait before the first retry (provision.Backoff); 0 means DefaultBackoff
	// MaxWait is how long the run goes on while the server asks it to slow down and accepts
	// nothing; 0 means provision.DefaultMaxWait.
	MaxWait time.Duration

	Log      *slog.Logger     // nil logs nothing
	Stdout   io.Writer        // where a dry run prints its first message; nil is io.Discard
	Progress func(Result)     // called after each line of the mail report, from one goroutine
	Now      func() time.Time // the clock, called from several goroutines; nil is time.Now
	// Wait waits d before a retry, or until ctx is done; nil waits on a timer. Tests replace it.
	Wait func(ctx context.Context, d time.Duration) error
	// Started, when set, is called once before the first Progress with the number of lines the
	// mail report will have and how many of them are messages to send. The others, known
	// before anything is sent (skipped, or kept by Resume), are the first lines given to
	// Progress; the messages follow as they end.
	Started func(lines, messages int)
	// Names names the options in the log lines that tell what to do: a command line by its
	// flags. Nil says them in words.
	Names provision.Namer
}

// DefaultMailReport is the mail report beside a report: report.csv gives report.mail.csv.
func DefaultMailReport(report string) string {
	if ext := filepath.Ext(report); strings.EqualFold(ext, ".csv") {
		report = strings.TrimSuffix(report, ext)
	}
	return report + ".mail.csv"
}

// configf is provision.Configf: both commands report their configuration errors alike.
var configf = provision.Configf

// optionWords say in words the Options fields that a ConfigError of this package names.
var optionWords = map[string]string{"MailReport": "mail report", "Resume": "resume", "Overwrite": "overwrite",
	"Resend": "resend", "To": "to", "DryRun": "a dry run", "OutDir": "an .eml folder", "Link": "the link",
	"Rate": "the rate", "Concurrency": "the concurrency", "MaxWait": "the longest wait", "From": "the sender",
	"ReplyTo": "the Reply-To address", "SMTPURL": "the SMTP URL", "Password": "the SMTP password setting",
	"Subject": "the subject", "Template": "the text template", "HTMLTemplate": "the HTML template"}

// opt is the Options field named field, as a ConfigError names it.
func opt(field string) provision.Option {
	return provision.Option{Of: "mail", Field: field, Words: optionWords[field]}
}

// provisionOpt is an option of the provisioning run (wave.Options), which a remedy of this
// package may name.
func provisionOpt(field, words string) provision.Option {
	return provision.Option{Of: "wave", Field: field, Words: words}
}

var (
	// ErrAborted says the run stopped because nothing more could be sent: the server refused
	// the login or the sender, or could not be reached. The rest is not_attempted.
	ErrAborted = errors.New("mail run aborted")
	// ErrMailReport says the mail report could not be written completely.
	ErrMailReport = errors.New("mail report not written")
	// ErrFailed says the run went through but some messages failed.
	ErrFailed = errors.New("some messages failed: see the mail report")
	// ErrExists says the mail report records messages already delivered, and neither Resume
	// nor Overwrite was given. Run returns it inside a provision.ConfigError.
	ErrExists = errors.New("mail report exists")
	// ErrOtherRun says that Resume was given a mail report most of whose people mailed are
	// not in the report with the link they were mailed. Run returns it inside a provision.ConfigError.
	ErrOtherRun = errors.New("belongs to another provisioning run")
)

// setup is what the checked options prepared for a run.
type setup struct {
	o          Options
	mailReport string
	from       *mail.Address
	replyTo    *mail.Address
	smtp       *endpoint // nil with OutDir or DryRun
	templates  *templates
	warnings   provision.RowWarnings // the people not mailed, logged up to a limit
}

// Validate checks the options and parses and tries the templates, without reading the report
// or sending anything. Its errors are *provision.ConfigError.
func Validate(o Options) error {
	_, err := prepare(o)
	return err
}

func prepare(o Options) (*setup, error) {
	o.withDefaults()
	s := &setup{o: o}
	s.warnings = provision.RowWarnings{Log: o.Log, More: "more messages failed: see the mail report's status and error columns"}
	if o.Report == "" {
		return nil, configf("no report: give the report of a provisioning run")
	}
	s.mailReport = o.MailReport
	if s.mailReport == "" {
		s.mailReport = DefaultMailReport(o.Report)
	}
	if filepath.Clean(s.mailReport) == filepath.Clean(o.Report) {
		return nil, configf("%s %s is the report itself: give another file", opt("MailReport"), s.mailReport)
	}
	switch {
	case o.Resume && o.Overwrite:
		return nil, configf("give %s or %s, not both", opt("Resume"), opt("Overwrite"))
	case o.Link != "" && o.Link != LinkLogin && o.Link != LinkWidget:
		return nil, configf("%s %q: expected login or widget", opt("Link"), o.Link)
	case len(o.Resend) > 0 && !o.Resume:
		return nil, configf("%s mails again people that %s keeps: give %[2]s with it", opt("Resend"), opt("Resume"))
	case len(o.To) > 0 && !o.DryRun:
		return nil, configf("%s names the messages a dry run prints: give %s with it", opt("To"), opt("DryRun"))
	case o.DryRun && o.OutDir != "":
		return nil, configf("give %s or %s, not both: %[2]s sends nothing already (it writes each message into a file), %[1]s writes nothing (it prints the first message)", opt("DryRun"), opt("OutDir"))
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0 || (o.Rate > 0 && o.Rate < pace.Floor):
		// As for provisioning: a rate below one a minute is a typing mistake, not a pace.
		return nil, configf("%s must be 0 (no limit) or at least 0.0167 (one message a minute), in messages a second", opt("Rate"))
	case o.Concurrency < 1 || o.Concurrency > 64:
		return nil, configf("%s must be between 1 and 64 connections", opt("Concurrency"))
	case o.MaxAttempts < 0 || o.Timeout < 0 || o.Backoff < 0 || o.MaxWait < 0:
		return nil, configf("attempts, timeout, backoff and %s may not be negative", opt("MaxWait"))
	}
	if o.From == "" {
		return nil, configf("no sender: give %s, e.g. %[1]s 'IT <it@acme.com>'", opt("From"))
	}
	var err error
	if s.from, err = parseAddress(opt("From"), o.From); err != nil {
		return nil, err
	}
	if o.ReplyTo != "" {
		if s.replyTo, err = parseAddress(opt("ReplyTo"), o.ReplyTo); err != nil {
			return nil, err
		}
	}
	switch {
	case o.DryRun:
		if o.SMTPURL != "" { // checked all the same, so that a dry run finds its mistakes
			if _, err := parseEndpoint(o.SMTPURL, o.Password, false); err != nil {
				return nil, err
			}
		}
	case o.OutDir != "":
		// Nothing is sent: an SMTP URL (from the environment, say) is not used.
	case o.SMTPURL == "":
		return nil, configf("nowhere to send: give %s, or %s to write .eml files", opt("SMTPURL"), opt("OutDir"))
	default:
		if s.smtp, err = parseEndpoint(o.SMTPURL, o.Password, true); err != nil {
			return nil, err
		}
	}
	if s.templates, err = loadTemplates(&o); err != nil {
		return nil, err
	}
	if err := s.templates.check(o.Link); err != nil {
		return nil, err
	}
	return s, nil
}

// parseAddress reads one address, with or without a display name.
func parseAddress(option provision.Option, s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, configf("%s %q: not an email address (%w)", option, s, err)
	}
	return a, nil
}

// withDefaults fills the zero fields of o.
func (o *Options) withDefaults() {
	if o.Link == "" {
		o.Link = LinkLogin
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Backoff == 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxWait == 0 {
		o.MaxWait = provision.DefaultMaxWait
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == nil {
		o.Wait = provision.Sleep
	}
}
