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
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// writeMailReport writes a mail report as a run that died would have left it.
func writeMailReport(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const mailReportHeader = "row,email,status,message_id,attempts,error,sent_at\n"

func TestResumeSendsOnlyTheUnsent(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	o, _ := testOptions(t, srv, people)
	path := DefaultMailReport(o.Report)
	// Ana was sent; Zoë failed; old@ was sent in an earlier report that no longer has her; the
	// line for Cara was being written when the run was killed.
	writeMailReport(t, path, mailReportHeader+
		"2,ANA@example.com,sent,<a1@acme.example>,1,,2026-11-23T03:00:00Z\n"+
		"3,zoe@example.com,failed,<z1@acme.example>,1,RCPT TO: 550 no,\n"+
		"9,old@example.com,sent,<o1@acme.example>,2,,2026-11-22T03:00:00Z\n"+
		"5,cara@example.com,sent,<c1@acme.ex")

	t.Run("refused without --resume", func(t *testing.T) {
		_, err := Run(context.Background(), o)
		var ce *ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "records 2 people already mailed") {
			t.Fatalf("err = %v, want a ConfigError with ErrExists", err)
		}
		if srv.Count() != 0 {
			t.Fatalf("%d messages sent", srv.Count())
		}
	})
	t.Run("resume", func(t *testing.T) {
		o := o
		o.Resume = true
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, m := range srv.Messages() {
			to = append(to, m.To...)
		}
		slices.Sort(to)
		if want := []string{"cara@example.com", "dan@example.com", "zoe@example.com"}; !slices.Equal(to, want) {
			t.Errorf("sent to %v, want %v", to, want)
		}
		lines := readMailReport(t, path)
		want := maps.Clone(wantStatuses)
		want[9] = "sent"
		if got := statuses(t, path); !maps.Equal(got, want) {
			t.Errorf("statuses = %v, want %v", got, want)
		}
		if l := lines[2]; l[3] != "<a1@acme.example>" || l[6] != "2026-11-23T03:00:00Z" {
			t.Errorf("Ana's earlier line not kept: %v", l)
		}
		if _, err := os.Stat(tempPath(path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the temporary mail report is left: %v", err)
		}
	})
	t.Run("resume again sends nothing", func(t *testing.T) {
		o := o
		o.Resume = true
		before := srv.Count()
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if srv.Count() != before {
			t.Errorf("%d more messages", srv.Count()-before)
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
	srv := mailtest.NewServer()
	defer srv.Close()
	o, _ := testOptions(t, srv, people)
	o.Resume = true
	path := DefaultMailReport(o.Report)
	// The first run sent Ana; its resume sent Zoë before it died, into the temporary file.
	writeMailReport(t, path, mailReportHeader+"2,ana@example.com,sent,<a1@acme.example>,1,,\n")
	writeMailReport(t, tempPath(path), mailReportHeader+"2,ana@example.com,sent,<a1@acme.example>,1,,\n3,zoe@example.com,sent,<z1@acme.example>,1,,\n")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range srv.Messages() {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	if want := []string{"cara@example.com", "dan@example.com"}; !slices.Equal(to, want) {
		t.Errorf("sent to %v, want %v", to, want)
	}
}

func TestReplacesAMailReportThatDeliveredNothing(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	o, _ := testOptions(t, srv, people)
	path := DefaultMailReport(o.Report)
	writeMailReport(t, path, mailReportHeader+"2,ana@example.com,rendered,<a1@acme.example>,,,\n3,zoe@example.com,not_attempted,,,,\n")
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
