package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
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
// A mail report of an older version has no link_sha256: its lines have none.
func readReport(path string, statuses ...Status) (map[string]Result, error) {
	got := make(map[string]Result)
	for _, p := range []string{path, tempPath(path)} {
		if err := readReportInto(got, p, statuses); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return got, nil
}

func readReportInto(got map[string]Result, path string, statuses []Status) error {
	err := report.ReadRecords(path, "a mail report of ideanote-provision", []string{"row", "email", "status"}, func(rec report.Record) error {
		r := Result{Email: strings.TrimSpace(rec.Cell("email")), Status: Status(rec.Cell("status")),
			MessageID: rec.Cell("message_id"), LinkSHA256: rec.Cell("link_sha256")}
		if e := rec.Cell("error"); e != "" {
			r.Err = errors.New(e)
		}
		if !slices.Contains(statuses, r.Status) {
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
