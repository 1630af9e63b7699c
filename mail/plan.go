package mail

import (
	"cmp"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/report"
)

// Status is the outcome of one person, as the mail report's status column says it.
type Status string

// The statuses of the mail report.
const (
	StatusSent         Status = "sent"          // accepted by the SMTP server
	StatusFailed       Status = "failed"        // refused, or could not be sent
	StatusSkipped      Status = "skipped"       // not to be mailed: no link, or mailed on another line
	StatusNotAttempted Status = "not_attempted" // the run stopped before it
	StatusWritten      Status = "written"       // written as an .eml file (--out-dir)
	StatusRendered     Status = "rendered"      // rendered only (--dry-run)
)

// Statuses is every status a line can end with, in the order above: for those that must list
// each of them, zeros included (the metrics file). Do not modify it.
var Statuses = []Status{StatusSent, StatusFailed, StatusSkipped, StatusNotAttempted, StatusWritten, StatusRendered}

// Result is one line of the mail report. It never holds a link.
type Result struct {
	Row       int // the row of the person in the report
	Email     string
	Status    Status
	MessageID string // <...>, once the message was made
	Attempts  int    // SMTP transactions tried
	Error     string // why it failed or was skipped, in the server's words when it answered
	SentAt    time.Time
	// Deferred counts the attempts the server answered with a 4xx, "try again later": the sign
	// of a sender going faster than its provider takes. It is not in the mail report.
	Deferred int
}

// job is one message to send.
type job struct {
	n      int // index among the jobs of the run
	row    int
	email  string
	fields Fields
}

// emailKey is how people are told apart: the email without case.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// lineup decides, in row order, what becomes of each line of the report: results known
// before sending anything (skipped, failed, kept from an earlier run) and the messages to send.
// kept holds the people an earlier run delivered to, by emailKey; their results are carried
// over, those of people no longer in the report too, so that the record is not lost.
func lineup(lines []report.Line, link string, kept map[string]Result) (settled []Result, jobs []job, err error) {
	lines = slices.Clone(lines)
	slices.SortStableFunc(lines, func(a, b report.Line) int { return cmp.Compare(a.Row, b.Row) })
	column := "login_url"
	if link == LinkWidget {
		column = "widget_url"
	}
	first := make(map[string]int) // row that is mailed, by emailKey
	provisioned, withLink := 0, 0
	for _, l := range lines {
		res := Result{Row: l.Row, Email: l.Email, Status: StatusSkipped}
		if l.Status != "ok" && l.Status != "skipped" {
			res.Error = fmt.Sprintf("no link: the report's status is %s", cmp.Or(l.Status, "empty"))
			settled = append(settled, res)
			continue
		}
		provisioned++
		url := l.LoginURL
		if link == LinkWidget {
			url = l.WidgetURL
		}
		key := emailKey(l.Email)
		addr, perr := mail.ParseAddress(l.Email)
		switch {
		case url == "":
			res.Error = fmt.Sprintf("no %s in the report", column)
		case first[key] != 0:
			withLink++
			res.Error = fmt.Sprintf("the same email as row %d, which is mailed once", first[key])
		case perr != nil || addr.Name != "" || addr.Address != strings.TrimSpace(l.Email):
			withLink++
			res.Status, res.Error = StatusFailed, "not a valid email address"
		default:
			withLink++
			first[key] = l.Row
			if k, ok := kept[key]; ok {
				k.Row = l.Row
				settled = append(settled, k)
				delete(kept, key)
				continue
			}
			name := strings.TrimSpace(l.Name)
			jobs = append(jobs, job{n: len(jobs), row: l.Row, email: addr.Address, fields: Fields{
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
		return nil, nil, configf("the report has no %s for anyone: give --link %s, or provision again with the link settings for %s", column, other, column)
	}
	rest := make([]Result, 0, len(kept))
	for _, k := range kept {
		rest = append(rest, k)
	}
	slices.SortFunc(rest, func(a, b Result) int { return cmp.Compare(a.Row, b.Row) })
	return append(settled, rest...), jobs, nil
}
