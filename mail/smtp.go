package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// outgoing is one message ready to go.
type outgoing struct {
	msg  *gomail.Msg
	from string // envelope sender, <addr>
	to   string // envelope recipient, <addr>
	id   string // Message-ID, <...>
	job  *job
}

// deliverer sends or writes messages one at a time; each worker has its own. ctx bounds the
// setting up of a connection only: a message once started is finished, so that an interrupt
// never leaves one half sent.
type deliverer interface {
	deliver(ctx context.Context, m *outgoing) error
	close()
}

// smtpConn delivers messages over one SMTP connection, made on the first message and made
// again after a fault.
type smtpConn struct {
	e       *endpoint
	tls     *tls.Config
	timeout time.Duration
	c       *smtp.Client // nil when not connected
}

func newSMTPConn(e *endpoint, tlsConfig *tls.Config, timeout time.Duration) *smtpConn {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	} else if e.loopback {
		// A relay on this machine is spoken to in clear when it offers no TLS, so checking its
		// certificate guards nothing; and Debian gives a local Postfix a certificate for the
		// host's name, which 127.0.0.1 never matches. Elsewhere the certificate is checked.
		cfg.InsecureSkipVerify = true
	}
	if cfg.ServerName == "" {
		cfg.ServerName = e.host
	}
	return &smtpConn{e: e, tls: cfg, timeout: timeout}
}

func (s *smtpConn) deliver(ctx context.Context, m *outgoing) error {
	if s.c == nil {
		c, err := s.connect(ctx)
		if err != nil {
			return connectError(s.e, err)
		}
		s.c = c
	}
	if err := s.c.UpdateDeadline(s.timeout); err != nil {
		s.drop()
		return &sendError{stage: stageConnect, err: err}
	}
	if err := s.c.Mail(m.from); err != nil {
		return s.failed(stageMail, err)
	}
	if err := s.c.Rcpt(m.to); err != nil {
		return s.failed(stageRcpt, err)
	}
	w, err := s.c.Data()
	if err != nil {
		return s.failed(stageData, err)
	}
	if _, err := m.msg.WriteTo(w); err != nil {
		s.drop() // half a message went: the connection cannot be trusted
		return &sendError{stage: stageMessage, err: err}
	}
	// The end of the message (".") and its reply apart, which go-mail's Close joins: before
	// the end has gone whole the server cannot have accepted the message; after, it may have.
	dc, ok := w.(*smtp.DataCloser)
	if !ok {
		s.drop()
		return &sendError{stage: stageMessage, fatal: true, err: fmt.Errorf("go-mail's DATA writer is a %T, not a *smtp.DataCloser", w)}
	}
	if err := dc.WriteCloser.Close(); err != nil {
		s.drop()
		return &sendError{stage: stageMessage, err: err}
	}
	// Any 2xx is acceptance: a relay that says 251 has the message, and a retry would send it twice.
	if _, _, err := s.c.Text.ReadResponse(2); err != nil {
		return s.failed(stageReply, err)
	}
	return nil
}

// failed classifies err and leaves the connection ready for the next message: reset after an
// answer within a transaction, closed after a fault.
func (s *smtpConn) failed(stage string, err error) error {
	e := newSendError(stage, err)
	switch {
	case e.code == 0 || e.code == 421:
		s.drop()
	case stage != stageReply: // the answer to the data ends the transaction by itself
		if s.c.Reset() != nil {
			s.drop()
		}
	}
	return e
}

// connect dials, says hello, takes TLS as the endpoint requires and logs in, through go-mail.
func (s *smtpConn) connect(ctx context.Context) (*smtp.Client, error) {
	var conn net.Conn
	dial := s.e.dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: s.timeout}).DialContext
	}
	opts := []gomail.Option{gomail.WithPort(s.e.port), gomail.WithTimeout(s.timeout), gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
			// Our own dial: go-mail's joins host and port without brackets for IPv6.
			c, err := dial(ctx, "tcp", s.e.addr())
			if err != nil {
				return nil, err
			}
			if s.e.implicitTLS {
				tc := tls.Client(c, s.tls)
				if err := tc.HandshakeContext(ctx); err != nil {
					c.Close()
					return nil, err
				}
				c = tc
			}
			conn = c
			return c, nil
		})}
	switch {
	case s.e.implicitTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS)) // TLS already, from the first byte
	case s.e.loopback:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.e.user != "" {
		opts = append(opts, gomail.WithUsername(s.e.user), gomail.WithPassword(s.e.password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	mc, err := gomail.NewClient(s.e.host, opts...)
	if err != nil {
		return nil, err
	}
	c, err := mc.DialToSMTPClientWithContext(ctx)
	if err != nil && conn != nil {
		conn.Close() // go-mail leaves it open when the hello, TLS or login fails
	}
	return c, err
}

// drop closes the connection without ceremony; the next message makes a new one.
func (s *smtpConn) drop() {
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
}

func (s *smtpConn) close() {
	if s.c == nil {
		return
	}
	s.c.UpdateDeadline(5 * time.Second)
	s.c.Quit()
	s.drop()
}

// connectError says in plain words why a connection could not be made.
func connectError(e *endpoint, err error) *sendError {
	se := newSendError(stageConnect, err)
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not support STARTTLS"):
		se.err = fmt.Errorf("%s does not offer STARTTLS: refusing to send the password and the links in clear (if it takes TLS on port 465, use smtps://)", e.addr())
		se.fatal = true
	case strings.HasPrefix(msg, "SMTP AUTH failed") && errors.Unwrap(err) != nil:
		se.err = fmt.Errorf("the server refused the login of %s: %s", e.user, words(errors.Unwrap(err)))
	case strings.Contains(msg, "does not support SMTP AUTH"), errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		se.err = fmt.Errorf("%s offers no login that can be used here (SCRAM, PLAIN or LOGIN, over TLS): %w", e.addr(), err)
		se.fatal = true
	}
	return se
}
