package mail

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
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
