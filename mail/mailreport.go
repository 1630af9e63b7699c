package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// ReportColumns are the mail report's columns, in order. link_sha256 came last, so that what
// reads the first seven by position reads them still.
var ReportColumns = []string{"row", "email", "status", "message_id", "attempts", "error", "sent_at", "link_sha256"}

// linkHashLen is how many hex digits of the link's SHA-256 the mail report keeps: plenty to
// tell a person's new link from their old one, and the link cannot be had back from them.
const linkHashLen = 16

// LinkHash is what the mail report's link_sha256 column holds for a line about link: the first
// 16 hex digits of its SHA-256 (printf %s "$link" | sha256sum | cut -c1-16). A resumed run
// compares it with the report's link, to mail again a person whose link changed since.
func LinkHash(link string) string {
	sum := sha256.Sum256([]byte(link))
	return hex.EncodeToString(sum[:linkHashLen/2])
}

// tempPath is where a resumed run writes its mail report until it is complete.
func tempPath(path string) string { return report.TempPath(path) }

// reportWriter writes the mail report, one flushed line per person, on a report.LineFile. Its
// write and close are called from one goroutine.
type reportWriter struct {
	*report.LineFile
	rec []string
}

// resultWriter is where a run records each person's line: the mail report, or nothing.
type resultWriter interface {
	write(Result) error
	Sync() error
	Close() error
}

// discard is the mail report of a dry run: none.
type discard struct{}

func (discard) write(Result) error { return nil }
func (discard) Sync() error        { return nil }
func (discard) Close() error       { return nil }

// createReport opens the mail report with mode 0600 and writes its header. With resume it
// writes beside the old one, which close replaces.
func createReport(path string, resume bool) (*reportWriter, error) {
	mode := report.Overwrite // whether an existing mail report may be replaced was decided before
	if resume {
		mode = report.Resume
	}
	lf, err := report.CreateLineFile(path, mode, ReportColumns)
	if err != nil {
		return nil, err
	}
	return &reportWriter{LineFile: lf, rec: make([]string, len(ReportColumns))}, nil
}

// write writes the line of one person and flushes it to the file.
func (w *reportWriter) write(r Result) error {
	rec := w.rec
	rec[0], rec[1], rec[2], rec[3] = strconv.Itoa(r.Row), r.Email, string(r.Status), r.MessageID
	rec[4], rec[5], rec[6], rec[7] = "", oneLine(r.Err), "", r.LinkSHA256
	if r.Attempts > 0 {
		rec[4] = strconv.Itoa(r.Attempts)
	}
	if !r.SentAt.IsZero() {
		rec[6] = r.SentAt.UTC().Format(time.RFC3339)
	}
	return w.LineFile.Write(rec)
}

