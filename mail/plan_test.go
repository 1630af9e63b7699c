package mail

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/srcconst"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

func TestLineup(t *testing.T) {
	t.Parallel()
	l := func(row int, email, status, login, widget string) report.Line {
		return report.Line{Row: row, User: provision.User{Email: email, Name: "N " + email}, Status: status, LoginURL: login, WidgetURL: widget}
	}
	lines := []report.Line{
		l(9, "late@example.com", "ok", "L9", "W9"),
		l(2, "a@example.com", "ok", "L2", "W2"),
		l(3, "b@example.com", "failed", "", ""),
		l(4, "c@example.com", "invalid", "", ""),
		l(5, "A@EXAMPLE.COM", "ok", "L5", "W5"),
		l(6, "d@example.com", "skipped", "L6", ""),
		l(7, "not an email", "ok", "L7", "W7"),
		l(8, "e@example.com", "not_attempted", "", ""),
		l(10, "Name <f@example.com>", "ok", "L10", "W10"),
		l(11, "kept@example.com", "ok", "L11", "W11"),
		l(12, " moved@example.com ", "ok", "L12-new", "W12"),
		l(13, "old@example.com", "ok", "L13", "W13"),
		l(14, " failed-now@example.com\t", "failed", "", ""),
	}
	kept := map[string]Result{
		"kept@example.com":       {Row: 3, Email: "kept@example.com", Status: StatusSent, MessageID: "<k@x>", LinkSHA256: LinkHash("L11")},
		"moved@example.com":      {Row: 12, Email: "moved@example.com", Status: StatusSent, MessageID: "<m@x>", LinkSHA256: LinkHash("L12-old")},
		"old@example.com":        {Row: 13, Email: "old@example.com", Status: StatusSent, MessageID: "<o@x>"}, // an older mail report's line
		"gone@example.com":       {Row: 99, Email: "gone@example.com", Status: StatusSent, MessageID: "<g@x>", LinkSHA256: LinkHash("L99")},
		"failed-now@example.com": {Row: 14, Email: "failed-now@example.com", Status: StatusSent, LinkSHA256: LinkHash("L14")},
	}
	settled, jobs, c, err := lineup(lines, LinkLogin, kept, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Kept: the same link, or no hash to compare (by email). Mailed again: another link. Left
	// out: not in the report, or no link in it.
	if want := (carried{kept: 2, changed: 1, gone: 2, byEmail: 1}); c != want {
		t.Errorf("carried = %+v, want %+v", c, want)
	}
	if len(kept) != 5 {
		t.Errorf("lineup modified kept: %v", kept)
	}
	var sends []string
	for _, j := range jobs {
		sends = append(sends, j.email+"="+j.fields.Link)
		if j.fields.FirstName != "N" || j.fields.LoginURL == "" {
			t.Errorf("job %+v", j)
		}
	}
	if got, want := strings.Join(sends, " "), "a@example.com=L2 d@example.com=L6 late@example.com=L9 moved@example.com=L12-new"; got != want {
		t.Errorf("jobs = %s, want %s", got, want)
	}
	for _, j := range jobs {
		if j.linkHash != LinkHash(j.fields.Link) {
			t.Errorf("job %s: link hash %q, want that of its link", j.email, j.linkHash)
		}
	}
	want := []struct {
		row    int
		status Status
		err    string
	}{
		{3, StatusSkipped, "status is failed"},
		{4, StatusSkipped, "status is invalid"},
		{5, StatusSkipped, "the same email as row 2"},
		{7, StatusFailed, "not a valid email address"},
		{8, StatusSkipped, "status is not_attempted"},
		{10, StatusFailed, "not a valid email address"},
		{11, StatusSent, ""},
		{13, StatusSent, ""},
		{14, StatusSkipped, "status is failed"},
	}
	if len(settled) != len(want) {
		t.Fatalf("settled = %+v", settled)
	}
	for i, w := range want {
		s := settled[i]
		if s.Row != w.row || s.Status != w.status || !strings.Contains(oneLine(s.Err), w.err) {
			t.Errorf("settled[%d] = %+v, want row %d %s %q", i, s, w.row, w.status, w.err)
		}
		if s.Email != strings.TrimSpace(s.Email) {
			t.Errorf("settled[%d]: email %q not trimmed for the mail report", i, s.Email)
		}
	}

	// With the widget link, d has none.
	settled, jobs, _, err = lineup(lines, LinkWidget, map[string]Result{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 5 || jobs[1].email != "late@example.com" || jobs[1].fields.Link != "W9" {
		t.Errorf("widget jobs = %+v", jobs)
	}
	found := false
	for _, s := range settled {
		if s.Row == 6 && oneLine(s.Err) == "no widget_url in the report" {
			found = true
		}
	}
	if !found {
		t.Errorf("row 6 not skipped for its missing widget link: %+v", settled)
	}
}

func TestLineupNoLinkAtAll(t *testing.T) {
	t.Parallel()
	lines := []report.Line{{Row: 2, User: provision.User{Email: "a@example.com"}, Status: "ok", WidgetURL: "W"}}
	_, _, _, err := lineup(lines, LinkLogin, nil, nil, nil)
	var ce *provision.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(named(err), "no login_url for anyone: give <Link> widget") {
		t.Errorf("err = %v", err)
	}
	// A report where nobody was provisioned is no mistake of the options: nothing to mail.
	settled, jobs, _, err := lineup([]report.Line{{Row: 2, User: provision.User{Email: "a@example.com"}, Status: "failed"}}, LinkLogin, nil, nil, nil)
	if err != nil || len(jobs) != 0 || len(settled) != 1 {
		t.Errorf("settled %v, jobs %v, err %v", settled, jobs, err)
	}
}

// A person Leave names whom an earlier run perhaps mailed (unknown) settles as skipped with the
// reason, so that the mail report can be done; Resend still mails them, and a person kept as
// sent keeps their line.
func TestLineupLeavesUnknown(t *testing.T) {
	t.Parallel()
	lines := []report.Line{
		{Row: 2, User: provision.User{Email: "a@example.com"}, Status: "skipped", LoginURL: "L1"},
		{Row: 3, User: provision.User{Email: "b@example.com"}, Status: "ok", LoginURL: "L2"},
	}
	kept := map[string]Result{
		"a@example.com": {Row: 2, Email: "a@example.com", Status: StatusUnknown, LinkSHA256: LinkHash("L1")},
		"b@example.com": {Row: 3, Email: "b@example.com", Status: StatusSent, LinkSHA256: LinkHash("L2")},
	}
	const why = "a newer link was sent in a later report"
	leave := map[string]string{"a@example.com": why, "b@example.com": why}
	settled, jobs, _, err := lineup(lines, LinkLogin, kept, nil, leave)
	if err != nil || len(jobs) != 0 || len(settled) != 2 {
		t.Fatalf("settled %+v, jobs %d, err %v", settled, len(jobs), err)
	}
	if a := settled[0]; a.Status != StatusSkipped || a.Err == nil || a.Err.Error() != why || !a.Status.Success() {
		t.Errorf("a, unknown and left out: %+v, want skipped with the reason", a)
	}
	if b := settled[1]; b.Status != StatusSent {
		t.Errorf("b, sent and left out: %+v, want kept as sent", b)
	}
	settled, jobs, _, err = lineup(lines, LinkLogin, kept, map[string]string{"a@example.com": "a@example.com"}, leave)
	if err != nil || len(jobs) != 1 || jobs[0].email != "a@example.com" || len(settled) != 1 {
		t.Errorf("with Resend a: settled %+v, jobs %+v, err %v, want a mailed", settled, jobs, err)
	}
}

// The people Leave names are not mailed: their line is skipped with its reason, a run that mails
// everyone else ends well, and a resumed run leaves them out again (their line is not kept as
// mailed). Resend wins over Leave; a person already mailed from this report keeps their line.
func TestRunLeavesOutPeople(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	const why = "a newer link was sent in a later report"
	o.Leave = map[string]string{"zoe@example.com": why, "dan@example.com": why}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got, want := mailed(srv), []string{"ana@example.com", "cara@example.com"}; !slices.Equal(got, want) {
		t.Fatalf("mailed %v, want %v", got, want)
	}
	lines := readMailReport(t, DefaultMailReport(o.Report))
	for _, row := range []int{3, 7} {
		if l := lines[row]; l[2] != string(StatusSkipped) || l[5] != why {
			t.Errorf("row %d: %v, want skipped with the reason", row, l)
		}
	}

	o.Resume = true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := mailedSince(srv, 2); len(got) != 0 {
		t.Errorf("the resumed run mailed %v, want nobody", got)
	}
	o.Leave["ana@example.com"] = why // mailed already: kept as sent
	o.Resend = []string{"dan@example.com"}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got, want := mailedSince(srv, 2), []string{"dan@example.com"}; !slices.Equal(got, want) {
		t.Errorf("resumed with Resend: mailed %v, want %v", got, want)
	}
	if got := statuses(t, DefaultMailReport(o.Report)); got[2] != string(StatusSent) || got[3] != string(StatusSkipped) || got[7] != string(StatusSent) {
		t.Errorf("statuses %v: want ana kept sent, zoe skipped, dan sent", got)
	}
}

// TestStatusesListsEveryStatus reads the Status constants from the source, so that a status
// added without being added to Statuses fails here rather than going missing from the
// metrics file's zeros.
func TestStatusesListsEveryStatus(t *testing.T) {
	t.Parallel()
	if err := srcconst.CheckList("plan.go", "Status", Statuses); err != nil {
		t.Error(err)
	}
}
