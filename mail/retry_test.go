package mail

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"testing"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	reply := func(code int, msg string) error { return &textproto.Error{Code: code, Msg: msg} }
	tests := []struct {
		name string
		err  error
		want verdict
	}{
		{"delivered", nil, done},
		{"rendering failed", errors.New("template: x"), failed},
		{"connection refused", newSendError(stageConnect, connRefused), reconnect},
		{"greeting 421", newSendError(stageConnect, reply(421, "busy")), reconnect},
		{"login 454 temporary", newSendError(stageConnect, fmt.Errorf("SMTP AUTH failed: %w", reply(454, "4.7.0 try later"))), reconnect},
		{"login 535", newSendError(stageConnect, fmt.Errorf("SMTP AUTH failed: %w", reply(535, "5.7.8 bad credentials"))), abort},
		{"greeting 554", newSendError(stageConnect, reply(554, "no service")), abort},
		{"no STARTTLS", newSendError(stageConnect, errors.New(`STARTTLS mode set to: "TLSMandatory", but target host does not support STARTTLS`)), abort},
		{"bad certificate", newSendError(stageConnect, &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), abort},
		{"TLS to a plain port", newSendError(stageConnect, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), abort},
		{"timeout", newSendError(stageConnect, &net.OpError{Op: "dial", Err: timeoutError{}}), reconnect},
		{"sender 4xx", newSendError(stageMail, reply(451, "4.3.0 try later")), retry},
		{"sender refused", newSendError(stageMail, reply(550, "5.7.1 not yours")), abort},
		{"sender dropped", newSendError(stageMail, io.EOF), reconnect},
		{"recipient greylisted", newSendError(stageRcpt, reply(450, "4.2.0 greylisted")), retry},
		{"recipient unknown", newSendError(stageRcpt, reply(550, "5.1.1 no such user")), failed},
		{"recipient 421", newSendError(stageRcpt, reply(421, "4.7.0 closing")), reconnect},
		{"DATA refused", newSendError(stageData, reply(554, "5.5.1 no valid recipients")), failed},
		{"content 4xx", newSendError(stageReply, reply(451, "4.3.0 queue full")), retry},
		{"content refused", newSendError(stageReply, reply(554, "5.7.1 spam")), failed},
		{"dropped while sending the message", &sendError{stage: stageMessage, err: io.ErrUnexpectedEOF}, reconnect},
		{"dropped awaiting the answer", newSendError(stageReply, io.ErrUnexpectedEOF), unsure},
		{"timed out awaiting the answer", newSendError(stageReply, timeoutError{}), unsure},
		{"garbled answer", newSendError(stageReply, textproto.ProtocolError("short response")), unsure},
		{"closed under us", newSendError(stageRcpt, fmt.Errorf("write: %w", net.ErrClosed)), reconnect},
		{"bad address line", newSendError(stageRcpt, errors.New("smtp: A line must not contain CR or LF")), failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := decide(tt.err); got != tt.want {
				t.Errorf("decide(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestSendErrorWords(t *testing.T) {
	t.Parallel()
	err := newSendError(stageRcpt, &textproto.Error{Code: 550, Msg: "5.1.1 <x@example.com>: no such user\nsecond line"})
	if got, want := err.Error(), "RCPT TO: 550 5.1.1 <x@example.com>: no such user second line"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
