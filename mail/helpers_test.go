package mail

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/syncbuf"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// person is a line of a provisioning report for the tests.
type person struct {
	row                       int
	email, name, team, locale string
	status, token             string
	noLink                    bool
}

// people is the report of most tests: accents, a French person, a failed row, a duplicate,
// a row skipped on a resume (which has its link), and a formula-looking name.
var people = []person{
	{row: 2, email: "ana@example.com", name: "Ana López", team: "R&D", locale: "es-ES", status: "ok", token: "tok-ana"},
	{row: 3, email: "zoe@example.com", name: "Zoë Ñúñez", team: "Ventes", locale: "fr-CA", status: "ok", token: "tok-zoe"},
	{row: 4, email: "bob@example.com", name: "Bob", status: "failed"},
	{row: 5, email: "cara@example.com", name: "-Cara", locale: "en", status: "skipped", token: "tok-cara"},
	{row: 6, email: "Ana@Example.com", name: "Ana again", status: "ok", token: "tok-ana2"},
	{row: 7, email: "dan@example.com", name: "", status: "ok", token: "tok-dan"},
}

func loginURL(token string) string { return "https://acme.ideanote.io/login/session/" + token }
func widgetURL(token string) string {
	return "https://idea-widget.ideanote.io/idea-confirmation?config=w1&auth.sessionToken=" + token
}

// writeReport writes a provisioning report as ideanote-provision does (cells neutralised).
func writeReport(t testing.TB, dir string, ps []person) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(strings.Split("row,email,sub,name,team,locale,status,user_id,session_token,login_url,widget_url,attempts,http_status,error,finished_at", ","))
	for _, p := range ps {
		login, widget := "", ""
		if p.token != "" && !p.noLink {
			login, widget = loginURL(p.token), widgetURL(p.token)
		}
		name := p.name
		if strings.HasPrefix(name, "-") {
			name = "'" + name
		}
		w.Write([]string{strconv.Itoa(p.row), p.email, "", name, p.team, p.locale, p.status, "u" + strconv.Itoa(p.row), p.token, login, widget, "1", "200", "", "2026-11-23T02:00:00Z"})
	}
	w.Flush()
	path := filepath.Join(dir, "report.csv")
	testfile.Write(t, path, b.Bytes())
	return path
}

// testOptions are the options of a run of ps against srv (nil: none), with waits recorded
// rather than waited.
func testOptions(t *testing.T, srv *mailtest.Server, ps []person) (Options, *syncbuf.Buffer) {
	t.Helper()
	dir := t.TempDir()
	logs := &syncbuf.Buffer{}
	o := Options{
		Report:      writeReport(t, dir, ps),
		From:        "IT Désk <it@acme.example>",
		Concurrency: 2,
		Log:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Wait:        func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	}
	if srv != nil {
		o.SMTPURL = srv.URL()
		o.Password = srv.Password
	}
	return o, logs
}

// serverOptions starts a fake SMTP server, closed when the test ends, and returns it with
// the options of a run of people against it.
func serverOptions(t *testing.T) (*mailtest.Server, Options, *syncbuf.Buffer) {
	t.Helper()
	srv := mailtest.NewServer()
	t.Cleanup(srv.Close)
	o, logs := testOptions(t, srv, people)
	return srv, o, logs
}

// mailed returns the recipients of srv's messages, sorted.
func mailed(srv *mailtest.Server) []string { return mailedSince(srv, 0) }

// refusedWithoutResume checks that a run of o over a mail report left by an earlier run is
// refused, as a provision.ConfigError with ErrExists whose message holds records (how many
// people it records), and sends nothing.
func refusedWithoutResume(t *testing.T, srv *mailtest.Server, o Options, records string) {
	t.Helper()
	_, err := Run(context.Background(), o)
	var ce *provision.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), records) {
		t.Fatalf("err = %v, want a provision.ConfigError with ErrExists and %q", err, records)
	}
	if srv.Count() != 0 {
		t.Fatalf("%d messages sent", srv.Count())
	}
}

// resumeSendsNothing resumes the run of o, checks that it sent srv no more messages and that
// its summary counts no attempt (it tried none), and returns the run's error.
func resumeSendsNothing(t *testing.T, srv *mailtest.Server, o Options) error {
	t.Helper()
	o.Resume = true
	before := srv.Count()
	sum, err := Run(context.Background(), o)
	if srv.Count() != before {
		t.Errorf("%d more messages", srv.Count()-before)
	}
	if sum.Attempts != 0 || sum.Retries != 0 {
		t.Errorf("summary: %d attempts, %d retries; want none, this run tried nothing", sum.Attempts, sum.Retries)
	}
	return err
}

// mailedSince returns the recipients of srv's messages after its first n, sorted.
func mailedSince(srv *mailtest.Server, n int) []string {
	var to []string
	for _, m := range srv.Messages()[n:] {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	return to
}

// parsed is a message parsed back with net/mail and mime/multipart.
type parsed struct {
	header     mail.Header
	text, html string
}

func parseMessage(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	p := parsed{header: m.Header}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

// readMailReport reads the mail report's lines, by row, checking its header and its mode.
func readMailReport(t *testing.T, path string) map[int][]string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mail report mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("tok-")) || bytes.Contains(b, []byte("https://")) {
		t.Errorf("the mail report holds a token or a link:\n%s", b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "row,email,status,message_id,attempts,error,sent_at,link_sha256" {
		t.Errorf("mail report header = %s", got)
	}
	byRow := make(map[int][]string)
	for _, r := range recs[1:] {
		if h := r[7]; h != "" && !linkHashRE.MatchString(h) {
			t.Errorf("link_sha256 %q: want 16 hex digits", h)
		}
		n, _ := strconv.Atoi(r[0])
		if _, dup := byRow[n]; dup {
			t.Errorf("row %d twice in the mail report", n)
		}
		byRow[n] = r
	}
	return byRow
}

var linkHashRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// peopleStatuses are the mail report's statuses for people when each message ends as status
// (rows 4 and 6, failed in the report and a duplicate, are skipped), but for the rows in but.
func peopleStatuses(status string, but map[int]string) map[int]string {
	m := map[int]string{2: status, 3: status, 4: "skipped", 5: status, 6: "skipped", 7: status}
	maps.Copy(m, but)
	return m
}

// wantStatuses are the mail report's statuses for people when every message goes.
var wantStatuses = peopleStatuses("sent", nil)

// statuses returns the status of each row of the mail report.
func statuses(t *testing.T, path string) map[int]string {
	t.Helper()
	got := make(map[int]string)
	for row, r := range readMailReport(t, path) {
		got[row] = r[2]
	}
	return got
}
