package mail

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"path"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/redact"
)

// The stages of an SMTP delivery, as errors name them.
const (
	stageConnect = "connect"
	stageMail    = "MAIL FROM"
	stageRcpt    = "RCPT TO"
	stageData    = "DATA"
	stageMessage = "message" // sending the data, up to its end (".")
	// stageReply is waiting for the answer to the end of the message: without one, the server
	// may have accepted the message.
	stageReply = "reply to the message"
)

// sendError is a delivery that did not go through, with what the server said.
type sendError struct {
	stage string
	code  int  // the server's reply code; 0 when no answer came (a fault)
	fatal bool // a fault of the connection that no retry mends (TLS, login mechanism)
	err   error
}

func (e *sendError) Error() string {
	return e.stage + ": " + strings.Join(strings.Fields(words(e.err)), " ")
}

// words is err's text, with a server's answer as the server said it (textproto quotes it).
func words(err error) string {
	if te, ok := err.(*textproto.Error); ok {
		return fmt.Sprintf("%03d %s", te.Code, te.Msg)
	}
	return err.Error()
}

func (e *sendError) Unwrap() error { return e.err }

// linkHidden is a delivery's error whose text quoted the person's login link: a content filter
// may name the URL it refused. Its text has the link replaced; what it wraps still decides the
// retry.
type linkHidden struct {
	err  error
	text string
}

func (e *linkHidden) Error() string { return e.text }
func (e *linkHidden) Unwrap() error { return e.err }

// hideLink returns err with the links of f in its text replaced by [link], whether quoted whole,
// HTML-escaped, cut short, or as the token alone: the text goes to the mail report and the log,
// and the link is a login.
func hideLink(err error, f Fields) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, l := range []string{f.LoginURL, f.WidgetURL} { // f.Link is one of them
		u, perr := url.Parse(l)
		if l == "" || perr != nil {
			continue
		}
		tok := u.Query().Get("auth.sessionToken")
		if tok == "" {
			tok = path.Base(u.Path)
		}
		i := strings.Index(l, tok)
		if len(tok) < 4 || i < 0 {
			text = strings.ReplaceAll(text, l, "[link]")
			continue
		}
		text = redact.Secret(text, tok, "[link]")
		for _, around := range []string{l[:i], html.EscapeString(l[:i])} {
			text = strings.ReplaceAll(text, around+"[link]", "[link]")
		}
	}
	if text == err.Error() {
		return err
	}
	return &linkHidden{err: err, text: text}
}

func newSendError(stage string, err error) *sendError {
	e := &sendError{stage: stage, err: err}
	var te *textproto.Error
	switch {
	case errors.As(err, &te):
		e.code = te.Code
	case !isFault(err):
		e.fatal = true
	}
	return e
}

// isFault reports whether err is the network failing (a refused or dropped connection, a
// timeout), which a new connection may mend, rather than TLS or anything else refusing.
func isFault(err error) bool {
	var (
		cve     *tls.CertificateVerificationError
		rhe     tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		ne      net.Error
	)
	switch {
	case errors.As(err, &cve), errors.As(err, &rhe), errors.As(err, &alert), errors.As(err, &unknown),
		errors.As(err, &host), errors.As(err, &invalid):
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.As(err, &ne):
		return true
	}
	return false
}

// verdict is what to do after a delivery.
type verdict int

const (
	done      verdict = iota
	retry             // a 4xx: try again after a wait, on the same connection
	reconnect         // a fault or a 421: try again after a wait, on a new connection
	failed            // this message failed for good (a 5xx for its recipient or content)
	unsure            // no reply to the end of the message: perhaps accepted, never sent again
	abort             // the run cannot go on: the login, the sender or TLS was refused
)

// decide says what to do after a delivery ended with err: the one place where SMTP answers
// become retries, failures and aborts.
func decide(err error) verdict {
	var se *sendError
	switch {
	case err == nil:
		return done
	case !errors.As(err, &se):
		return failed // not the server's doing: the message could not be made
	case se.stage == stageReply && se.code == 0:
		return unsure
	case se.fatal:
		if se.stage == stageConnect {
			return abort
		}
		return failed
	case se.code == 0 || se.code == 421:
		return reconnect
	case se.code < 500 && se.stage == stageConnect:
		return reconnect // busy: 4xx to the greeting or the login
	case se.code < 500:
		return retry
	case se.stage == stageConnect, se.stage == stageMail:
		return abort // the login or the sender refused: no message can go
	}
	return failed
}
