package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"syscall"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// replies are real servers' answers, as their users have reported them, with their class.
var replies = []struct {
	server string
	code   int
	text   string // as net/textproto gives it: lines joined by "\n", without the code
	want   replyClass
}{
	// Postfix: anvil's rate limits, smtpd's recipient limit, policy services, greylisting.
	{"postfix", 450, "4.7.1 Error: too much mail from 192.0.2.10", replySlowDown},
	{"postfix", 450, "4.7.1 Error: too many recipients from 192.0.2.10", replySlowDown},
	{"postfix", 450, "4.7.1 <bob@example.com>: Client host rejected: too many messages", replySlowDown},
	{"postfix", 421, "4.7.0 mail.example.com Error: too many connections from 192.0.2.10", replySlowDown},
	{"postfix", 452, "4.5.3 Error: too many recipients", replySlowDown},
	{"postfix", 451, "4.7.1 <bob@example.com>: Recipient address rejected: Rate limit exceeded, try again later", replySlowDown},
	{"postfix", 450, "4.2.0 <bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html", replyTransient},
	{"postfix", 451, "4.3.0 Error: queue file write error", replyTransient},
	{"postfix", 452, "4.3.1 Insufficient system storage", replyTransient},
	{"postfix", 550, "5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table", replyPermanent},
	{"postfix", 554, "5.7.1 <bob@elsewhere.example>: Relay access denied", replyPermanent},
	{"postfix", 552, "5.3.4 Message size exceeds fixed limit", replyPermanent},
	{"postfix", 554, "5.7.0 too many messages", replyQuota},
	{"postfix", 550, "5.7.1 <it@acme.example>: Sender address rejected: daily message limit reached", replyQuota},
	{"dovecot", 552, "5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)", replyPermanent},
	{"dovecot", 452, "4.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)", replyTransient},
	// Gmail and Google Workspace (smtp.gmail.com, smtp-relay.gmail.com), multiline.
	{"gmail", 550, "5.4.5 Daily user sending quota exceeded. For more information, go to\n5.4.5  https://support.google.com/mail/?p=SendingQuotaExceeded a1-20020a5d4d81000000b0033b4e4e51f9sm14000001wrt.55 - gsmtp", replyQuota},
	{"gmail", 550, "5.4.5 Daily SMTP relay limit exceeded for user. For more information on SMTP relay sending limits please visit\n5.4.5  https://support.google.com/a/answer/166852 - gsmtp", replyQuota},
	{"gmail", 421, "4.7.0 Try again later, closing connection. (EHLO) a1sm14000001wrt.55 - gsmtp", replySlowDown},
	{"gmail", 454, "4.7.0 Too many login attempts, please try again later. a1sm14000001wrt.55 - gsmtp", replySlowDown},
	{"gmail", 421, "4.7.28 [192.0.2.10] Our system has detected an unusual rate of unsolicited mail originating from your IP address. - gsmtp", replySlowDown},
	{"gmail", 450, "4.2.1 The user you are trying to contact is receiving mail at a rate that\n4.2.1 prevents additional messages from being delivered. - gsmtp", replyTransient},
	{"gmail", 452, "4.2.2 The email account that you tried to reach is over quota. Please direct\n4.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp", replyTransient},
	{"gmail", 552, "5.2.2 The email account that you tried to reach is over quota and inactive. - gsmtp", replyPermanent},
	{"gmail", 550, "5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos or\n5.1.1 unnecessary spaces. - gsmtp", replyPermanent},
	{"gmail", 451, "4.3.0 Mail server temporarily rejected message. a1sm14000001wrt.55 - gsmtp", replyTransient},
	{"gmail", 550, "5.7.26 Unauthenticated email from acme.example is not accepted due to domain's DMARC policy. - gsmtp", replyPermanent},
	// Microsoft 365 and Outlook.com.
	{"microsoft", 554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]", replyQuota},
	{"microsoft", 550, "5.1.90 Your message can't be sent because you've reached your daily limit for message recipients", replyQuota},
	{"microsoft", 451, "4.7.500 Server busy. Please try again later from [192.0.2.10]. (AS761)", replySlowDown},
	{"microsoft", 432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=AM0PR01MB1234]", replySlowDown},
	{"microsoft", 450, "4.7.3 Organization queue quota exceeded.", replySlowDown},
	{"microsoft", 421, "4.4.2 Connection dropped due to SocketError", replySlowDown},
	{"microsoft", 452, "4.3.1 Insufficient system resources", replyTransient},
	{"microsoft", 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@example.com not found by SMTP address lookup", replyPermanent},
	{"microsoft", 554, "5.2.252 SendAsDenied; it@acme.example not allowed to send as bob@acme.example", replyPermanent},
	{"microsoft", 550, "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", replyPermanent},
	// Amazon SES: its daily quota is a 4xx.
	{"ses", 454, "Throttling failure: Maximum sending rate exceeded.", replySlowDown},
	{"ses", 454, "Throttling failure: Daily message quota exceeded.", replyQuota},
	{"ses", 554, "Sending paused for this account. For more information, please check the AWS Management Console.", replyQuota},
	{"ses", 554, "Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: bob@example.com", replyPermanent},
	{"ses", 451, "Temporary service failure", replyTransient},
	// SendGrid.
	{"sendgrid", 451, "Authentication failed: Maximum credits exceeded", replyQuota},
	{"sendgrid", 550, "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.", replyPermanent},
	{"sendgrid", 421, "Too many concurrent SMTP connections, try again later", replySlowDown},
	// Replies of no class.
	{"none", 250, "2.0.0 Ok", replyOther},
}

func TestClassifyReply(t *testing.T) {
	t.Parallel()
	for _, tt := range replies {
		// As the SMTP client returns it, as the transport wraps it, and as go-mail's own
		// sendError keeps only its code and words.
		te := &textproto.Error{Code: tt.code, Msg: tt.text}
		for _, err := range []error{te, newSendError(stageRcpt, te), &sendError{stage: stageConnect, code: tt.code, err: fmt.Errorf("the server refused: %d %s", tt.code, tt.text)}} {
			if got := classifyReply(err); got != tt.want {
				t.Errorf("%s %d %q (%T): %v, want %v", tt.server, tt.code, tt.text, err, got, tt.want)
			}
		}
	}
}

func TestReplyOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err      error
		code     int
		enhanced string
		text     string
	}{
		{&textproto.Error{Code: 550, Msg: "5.4.5 Daily user sending quota exceeded. For more information, go to\n5.4.5  https://support.google.com/mail/?p=SendingQuotaExceeded - gsmtp"},
			550, "5.4.5", "Daily user sending quota exceeded. For more information, go to https://support.google.com/mail/?p=SendingQuotaExceeded - gsmtp"},
		{&textproto.Error{Code: 454, Msg: "Throttling failure: Maximum sending rate exceeded."}, 454, "", "Throttling failure: Maximum sending rate exceeded."},
		// An address in the text is not a status; nor is a status of another class.
		{&textproto.Error{Code: 421, Msg: "mx.example.com closing: 192.4.5.3 is busy"}, 421, "", "mx.example.com closing: 192.4.5.3 is busy"},
		{&textproto.Error{Code: 451, Msg: "5.7.1 odd"}, 451, "", "5.7.1 odd"},
		{fmt.Errorf("the server refused the login of it: %w", &textproto.Error{Code: 535, Msg: "5.7.8 Username and Password not accepted."}), 535, "5.7.8", "Username and Password not accepted."},
		{&sendError{stage: stageConnect, code: 535, err: errors.New("the server refused the login of it: 535 5.7.8 Username and Password not accepted.")}, 535, "5.7.8", "Username and Password not accepted."},
	}
	for _, tt := range tests {
		r, ok := replyOf(tt.err)
		if !ok || r.code != tt.code || r.enhanced != tt.enhanced || r.text != tt.text {
			t.Errorf("replyOf(%v) = %+v, %v; want %d %q %q", tt.err, r, ok, tt.code, tt.enhanced, tt.text)
		}
	}
}

func TestClassifyNoReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want replyClass
	}{
		{"sent", nil, replyNone},
		{"refused", newSendError(stageConnect, connRefused), replyNoServer},
		{"no such host", newSendError(stageConnect, &net.DNSError{Err: "no such host", Name: "smtp.example.invalid", IsNotFound: true}), replyNoServer},
		{"timeout", newSendError(stageConnect, &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}), replyNoServer},
		{"closed before the greeting", newSendError(stageConnect, io.EOF), replyNoServer},
		{"dropped after RCPT", newSendError(stageRcpt, io.ErrUnexpectedEOF), replyNoServer},
		{"bare network error", connRefused, replyNoServer},
		{"untrusted certificate", newSendError(stageConnect, &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), replyOther},
		{"no STARTTLS", &sendError{stage: stageConnect, fatal: true, err: errors.New("does not offer STARTTLS")}, replyOther},
		{"message not made", errors.New("rendering the message: template: x"), replyOther},
	}
	for _, tt := range tests {
		if got := classifyReply(tt.err); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// connRefused is the error of a dial to a port nobody listens on.
var connRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// timeoutError is a network error that timed out, as the net package's are.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestClassifyThroughTheWire sends through the fake server that answers as a provider would,
// so that the errors classified are those the transport and go-mail really return.
func TestClassifyThroughTheWire(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer()
	defer srv.Close()
	script := []struct {
		to    string
		reply mailtest.Reply
		want  replyClass
	}{
		{"slow@example.com", mailtest.Reply{Code: 450, Text: "4.7.1 Error: too much mail from 127.0.0.1"}, replySlowDown},
		{"quota@example.com", mailtest.Reply{Code: 550, Text: "5.4.5 Daily user sending quota exceeded."}, replyQuota},
		{"later@example.com", mailtest.Reply{Code: 451, Text: "4.3.0 Mail server temporarily rejected message."}, replyTransient},
		{"nobody@example.com", mailtest.Reply{Code: 550, Text: "5.1.1 User unknown"}, replyPermanent},
		{"full@example.com", mailtest.Reply{Code: 552, Text: "5.2.2 Quota exceeded (mailbox for user is full)"}, replyPermanent},
	}
	for _, s := range script {
		srv.ReplyToRcpt(s.to, s.reply, s.reply)
	}
	e, err := parseEndpoint(srv.URL(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	c := newSMTPConn(e, nil, 10*time.Second)
	defer c.close()
	client, err := gomail.NewClient("127.0.0.1", gomail.WithPort(e.port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range script {
		m := gomail.NewMsg()
		if err := m.From("it@acme.example"); err != nil {
			t.Fatal(err)
		}
		if err := m.To(s.to); err != nil {
			t.Fatal(err)
		}
		m.SetBodyString(gomail.TypeTextPlain, "hello")
		err := c.deliver(context.Background(), &outgoing{msg: m, from: "<it@acme.example>", to: "<" + s.to + ">"})
		if got := classifyReply(err); got != s.want {
			t.Errorf("%s through the transport: %v (%v), want %v", s.to, got, err, s.want)
		}
		var se *gomail.SendError
		err = client.DialAndSendWithContext(context.Background(), m)
		if !errors.As(err, &se) {
			t.Fatalf("%s through go-mail: %T %v, want a *SendError", s.to, err, err)
		}
		if got := classifyReply(err); got != s.want {
			t.Errorf("%s through go-mail: %v (%v), want %v", s.to, got, err, s.want)
		}
	}
	e, err = parseEndpoint(unreachable, "", false)
	if err != nil {
		t.Fatal(err)
	}
	err = newSMTPConn(e, nil, 10*time.Second).deliver(context.Background(), &outgoing{msg: gomail.NewMsg(), from: "<it@acme.example>", to: "<a@example.com>"})
	if got := classifyReply(err); got != replyNoServer || !strings.Contains(err.Error(), "connect") {
		t.Errorf("nothing listening: %v (%v), want %v", got, err, replyNoServer)
	}
}
