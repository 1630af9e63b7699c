package mail

import (
	"context"
	"errors"
	"maps"
	"net"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// notAttempted are the statuses when the run stops at its first message (concurrency 1): the
// first too, as nothing reached that person either.
var notAttempted = peopleStatuses("not_attempted", nil)

func TestAborts(t *testing.T) {
	t.Parallel()
	const password = "correct-horse-battery"
	tests := []struct {
		name     string
		setup    func(*mailtest.Server)
		password string
		want     string // in the error and in row 2's line
	}{
		{"wrong password", func(s *mailtest.Server) { s.User, s.Password = "it@acme.example", password }, "wrong-" + password,
			"the server refused the login of it@acme.example: 535 5.7.8 Authentication failed"},
		{"refused sender", func(s *mailtest.Server) { s.RefuseSender = true }, "",
			"MAIL FROM: 550 5.7.1 Sender address rejected: not owned by user"},
		{"no login offered", func(s *mailtest.Server) {}, password, "offers no login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tt.setup)
			o, logs := testOptions(t, srv, people)
			o.Concurrency = 1
			if tt.name == "no login offered" {
				o.SMTPURL = "smtp://it%40acme.example@" + srv.Addr
			}
			o.Password = tt.password
			_, err := Run(context.Background(), o)
			if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrAborted saying %q", err, tt.want)
			}
			path := DefaultMailReport(o.Report)
			if got := statuses(t, path); !maps.Equal(got, notAttempted) {
				t.Errorf("statuses = %v, want %v", got, notAttempted)
			}
			if line := readMailReport(t, path)[2]; !strings.Contains(line[5], tt.want) {
				t.Errorf("row 2 = %v, want it to say %q", line, tt.want)
			}
			if srv.Count() != 0 {
				t.Errorf("the server accepted %d messages", srv.Count())
			}
			if tt.password != "" && strings.Contains(err.Error()+logs.String(), tt.password) {
				t.Errorf("the password is in the error or the log:\n%v\n%s", err, logs)
			}
		})
	}
}

// unreachable is an SMTP server that nobody listens at. Port 1 is below the ephemeral range
// the tests' servers take, where a port just closed could be taken by another test's server
// before it is dialed.
const unreachable = "smtp://127.0.0.1:1"

func TestAbortWhenUnreachable(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.SMTPURL, o.Concurrency, o.MaxAttempts = unreachable, 1, 3
	_, err := Run(context.Background(), o)
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "cannot connect to the SMTP server after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
	if got := statuses(t, DefaultMailReport(o.Report)); !maps.Equal(got, notAttempted) {
		t.Errorf("statuses = %v, want %v", got, notAttempted)
	}
	if line := readMailReport(t, DefaultMailReport(o.Report))[2]; line[4] != "3" || !strings.Contains(line[5], "gave up after 3 attempts") {
		t.Errorf("row 2 = %v, want 3 attempts and why the run stopped", line)
	}
}

// A server that cannot be reached leaves everyone not_attempted, with several connections too:
// the people whose tries were cut short by another connection's giving up were never heard of
// by any server, and are not failed.
func TestUnreachableIsNotAttempted(t *testing.T) {
	t.Parallel()
	ps := crowd(8)
	o, _ := testOptions(t, nil, ps)
	o.SMTPURL, o.Concurrency, o.MaxAttempts = unreachable, 4, 3
	sum, err := Run(t.Context(), o)
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("err = %v", err)
	}
	for row, st := range statuses(t, DefaultMailReport(o.Report)) {
		if st != "not_attempted" {
			t.Errorf("row %d: %s, want not_attempted", row, st)
		}
	}
	if sum.Counts[StatusNotAttempted] != len(ps) {
		t.Errorf("summary %+v", sum)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	const password = "s3cret-pass"
	tests := []struct {
		name      string
		setup     func(*mailtest.Server)
		host      string // the name the server is reached under; "" for its loopback address
		wantErr   string
		wantTLS   bool
		withAuth  bool
		untrusted bool // the server's certificate is not trusted (o.TLS nil: the system's roots)
	}{
		{"smtps with login", func(s *mailtest.Server) { s.ImplicitTLS = true; s.User, s.Password = "it", password }, "", "", true, true, false},
		{"starttls taken on loopback", func(s *mailtest.Server) { s.StartTLS = true; s.User, s.Password = "it", password }, "", "", true, true, false},
		{"plain on loopback", func(s *mailtest.Server) { s.User, s.Password = "it", password }, "", "", false, true, false},
		{"starttls required elsewhere", func(s *mailtest.Server) { s.StartTLS = true; s.User, s.Password = "it", password }, "smtp.example.com", "", true, true, false},
		{"plain refused elsewhere", func(s *mailtest.Server) { s.User, s.Password = "it", password }, "smtp.example.com",
			"smtp.example.com:587 does not offer STARTTLS: refusing to send the password and the links in clear", false, true, false},
		// Debian gives a local Postfix its snakeoil certificate, for the host's name: on loopback,
		// where plain is taken too, TLS is taken without checking it; elsewhere it is checked.
		{"starttls on loopback, certificate not checked", func(s *mailtest.Server) { s.StartTLS = true; s.User, s.Password = "it", password }, "", "", true, true, true},
		{"starttls elsewhere, certificate checked", func(s *mailtest.Server) { s.StartTLS = true; s.User, s.Password = "it", password }, "smtp.example.com",
			"certificate", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tt.setup)
			o, logs := testOptions(t, srv, people)
			o.TLS = srv.ClientTLSConfig()
			if tt.untrusted {
				o.TLS = nil
			}
			s, err := prepare(o)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				// The same fake, under a name that is not loopback: STARTTLS becomes required.
				s.smtp.host, s.smtp.port, s.smtp.loopback = tt.host, 587, false
				s.smtp.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
				}
			}
			_, err = s.run(context.Background(), nil)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrAborted saying %q", err, tt.wantErr)
				}
				if srv.Count() != 0 {
					t.Errorf("%d messages went in clear", srv.Count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 4 {
				t.Fatalf("%d messages, want 4", len(msgs))
			}
			for _, m := range msgs {
				if m.TLS != tt.wantTLS || m.User != "it" {
					t.Errorf("message over TLS %v as %q, want TLS %v as it", m.TLS, m.User, tt.wantTLS)
				}
			}
			if strings.Contains(logs.String(), password) {
				t.Errorf("the password is in the log:\n%s", logs)
			}
		})
	}
}

