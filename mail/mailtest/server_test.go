package mailtest

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
)

// send sends one message to s with net/smtp, authenticating when user is set.
func send(t *testing.T, s *Server, c *smtp.Client, user, pass, from, to, body string) error {
	t.Helper()
	if user != "" {
		if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

func dial(t *testing.T, s *Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// start starts a Server set up by setup, closed when the test ends.
func start(t *testing.T, setup func(*Server)) *Server {
	t.Helper()
	s := NewUnstartedServer()
	setup(s)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// sendOverTLS sends one message on c, which has TLS, and checks that s recorded it as its only
// message, received over TLS.
func sendOverTLS(t *testing.T, s *Server, c *smtp.Client) {
	t.Helper()
	if err := send(t, s, c, "", "", "it@example.com", "ana@example.com", "Subject: x\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(); len(m) != 1 || !m[0].TLS {
		t.Errorf("messages = %+v, want one over TLS", m)
	}
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestRecordsMessages(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	c := dial(t, s)
	if err := send(t, s, c, "", "", "it@example.com", "ana@example.com", "Subject: hi\r\n\r\nhello\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := send(t, s, c, "", "", "it@example.com", "bob@example.com", "Subject: hi\r\n\r\nhello bob\r\n"); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	got := s.Messages()
	if len(got) != 2 || s.Count() != 2 || s.Connections() != 1 {
		t.Fatalf("messages %d, count %d, connections %d; want 2, 2, 1", len(got), s.Count(), s.Connections())
	}
	m := got[1]
	if m.From != "it@example.com" || len(m.To) != 1 || m.To[0] != "bob@example.com" || m.Conn != 1 || m.TLS {
		t.Errorf("message = %+v", m)
	}
	if !strings.Contains(string(m.Data), "hello bob") {
		t.Errorf("data = %q", m.Data)
	}
	if want := "smtp://" + s.Addr; s.URL() != want {
		t.Errorf("URL = %q, want %q", s.URL(), want)
	}
}

func TestScripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(*Server)
		user   string
		pass   string
		want   []int // SMTP code of each of three sends to ana, 0 for accepted
		stored int
	}{
		{"4xx then accepted", func(s *Server) { s.ReplyToRcpt("Ana@Example.com", Reply{Code: 451, Text: "try later"}) }, "", "", []int{451, 0, 0}, 2},
		{"5xx for the 2nd message", func(s *Server) { s.ReplyToMessage(2, Reply{Code: 554, Text: "content rejected"}) }, "", "", []int{0, 554, 0}, 2},
		{"refused sender", func(s *Server) { s.RefuseSender = true }, "", "", []int{550, 550, 550}, 0},
		{"auth required", func(s *Server) { s.User, s.Password = "it", "s3cret" }, "", "", []int{530, 530, 530}, 0},
		{"auth wrong password", func(s *Server) { s.User, s.Password = "it", "s3cret" }, "it", "nope", []int{535, 535, 535}, 0},
		{"auth", func(s *Server) { s.User, s.Password = "it", "s3cret" }, "it", "s3cret", []int{0, 0, 0}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.setup)
			for i, want := range tt.want {
				c := dial(t, s)
				err := send(t, s, c, tt.user, tt.pass, "it@example.com", "ana@example.com", "Subject: x\r\n\r\nx\r\n")
				if got := code(err); got != want {
					t.Errorf("send %d: code %d (%v), want %d", i+1, got, err, want)
				}
			}
			if s.Count() != tt.stored {
				t.Errorf("stored %d, want %d", s.Count(), tt.stored)
			}
		})
	}
}

func TestDrop(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	s.ReplyToMessage(1, Drop)
	c := dial(t, s)
	err := send(t, s, c, "", "", "it@example.com", "ana@example.com", "Subject: x\r\n\r\nx\r\n")
	if err == nil || code(err) != 0 {
		t.Fatalf("err = %v, want a broken connection", err)
	}
	c = dial(t, s)
	if err := send(t, s, c, "", "", "it@example.com", "ana@example.com", "Subject: x\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 1 || s.Received() != 2 || s.Connections() != 2 {
		t.Errorf("count %d, received %d, connections %d; want 1, 2, 2", s.Count(), s.Received(), s.Connections())
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	t.Run("starttls", func(t *testing.T) {
		t.Parallel()
		s := start(t, func(s *Server) { s.StartTLS = true })
		c := dial(t, s)
		if err := c.StartTLS(s.ClientTLSConfig()); err != nil {
			t.Fatal(err)
		}
		sendOverTLS(t, s, c)
	})
	t.Run("implicit", func(t *testing.T) {
		t.Parallel()
		s := start(t, func(s *Server) { s.ImplicitTLS = true })
		if !strings.HasPrefix(s.URL(), "smtps://") {
			t.Errorf("URL = %q", s.URL())
		}
		conn, err := tls.Dial("tcp", s.Addr, s.ClientTLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		c, err := smtp.NewClient(conn, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sendOverTLS(t, s, c)
	})
}

func TestCloseWithOpenConnections(t *testing.T) {
	t.Parallel()
	s := NewServer()
	c := dial(t, s)
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	s.Close() // must not wait for the idle client
	if err := c.Noop(); err == nil {
		t.Error("the connection still works after Close")
	}
	s.Close() // a second Close is harmless
}
