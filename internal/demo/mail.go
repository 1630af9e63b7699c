package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/progress"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// runMail mails every person of the demo's report through a fake SMTP server on 127.0.0.1,
// with the real mail code (templates, SMTP, retries, mail report), then saves each message the
// fake received into dir as an .eml file and prints the first as its reader would see it.
//
// One run over SMTP, whose received messages are saved, rather than a second run with
// --out-dir: the files are then exactly what went over the wire, and the mail report is that
// of a real sending. The fake defers one message (451) to show a retry.
func runMail(ctx context.Context, reportPath, dir string, stdout io.Writer, run func(context.Context, mail.Options) error) error {
	srv := mailtest.NewServer()
	defer srv.Close()
	srv.ReplyToMessage(2, mailtest.Reply{Code: 451, Text: "4.3.0 demo: mailbox busy, try again later"})
	fmt.Fprintf(stdout, "demo: a fake SMTP server listens on %s\n", srv.Addr)
	err := run(ctx, mail.Options{Report: reportPath, SMTPURL: srv.URL(), From: "Demo IT <it@demo.example>",
		Link: mail.LinkLogin, Overwrite: true, Rate: 20, Concurrency: 2})
	if err != nil && !errors.Is(err, mail.ErrFailed) {
		return err
	}
	first, err2 := saveMessages(srv.Messages(), reportPath, dir)
	if err2 != nil {
		return fmt.Errorf("demo: saving the messages: %w", err2)
	}
	fmt.Fprintf(stdout, "demo: %d messages accepted by the fake SMTP server; mail report written to %s\n", srv.Count(), progress.AbsPath(mail.DefaultMailReport(reportPath)))
	fmt.Fprintf(stdout, "demo: every message as an .eml file in %s (open one in a mail program)\n", progress.AbsPath(dir))
	if first != nil {
		fmt.Fprintf(stdout, "demo: the first message, as %s would read it:\n\n", first.To[0])
		if perr := mail.Preview(stdout, first.Data); perr != nil {
			return perr
		}
	}
	return err
}

// saveMessages writes each message into dir as an .eml file named as --out-dir names them,
// and returns the message of the first row of the report. dir is made readable by its owner
// only, and each file too: every message logs its reader in.
func saveMessages(msgs []mailtest.Message, reportPath, dir string) (*mailtest.Message, error) {
	lines, err := report.ReadLines(reportPath)
	if err != nil {
		return nil, err
	}
	row := make(map[string]int, len(lines))
	for _, l := range lines {
		if k := strings.ToLower(l.Email); row[k] == 0 {
			row[k] = l.Row
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	slices.SortFunc(msgs, func(a, b mailtest.Message) int {
		return cmp.Compare(row[strings.ToLower(a.To[0])], row[strings.ToLower(b.To[0])])
	})
	for _, m := range msgs {
		to := m.To[0]
		name := filepath.Join(dir, mail.EMLName(row[strings.ToLower(to)], to))
		if err := safefile.WriteFile(name, m.Data, 0o600); err != nil { // replaces an earlier run's, never through a link
			return nil, err
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return &msgs[0], nil
}