func TestReconnectsAfterADrop(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	srv.ReplyToRcpt("zoe@example.com", mailtest.Drop) // the connection dies before the 2nd message goes
	o, _ := testOptions(t, srv, people)
	o.Concurrency = 1
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, DefaultMailReport(o.Report)); !maps.Equal(got, wantStatuses) {
		t.Errorf("statuses = %v, want %v", got, wantStatuses)
	}
	if srv.Connections() != 2 || srv.Count() != 4 || sum.Retries != 1 {
		t.Errorf("%d connections, %d messages, %d retries; want 2, 4, 1", srv.Connections(), srv.Count(), sum.Retries)
	}
}

func TestConnectionsAreReused(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	o.Concurrency = 2
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if n := srv.Connections(); n < 1 || n > 2 {
		t.Errorf("%d connections for 4 messages at concurrency 2", n)
	}
}

// A server that answers the end of the message with a 2xx other than 250 has accepted it: the
// message is not sent again.
func TestAnyTwoHundredAcceptsTheMessage(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	o, _ := testOptions(t, srv, []person{{row: 2, email: "ana@example.com", name: "Ana", status: "ok", token: "tok-ana"}})
	srv.ReplyToMessage(1, mailtest.Reply{Code: 251, Text: "2.0.0 queued as 123"})
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if line := readMailReport(t, DefaultMailReport(o.Report))[2]; srv.Received() != 1 || line[2] != "sent" || line[4] != "1" {
		t.Errorf("the server received %d messages, and the line is %q: want 1, sent at the first attempt", srv.Received(), line)
	}
}

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, password string
		want                string // endpoint.String(), or the error
		user                string
	}{
		{"submission", "smtp://it%40acme.com@smtp.example.com:587", "pw", "smtp.example.com:587 (STARTTLS required)", "it@acme.com"},
		{"default port", "smtp://u@smtp.example.com", "pw", "smtp.example.com:587 (STARTTLS required)", "u"},
		{"smtps", "SMTPS://u@smtp.example.com", "pw", "smtp.example.com:465 (TLS)", "u"},
		{"loopback", "smtp://127.0.0.1:2525", "", "127.0.0.1:2525 (STARTTLS when offered: loopback)", ""},
		{"ipv6 loopback", "smtp://[::1]:2525", "", "[::1]:2525 (STARTTLS when offered: loopback)", ""},
		{"localhost", "smtp://localhost:25", "", "localhost:25 (STARTTLS when offered: loopback)", ""},
		{"password in url", "smtp://u:hunter2@smtp.example.com:587", "", "<SMTPURL> smtp://u:xxxxx@smtp.example.com:587 holds a password", ""},
		{"scheme", "https://smtp.example.com", "", "expected smtp://", ""},
		{"path", "smtp://smtp.example.com/x", "", "expected smtp://", ""},
		{"port", "smtp://smtp.example.com:99999", "", "the port is not a number", ""},
		{"no user", "smtp://smtp.example.com:587", "pw", "names no user", ""},
		{"no password", "smtp://u@smtp.example.com:587", "", "no password is set", ""},
		{"not a url", "smtp://u:hunter2@[bad", "", "<SMTPURL> is not a URL", ""},
		// Without "//" url.Parse reads an opaque URL: no user info, and Redacted shows it whole.
		{"no slashes", "smtp:u:hunter2@smtp.example.com:587", "", "expected smtp://", ""},
		{"no scheme", "u:hunter2@smtp.example.com:587", "", "expected smtp://", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := parseEndpoint(tt.url, tt.password, true)
			got := ""
			if err != nil {
				got = named(err)
				var ce *provision.ConfigError
				if !errors.As(err, &ce) {
					t.Errorf("err %T is not a *provision.ConfigError", err)
				}
			} else {
				got = e.String()
				if e.user != tt.user || e.password != tt.password {
					t.Errorf("user %q password %q", e.user, e.password)
				}
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("the password is in %q", got)
			}
		})
	}
}

// startServer starts a fake SMTP server set up by setup, closed when the test ends.
func startServer(t *testing.T, setup func(*mailtest.Server)) *mailtest.Server {
	t.Helper()
	srv := mailtest.NewUnstartedServer()
	setup(srv)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}
