// Command postfixcheck checks what a provisioning run with --mail left behind: its report, its
// mail report and, with -maildir, the messages a real mail server delivered. run.sh, beside it,
// sets up that server (Postfix) and runs it; see BENCHMARKS.md. It exits 1 when a check fails.
package main

import (
	"encoding/base64"
	"encoding/csv"
	"flag"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/cmd/toolkit"
)

func main() {
	reportPath := flag.String("report", "report.csv", "the provisioning report")
	maildir := flag.String("maildir", "", "a folder of Maildirs, one a person, whose messages to check")
	wantSent := flag.Int("want-sent", -1, "how many people the mail report must show sent")
	quota := flag.String("quota", "", "the address answered with a quota 5xx: it and everyone after it must be not_attempted")
	flag.Parse()

	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	report, err := readCSV(*reportPath)
	if err != nil {
		toolkit.Exit(1, err)
	}
	links := map[string]string{} // email -> login link
	for _, r := range report {
		if r["status"] == "ok" && r["login_url"] != "" {
			links[strings.ToLower(r["email"])] = r["login_url"]
		}
	}
	mailReport, err := readCSV(strings.TrimSuffix(*reportPath, ".csv") + ".mail.csv")
	if err != nil {
		toolkit.Exit(1, err)
	}
	statuses := map[string]int{}
	for _, r := range mailReport {
		statuses[r["status"]]++
	}
	fmt.Printf("report: %d people with a link; mail report: %v\n", len(links), statuses)
	if *wantSent >= 0 && statuses["sent"] != *wantSent {
		fail("%d sent, want %d", statuses["sent"], *wantSent)
	}

	if *quota != "" {
		checkQuota(mailReport, strings.ToLower(*quota), fail)
	}
	if *maildir != "" {
		checkMaildir(*maildir, links, fail)
	}
	for _, p := range problems {
		fmt.Println("FAIL:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// checkQuota wants every person before the quota's to be sent, and it and everyone after it
// not_attempted, with the server's words in its error.
func checkQuota(mailReport []map[string]string, victim string, fail func(string, ...any)) {
	at := -1
	for i, r := range mailReport {
		if strings.ToLower(r["email"]) == victim {
			at = i
			if !strings.Contains(r["error"], "5.4.5") {
				fail("%s: error %q does not give the server's 5.4.5", victim, r["error"])
			}
			fmt.Printf("quota: %s %s: %s\n", victim, r["status"], r["error"])
		}
	}
	if at < 0 {
		fail("%s is not in the mail report", victim)
		return
	}
	for i, r := range mailReport {
		// With two connections, the neighbours of the quota's person may be on the other one.
		switch {
		case i < at-1 && r["status"] != "sent":
			fail("row %s %s: %s before the quota, want sent", r["row"], r["email"], r["status"])
		case (i == at || i > at+1) && r["status"] != "not_attempted":
			fail("row %s %s: %s after the quota, want not_attempted", r["row"], r["email"], r["status"])
		}
	}
}

// checkMaildir wants one message a person, delivered to them, holding their link and no other,
// received over TLS.
func checkMaildir(dir string, links map[string]string, fail func(string, ...any)) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "new", "*"))
	if err != nil {
		toolkit.Exit(1, err)
	}
	got := map[string]int{}
	tls := 0
	for _, f := range files {
		to, text, received, err := readMessage(f)
		if err != nil {
			fail("%s: %v", f, err)
			continue
		}
		got[to]++
		if strings.Contains(received, "using TLS") {
			tls++
		}
		own, ok := links[to]
		if !ok {
			fail("%s: a message to %s, who has no link", f, to)
			continue
		}
		if !strings.Contains(text, own) {
			fail("%s: the message to %s does not hold their link", f, to)
		}
		for email, l := range links {
			if email != to && strings.Contains(text, l) {
				fail("%s: the message to %s holds the link of %s", f, to, email)
			}
		}
	}
	for email := range links {
		if got[email] != 1 {
			fail("%s received %d messages, want 1", email, got[email])
		}
	}
	fmt.Printf("maildir: %d messages, %d people, %d received over TLS\n", len(files), len(got), tls)
	if tls != len(files) {
		fail("%d of %d messages were received without TLS", len(files)-tls, len(files))
	}
}

// readMessage returns a delivered message's recipient (Delivered-To, which Postfix adds), the
// text of all its parts decoded (HTML unescaped), and its Received headers.
func readMessage(path string) (to, text, received string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", "", err
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		return "", "", "", err
	}
	to = strings.ToLower(m.Header.Get("Delivered-To"))
	received = strings.Join(m.Header["Received"], "\n")
	var b strings.Builder
	if err := decodeBody(&b, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body); err != nil {
		return "", "", "", err
	}
	return to, b.String(), received, nil
}

func decodeBody(w *strings.Builder, contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.EqualFold(encoding, "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	if strings.HasPrefix(mt, "multipart/") {
		// multipart.Reader decodes quoted-printable parts itself.
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := decodeBody(w, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s := string(b)
	if mt == "text/html" {
		s = html.UnescapeString(s)
	}
	w.WriteString(s)
	w.WriteString("\n")
	return nil
}

func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		r := map[string]string{}
		for i, h := range recs[0] {
			if i < len(rec) {
				r[h] = rec[i]
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}
