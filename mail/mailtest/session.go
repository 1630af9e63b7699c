package mailtest

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// backend makes a session for each connection of s.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, tls := c.TLSConnectionState()
	return &session{s: b.s, c: c, conn: b.s.ln.number(c.Conn().RemoteAddr()), tls: tls}, nil
}

// session is one connection's SMTP conversation.
type session struct {
	s    *Server
	c    *smtp.Conn
	conn int
	tls  bool
	user string // authenticated user
	from string
	to   []string
}

var (
	errAuthRequired  = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errSenderRefused = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address rejected: not owned by user"}
)

func (ss *session) AuthMechanisms() []string {
	if ss.s.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if user != ss.s.User || password != ss.s.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.User != "" && ss.user == "" {
		return errAuthRequired
	}
	if ss.s.RefuseSender {
		return errSenderRefused
	}
	if r, ok := ss.s.overLimit(); ok {
		return ss.answer(r)
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r, ok := ss.s.rcptReply(to); ok {
		return ss.answer(r)
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.Latency > 0 {
		time.Sleep(ss.s.Latency)
	}
	if r, ok := ss.s.dataArrived(); ok {
		return ss.answer(r)
	}
	ss.s.record(Message{From: ss.from, To: append([]string(nil), ss.to...), Data: b, Conn: ss.conn, TLS: ss.tls, User: ss.user})
	return nil
}

// answer turns a scripted reply into what the session returns.
func (ss *session) answer(r Reply) error {
	if r.Drop {
		ss.c.Conn().Close()
		return errDropped
	}
	// An enhanced code at the head of the text is sent as such, not doubled by go-smtp's own.
	ec, text := smtp.EnhancedCodeNotSet, r.Text
	if head, rest, ok := strings.Cut(r.Text, " "); ok {
		var a, b, c int
		if n, err := fmt.Sscanf(head, "%d.%d.%d", &a, &b, &c); err == nil && n == 3 {
			ec, text = smtp.EnhancedCode{a, b, c}, rest
		}
	}
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: ec, Message: text}
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
