package mail

import (
	"cmp"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// Status is the outcome of one person, as the mail report's status column says it.
type Status string

// The statuses of the mail report.
const (
	StatusSent         Status = "sent"          // accepted by the SMTP server
	StatusFailed       Status = "failed"        // refused, or could not be sent
	StatusSkipped      Status = "skipped"       // not to be mailed: no link, mailed on another line, or Options.Leave
	StatusNotAttempted Status = "not_attempted" // the run stopped before it
	StatusWritten      Status = "written"       // written as an .eml file (OutDir)
	StatusRendered     Status = "rendered"      // rendered only (DryRun)
	// StatusUnknown is a person whose message was being sent when an earlier run was killed
	// (kill -9, a crash, a reboot): the server may have accepted it. Resumed runs keep them so,
	// unmailed, until Options.Resend names them.
	StatusUnknown Status = "unknown"
)

// Success reports whether a person's status needs nothing more of the operator: not failed,
// not attempted, nor unknown.
func (s Status) Success() bool {
	return s != StatusFailed && s != StatusNotAttempted && s != StatusUnknown
}

// Statuses is every status a line can end with, in the order above: for those that must list
// each of them, zeros included (the metrics file). Do not modify it.
var Statuses = []Status{StatusSent, StatusFailed, StatusSkipped, StatusNotAttempted, StatusWritten, StatusRendered, StatusUnknown}

// Result is one line of the mail report. It never holds a link.
type Result struct {
	Row       int // the row of the person in the report
	Email     string
	Status    Status
	MessageID string // <...>, once the message was made
	Attempts  int    // SMTP transactions tried
	Err       error  // why it failed or was skipped, in the server's words when it answered
	SentAt    time.Time
	// LinkSHA256 is LinkHash of the link the line is about (empty when it is about none): a
	// resumed run keeps a person as sent only if the report still gives them that link.
	LinkSHA256 string
	// Deferred counts the attempts the server answered with a 4xx, "try again later": the sign
	// of a sender going faster than its provider takes. It is not in the mail report.
	Deferred int
}

// job is one message to send.
type job struct {
	n        int // index among the jobs of the run
	row      int
	email    string
	linkHash string // LinkHash(fields.Link)
	fields   Fields
}

// carried counts what became of the people an earlier run delivered to, on a resume.
type carried struct {
	kept    int // in this report with the link they were mailed: their line is carried over
	changed int // in this report with another link: mailed again
	gone    int // not in this report, or without a link in it: their lines are left out
	byEmail int // of the kept, those whose line has no link_sha256 (an older mail report)
	resent  int // of the kept, those mailed again because Options.Resend names them
	left    int // of the kept, those perhaps mailed (unknown) whom Options.Leave settles as skipped
}

// earlier is how many people the earlier run delivered to.
func (c carried) earlier() int { return c.kept + c.changed + c.gone }

// lineup decides, in row order, what becomes of each line of the report: results known
// before sending anything (skipped, failed, kept from an earlier run) and the messages to send.
// kept holds the people an earlier run delivered to, by provision.EmailKey: a person's line is
// carried over when the report gives them the link they were mailed (or, for a line without
// link_sha256, by their email alone); the lines of people not in this report are left out, as
// this mail report is this report's. The people of resend (by provision.EmailKey) are mailed
// whatever was kept of them; each must be a person of the report with a link to mail. The
// people of leave (Options.Leave) who would be mailed, or whom an earlier run perhaps mailed
// (unknown), are skipped with its reason, unless resend names them.
func lineup(lines []report.Line, link string, kept map[string]Result, resend, leave map[string]string) (settled []Result, jobs []job, c carried, err error) {
	lines = slices.Clone(lines)
	slices.SortStableFunc(lines, func(a, b report.Line) int { return cmp.Compare(a.Row, b.Row) })
	column := "login_url"
	if link == LinkWidget {
		column = "widget_url"
	}
	first := make(map[string]int) // row that is mailed, by provision.EmailKey
	provisioned, withLink := 0, 0
	for _, l := range lines {
		email := strings.TrimSpace(l.Email) // as an address is compared: spaces around are no part of it
		res := Result{Row: l.Row, Email: email, Status: StatusSkipped}
		if l.Status != "ok" && l.Status != "skipped" {
			res.Err = fmt.Errorf("no link: the report's status is %s", cmp.Or(l.Status, "empty"))
			settled = append(settled, res)
			continue
		}
		provisioned++
		url := l.LoginURL
		if link == LinkWidget {
			url = l.WidgetURL
		}
		key := provision.EmailKey(email)
		addr, perr := mail.ParseAddress(email)
		switch {
		case url == "":
			res.Err = fmt.Errorf("no %s in the report", column)
		case first[key] != 0:
			withLink++
			res.Err = fmt.Errorf("the same email as row %d, which is mailed once", first[key])
		case perr != nil || addr.Name != "" || addr.Address != email:
			withLink++
			res.Status, res.Err = StatusFailed, errors.New("not a valid email address")
		default:
			withLink++
			first[key] = l.Row
			hash := LinkHash(url)
			if k, ok := kept[key]; ok && resend[key] != "" {
				c.resent++
			} else if ok {
				if k.LinkSHA256 == hash || k.LinkSHA256 == "" {
					c.kept++
					if k.LinkSHA256 == "" {
						c.byEmail++
					}
					// A person left out has a newer link mailed elsewhere: whether this
					// report's reached them no longer matters, and their line must not keep
					// the mail report from being done.
					if why := leave[key]; why != "" && k.Status == StatusUnknown {
						c.left++
						res.Err = errors.New(why)
						break
					}
					k.Row = l.Row
					settled = append(settled, k)
					continue
				}
				c.changed++
			}
			if why := leave[key]; why != "" && resend[key] == "" {
				res.Err = errors.New(why)
				break
			}
			name := strings.TrimSpace(l.Name)
			jobs = append(jobs, job{n: len(jobs), row: l.Row, email: addr.Address, linkHash: hash, fields: Fields{
				Email: addr.Address, Name: name, FirstName: firstName(name), Team: l.Team, Locale: l.Locale,
				LoginURL: l.LoginURL, WidgetURL: l.WidgetURL, Link: url, Change: l.Change}})
			continue
		}
		settled = append(settled, res)
	}
	if provisioned > 0 && withLink == 0 {
		other := "widget"
		if link == LinkWidget {
			other = "login"
		}
		return nil, nil, carried{}, configf("the report has no %s for anyone: give %s %s, or provision again with the link settings for %[1]s", column, opt("Link"), other)
	}
	c.gone = len(kept) - c.kept - c.changed - c.resent // each key is matched once at most: first dedupes
	if len(resend) > 0 {
		mailed := make(map[string]bool, len(jobs))
		for _, j := range jobs {
			mailed[provision.EmailKey(j.email)] = true
		}
		for key, addr := range resend {
			if !mailed[key] {
				return nil, nil, carried{}, configf("%s %s: not a person of the report with a %s to mail", opt("Resend"), addr, column)
			}
		}
	}
	return settled, jobs, c, nil
}
