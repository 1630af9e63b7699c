package mail

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

const mailReportHeader = "row,email,status,message_id,attempts,error,sent_at,link_sha256\n"

// oldMailReportHeader is the header of a mail report of a version before link_sha256.
const oldMailReportHeader = "row,email,status,message_id,attempts,error,sent_at\n"

// hashOf is the link_sha256 of the login link of token.
func hashOf(token string) string { return LinkHash(loginURL(token)) }

func TestResumeSendsOnlyTheUnsent(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	path := DefaultMailReport(o.Report)
	// Ana and Dan were sent; Zoë failed; old@ was sent in an earlier report that no longer has
	// her; the line for Cara was being written when the run was killed.
	testfile.Write(t, path, mailReportHeader+
		"2,ANA@example.com,sent,<a1@acme.example>,1,,2026-11-23T03:00:00Z,"+hashOf("tok-ana")+"\n"+
		"3,zoe@example.com,failed,<z1@acme.example>,1,RCPT TO: 550 no,,"+hashOf("tok-zoe")+"\n"+
		"9,old@example.com,sent,<o1@acme.example>,2,,2026-11-22T03:00:00Z,"+hashOf("tok-old")+"\n"+
		"7,dan@example.com,sent,<d1@acme.example>,1,,2026-11-23T03:00:01Z,"+hashOf("tok-dan")+"\n"+
		"5,cara@example.com,sent,<c1@acme.ex")

	t.Run("refused without --resume", func(t *testing.T) { refusedWithoutResume(t, srv, o, "records 3 people already mailed") })
	t.Run("resume", func(t *testing.T) {
		o := o
		o.Resume = true
		sum, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		to := mailed(srv)
		if want := []string{"cara@example.com", "zoe@example.com"}; !slices.Equal(to, want) {
			t.Errorf("sent to %v, want %v", to, want)
		}
		lines := readMailReport(t, path)
		// old@ is not in this report: her line is not this mail report's, nor counted.
		if got := statuses(t, path); !maps.Equal(got, wantStatuses) {
			t.Errorf("statuses = %v, want %v", got, wantStatuses)
		}
		if sum.Counts[StatusSent] != 4 || sum.Counts[StatusSkipped] != 2 {
			t.Errorf("summary counts %v, want the 6 lines of this report", sum.Counts)
		}
		if l := lines[2]; l[3] != "<a1@acme.example>" || l[6] != "2026-11-23T03:00:00Z" || l[7] != hashOf("tok-ana") {
			t.Errorf("Ana's earlier line not kept: %v", l)
		}
		if l := lines[3]; l[7] != hashOf("tok-zoe") {
			t.Errorf("Zoë's line %v: want the hash of the link mailed", l)
		}
		if _, err := os.Stat(tempPath(path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the temporary mail report is left: %v", err)
		}
	})
	t.Run("resume again sends nothing", func(t *testing.T) {
		if err := resumeSendsNothing(t, srv, o); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("overwrite sends everyone again", func(t *testing.T) {
		o := o
		o.Overwrite = true
		before := srv.Count()
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if srv.Count()-before != 4 {
			t.Errorf("%d more messages, want 4", srv.Count()-before)
		}
	})
}

func TestResumeAfterAnInterruptedResume(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	o.Resume = true
	path := DefaultMailReport(o.Report)
	// The first run sent Ana; its resume sent Zoë before it died, into the temporary file.
	ana := "2,ana@example.com,sent,<a1@acme.example>,1,,," + hashOf("tok-ana") + "\n"
	testfile.Write(t, path, mailReportHeader+ana)
	testfile.Write(t, tempPath(path), mailReportHeader+ana+"3,zoe@example.com,sent,<z1@acme.example>,1,,,"+hashOf("tok-zoe")+"\n")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	to := mailed(srv)
	if want := []string{"cara@example.com", "dan@example.com"}; !slices.Equal(to, want) {
		t.Errorf("sent to %v, want %v", to, want)
	}
}

func TestReplacesAMailReportThatDeliveredNothing(t *testing.T) {
	t.Parallel()
	_, o, _ := serverOptions(t)
	path := DefaultMailReport(o.Report)
	testfile.Write(t, path, mailReportHeader+"2,ana@example.com,rendered,<a1@acme.example>,,,\n3,zoe@example.com,not_attempted,,,,\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, path); !maps.Equal(got, wantStatuses) { // and mode 0600 again
		t.Errorf("statuses = %v", got)
	}
}

func TestMailReportLocked(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.OutDir = filepath.Join(t.TempDir(), "eml")
	s, err := prepare(o)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := lock.Lock(s.mailReport)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := s.run(context.Background(), nil); !errors.Is(err, ErrAborted) {
		t.Errorf("err = %v, want ErrAborted", err)
	}
}

// withTokens is ps with the tokens of some people replaced: their links changed.
func withTokens(ps []person, tokens map[string]string) []person {
	ps = slices.Clone(ps)
	for i, p := range ps {
		if tok, ok := tokens[p.email]; ok {
			ps[i].token = tok
		}
	}
	return ps
}

// TestResumeFromAnotherRunIsRefused resumes from the mail report of a provisioning run
// whose people the report gives new links: trusting it would mail nobody their new link.
func TestResumeFromAnotherRunIsRefused(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	first := DefaultMailReport(o.Report)
	before := testfile.Read(t, first)
	tests := []struct {
		name string
		ps   []person
	}{
		{"the same people with new links", withTokens(people, map[string]string{"ana@example.com": "tok-ana-2",
			"zoe@example.com": "tok-zoe-2", "cara@example.com": "tok-cara-2", "dan@example.com": "tok-dan-2"})},
		{"other people", crowd(4)},
		{"most with new links", withTokens(people, map[string]string{"ana@example.com": "tok-ana-2",
			"zoe@example.com": "tok-zoe-2", "cara@example.com": "tok-cara-2"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := o
			o.Report = writeReport(t, t.TempDir(), tt.ps)
			o.MailReport, o.Resume = first, true
			n := srv.Count()
			_, err := Run(context.Background(), o)
			var ce *provision.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrOtherRun) {
				t.Fatalf("err = %v, want a provision.ConfigError with ErrOtherRun", err)
			}
			for _, want := range []string{first, "belongs to another provisioning run", "a <MailReport> of its own", "<Overwrite>"} {
				if !strings.Contains(named(err), want) {
					t.Errorf("the error does not say %q: %v", want, named(err))
				}
			}
			if srv.Count() != n {
				t.Errorf("%d messages sent", srv.Count()-n)
			}
			if after, _ := os.ReadFile(first); string(after) != before {
				t.Errorf("the mail report changed:\n%s", after)
			}
		})
	}
}

// TestResumeMailsThoseWhoseLinkChanged resumes, on a report of the same run, a mail report
// some of whose people have another link now, or are no longer in it.
func TestResumeMailsThoseWhoseLinkChanged(t *testing.T) {
	t.Parallel()
	srv, o, logs := serverOptions(t)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	path := DefaultMailReport(o.Report)
	// Zoë's link changed; Dan is gone; Eve is new.
	ps := withTokens(people[:5], map[string]string{"zoe@example.com": "tok-zoe-2"})
	ps = append(ps, person{row: 8, email: "eve@example.com", name: "Eve", status: "ok", token: "tok-eve"})
	writeReport(t, filepath.Dir(o.Report), ps)
	o.Resume = true
	n := srv.Count()
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var again []string
	for _, m := range srv.Messages()[n:] {
		again = append(again, m.To...)
		if m.To[0] == "zoe@example.com" && !strings.Contains(parseMessage(t, m.Data).text, loginURL("tok-zoe-2")) {
			t.Errorf("Zoë's message does not hold her new link")
		}
	}
	slices.Sort(again)
	if want := []string{"eve@example.com", "zoe@example.com"}; !slices.Equal(again, want) {
		t.Errorf("the resume mailed %v, want %v", again, want)
	}
	want := map[int]string{2: "sent", 3: "sent", 4: "skipped", 5: "sent", 6: "skipped", 8: "sent"}
	if got := statuses(t, path); !maps.Equal(got, want) {
		t.Errorf("statuses = %v, want %v: the lines of this report only", got, want)
	}
	if l := readMailReport(t, path)[3]; l[7] != hashOf("tok-zoe-2") {
		t.Errorf("Zoë's line %v: want the hash of her new link", l)
	}
	if sum.Counts[StatusSent] != 4 || sum.Counts[StatusSkipped] != 2 || len(sum.Counts) != 2 {
		t.Errorf("summary counts %v, want 4 sent and 2 skipped", sum.Counts)
	}
	for _, want := range []string{"have another link in this report", "people=1", "are not in this report"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
}

// TestResumeAnOlderMailReport resumes from a mail report without link_sha256: its people are
// kept by email, and the log says so.
func TestResumeAnOlderMailReport(t *testing.T) {
	t.Parallel()
	srv, o, logs := serverOptions(t)
	o.Resume = true
	path := DefaultMailReport(o.Report)
	testfile.Write(t, path, oldMailReportHeader+"2,ana@example.com,sent,<a1@acme.example>,1,,\n3,zoe@example.com,sent,<z1@acme.example>,1,,\n")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got, want := mailed(srv), []string{"cara@example.com", "dan@example.com"}; !slices.Equal(got, want) {
		t.Errorf("mailed %v, want %v", got, want)
	}
	if l := readMailReport(t, path)[2]; l[3] != "<a1@acme.example>" || l[7] != "" {
		t.Errorf("Ana's line %v: want it kept, with no hash (which link she got is not known)", l)
	}
	if !strings.Contains(logs.String(), "no link_sha256 column") || !strings.Contains(logs.String(), "kept_by_email=2") {
		t.Errorf("the log does not say that people are kept by email:\n%s", logs)
	}
}
