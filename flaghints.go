package main

import (
	"cmp"
	"errors"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/cronline"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
)

// optionFlags are the flags that set each field of the options a domain package's error names
// (input.Options, wave.Options, mail.Options, cronline.Options), by the field's name;
// mailRunFlags those of mail's that provisioning names otherwise (--mail).
var (
	optionFlags = map[string]string{
		// the input
		"Encoding": "--encoding", "Map": "--map", "Read.Map": "--map", "HeaderRow": "--header-row", "Read.HeaderRow": "--header-row",
		"Sheet": "--sheet", "Read.Defaults.Locale": "--locale",
		// the run, its report and its state
		"Report": "--report", "Resume": "--resume", "Overwrite": "--overwrite", "DryRun": "--dry-run", "State": "--state",
		"Force": "--force", "RefreshAfter": "--refresh-after", "OnlyChanges": "--only-changes",
		// the workspace and its links
		"SpaceID": "IDEANOTE_SPACE_ID or --space-id", "APIToken": "IDEANOTE_API_TOKEN or --api-token-file",
		"Subdomain": "--subdomain", "WebAppURL": "--webapp-url", "WidgetURL": "--widget-url", "WidgetID": "--widget-id",
		// sending
		"BaseURL": "--base-url", "Rate": "--rate", "Burst": "--burst", "Concurrency": "--concurrency", "Timeout": "--timeout",
		"MaxAttempts": "--max-attempts", "MaxWait": "--max-wait",
		// mail
		"WithMail": "--mail", "MailReport": "--mail-report", "Resend": "--resend", "To": "--to", "OutDir": "--out-dir",
		"Link": "--link", "From": "--from", "ReplyTo": "--reply-to", "SMTPURL": "--smtp-url",
		"Password": "IDEANOTE_SMTP_PASSWORD or --smtp-password-file", "Subject": "--subject", "Template": "--template",
		"HTMLTemplate": "--html-template",
	}
	mailRunFlags = map[string]string{"Rate": "--mail-rate", "Concurrency": "--mail-concurrency"}
)

// optionNames names options by the flags of the command run: mail's under mail (mailCmd), under
// provisioning those of --mail.
func optionNames(mailCmd bool) provision.Namer {
	return func(o provision.Option) string {
		if f := mailRunFlags[o.Field]; o.Of == "mail" && !mailCmd && f != "" {
			return f
		}
		return cmp.Or(optionFlags[o.Field], o.Words)
	}
}

// abortFlags names, per cause of an abort, the flags or variables that set what to check.
var abortFlags = map[provision.AbortCause]string{
	provision.CauseBaseURL: "--base-url or IDEANOTE_BASE_URL",
	provision.CauseToken:   "IDEANOTE_API_TOKEN or --api-token-file",
	provision.CauseSpace:   "--space-id or IDEANOTE_SPACE_ID",
	provision.CauseStalled: "--max-wait; rerun with --resume to send the rest",
}

// remedies words cronline's remedies in this program's commands and flags.
var remedies = map[cronline.Remedy]string{
	cronline.RunAgain:   "run the same command again, with --resume, to mail the people ok so far",
	cronline.NextRun:    "a run with --mail and this --state mails them (nobody twice)",
	cronline.MailByHand: "ideanote-provision mail --resume REPORT (with the mail flags) mails them",
	cronline.FinishProvisioning: "finish its provisioning run: the same command with --report REPORT in place of tonight's, " +
		"without --mail and its mail flags (--resume sends again nobody whose line still shows their data; " +
		"people changed since, and new ones, are sent into that report); " +
		"the next run with --mail and this --state then mails it (nobody twice)",
}

// withFlags returns err with the problem a domain package names worded with the flags of the
// command run (mailCmd: mail): "Give the encoding windows-1252" reads "Give --encoding
// windows-1252"; an abort names what to check, an option error its flag ("--state: ..."), a
// mail run refused after provisioning how to mail its people. Others pass as they are.
func withFlags(err error, mailCmd bool) error {
	name := optionNames(mailCmd)
	var inner error // the domain's error, whose text ends err's: wrapped with %w
	var flagged string
	if _, ok := errors.AsType[*flaggedError](err); ok {
		return err // worded already
	} else if fe, ok := errors.AsType[*input.FileError](err); ok {
		inner, flagged = fe, fe.Text(func(option string) string { return name(provision.Option{Field: option, Words: option}) })
	} else if ae, ok := errors.AsType[*provision.AbortError](err); ok {
		inner, flagged = ae, ae.Error()+" ("+abortFlags[ae.Cause]+")"
	} else if ne, ok := errors.AsType[*cronline.NotMailedError](err); ok {
		inner, flagged = ne, strings.Replace(ne.Error(), ne.Err.Error(), withFlags(ne.Err, mailCmd).Error(), 1)+
			"; mail them with ideanote-provision mail --resume "+ne.Report
	} else if ce, ok := errors.AsType[*provision.ConfigError](err); ok {
		inner, flagged = ce, ce.Text(name)
	} else {
		return err
	}
	msg, ok := strings.CutSuffix(err.Error(), inner.Error())
	if !ok {
		return err
	}
	return &flaggedError{msg: msg + flagged, err: err}
}

// flaggedError is an error read with other words: its message, and its chain for errors.Is
// and errors.As.
type flaggedError struct {
	msg string
	err error
}

func (e *flaggedError) Error() string { return e.msg }
func (e *flaggedError) Unwrap() error { return e.err }