// readReport reads the mail report at path and the unfinished one of an interrupted resume
// beside it, and returns the people with a line in one of the statuses, by
// provision.EmailKey. A missing report is empty; a last line cut short by a crash is dropped.
// A mail report of an older version has no link_sha256: its lines have none. ids, when not
// nil, gets the message_id of every line.
func readReport(path string, ids map[string]bool, statuses ...Status) (map[string]Result, error) {
	got := make(map[string]Result)
	for _, p := range []string{path, tempPath(path)} {
		if err := readReportInto(got, ids, p, statuses); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return got, nil
}

// readReportInto reads the lines of path in one of statuses into got, each over the one
// before of the same person; nil statuses takes every line.
func readReportInto(got map[string]Result, ids map[string]bool, path string, statuses []Status) error {
	err := report.ReadRecords(path, "a mail report of ideanote-provision", []string{"row", "email", "status"}, func(rec report.Record) error {
		r := Result{Email: strings.TrimSpace(rec.Cell("email")), Status: Status(rec.Cell("status")),
			MessageID: rec.Cell("message_id"), LinkSHA256: rec.Cell("link_sha256")}
		if e := rec.Cell("error"); e != "" {
			r.Err = errors.New(e)
		}
		if ids != nil && r.MessageID != "" {
			ids[r.MessageID] = true
		}
		if statuses != nil && !slices.Contains(statuses, r.Status) {
			return nil
		}
		r.Row, _ = strconv.Atoi(rec.Cell("row"))
		r.Attempts, _ = strconv.Atoi(rec.Cell("attempts"))
		r.SentAt, _ = time.Parse(time.RFC3339, rec.Cell("sent_at"))
		got[provision.EmailKey(r.Email)] = r
		return nil
	})
	if errors.Is(err, report.ErrEmpty) {
		return nil
	}
	return err
}

// The journal of messages in flight, beside the mail report: before a message's SMTP
// transaction starts, a line (the mail report's columns, status "sending", sent_at the start)
// is written to it, so that a run killed during the transaction, when the server may have
// accepted the message unbeknown to us, leaves a trace. The mail report itself keeps one
// line per person, an outcome. A message whose journal line has no line with its message_id in
// the mail report was in flight at the kill: its person is StatusUnknown. A run that ends with
// its mail report complete removes the journal; a run with SMTP starts a new one once the
// lines it carries (unknown included) are in its mail report.

// journalStatus is the status of the journal's lines: not a mail report status.
const journalStatus = "sending"

// JournalPath is the journal of messages in flight of the mail report at mailReport.
func JournalPath(mailReport string) string { return mailReport + ".sending" }

// errInFlight is the error cell of a person found in flight at an earlier run's end.
func errInFlight(started time.Time) error {
	at := ""
	if !started.IsZero() {
		at = " (started " + started.UTC().Format(time.RFC3339) + ")"
	}
	return errors.New("in flight when an earlier run was killed" + at + ": the server may have accepted it; " +
		"not mailed again: check the SMTP server's log for the message_id, or ask them, then mail them with --resume --resend EMAIL")
}

// errNoReply is the error cell of a person whose message got no reply to its end (err).
func errNoReply(err error) error {
	return fmt.Errorf("%w: the server may have accepted it; not mailed again: check the SMTP server's log for the message_id, "+
		"or ask them, then mail them with --resume --resend EMAIL", err)
}

// inFlight reads the journal of mailReport and returns, by provision.EmailKey, the people
// whose last message journaled has no line in the mail report (ids, its message_ids): each
// StatusUnknown, with that message_id.
func inFlight(mailReport string, ids map[string]bool) (map[string]Result, error) {
	last := make(map[string]Result)
	err := readReportInto(last, nil, JournalPath(mailReport), nil)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for key, r := range last {
		if r.MessageID == "" || ids[r.MessageID] {
			delete(last, key)
			continue
		}
		r.Status, r.Err, r.Attempts = StatusUnknown, errInFlight(r.SentAt), 0
		r.SentAt = time.Time{}
		last[key] = r
	}
	return last, nil
}

// journal is the journal of messages in flight of a run, written by the workers.
type journal struct {
	mu      sync.Mutex
	w       resultWriter
	written int // lines written, under mu

	syncMu sync.Mutex // one sync at a time: the workers waiting for it share the next
	synced int        // lines known on disk, under syncMu
}

// createJournal starts the journal of mailReport anew, replacing an earlier run's.
func createJournal(mailReport string) (*journal, error) {
	lf, err := report.CreateLineFile(JournalPath(mailReport), report.Overwrite, ReportColumns)
	if err != nil {
		return nil, err
	}
	return &journal{w: &reportWriter{LineFile: lf, rec: make([]string, len(ReportColumns))}}, nil
}

// start records, before its transaction, that the message of r is being sent, and returns
// once the line is on disk: a power cut or a reboot during the transaction must not lose it,
// or the next run would mail the person again.
func (j *journal) start(r Result, now time.Time) error {
	j.mu.Lock()
	r.Status, r.SentAt, r.Attempts, r.Err = journalStatus, now, 0, nil
	err := j.w.write(r)
	j.written++
	line := j.written
	j.mu.Unlock()
	if err != nil {
		return err
	}
	return j.syncTo(line)
}

// syncTo returns once the first line lines of the journal are on disk. A sync that started
// after they were written covers them: the workers that wait for one sync share the next.
func (j *journal) syncTo(line int) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= line {
		return nil
	}
	j.mu.Lock()
	written := j.written
	j.mu.Unlock()
	if err := j.w.Sync(); err != nil {
		return err // and so do every write and sync after it: no message goes unjournaled
	}
	j.synced = written
	return nil
}
