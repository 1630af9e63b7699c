// Package mailtest provides a fake SMTP server for tests and the demo, in the manner of
// net/http/httptest.
package mailtest

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message as received, headers and body
	Conn int      // the connection it came on, counting from 1
	TLS  bool     // the connection was encrypted
	User string   // the user that authenticated, or ""
}

// Reply is a scripted answer to a command: an SMTP code (4xx or 5xx) with the server's words,
// or, with Drop, the connection closed without an answer, as a network fault would.
type Reply struct {
	Code int
	Text string
	Drop bool
}

// Drop is the Reply that closes the connection without an answer.
var Drop = Reply{Drop: true}

// Server is a fake SMTP server on a loopback port. It accepts every message unless scripted
// otherwise, and records what it accepted. Its exported fields may be changed before Start; its
// methods are safe for concurrent use.
type Server struct {
	Addr string // host:port, once started

	// User and Password, when User is set, make AUTH PLAIN required before MAIL.
	User, Password string
	// RefuseSender answers every MAIL FROM with 550 5.7.1, as a provider does for a sender
	// the account may not use.
	RefuseSender bool
	// Latency holds back the answer to every message's data (a slow server).
	Latency time.Duration
	// StartTLS offers STARTTLS; ImplicitTLS speaks TLS from the first byte (smtps). Both use
	// a certificate made at Start for 127.0.0.1, ::1 and localhost: see ClientTLSConfig.
	StartTLS, ImplicitTLS bool
	// Limit, when its Messages is positive, refuses MAIL FROM past Messages a window, as
	// Postfix's smtpd_client_message_rate_limit does.
	Limit Limit
	// Now is the clock of Limit's windows; nil is time.Now. A test in a bubble of
	// testing/synctest gives it the bubble's time (the server runs outside the bubble).
	Now func() time.Time
	// MaxRecorded, when positive, keeps only the first MaxRecorded messages, so that a long
	// benchmark does not hold them all; Count counts them all.
	MaxRecorded int

	srv      *smtp.Server
	ln       *listener
	serving  chan struct{}
	client   *tls.Config
	mu       sync.Mutex
	received int // messages whose data arrived, accepted or not
	accepted int
	messages []Message
	rcpt     map[string][]Reply // scripted answers to RCPT TO, by lower-case address
	data     map[int]Reply      // scripted answers to the data of the nth message
	closed   bool
	window   time.Time // the start of Limit's current window
	inWindow int       // the messages begun in it
	limited  int       // MAIL FROM refused by Limit
}

// Limit is a sender's rate limit: Messages a fixed window of Per, each message past them
// answered with Reply.
type Limit struct {
	Messages int
	Per      time.Duration // zero: a minute
	Reply    Reply         // zero: 450 4.7.1, in Postfix's words
}

// NewServer starts and returns a new Server. The caller should Close it.
func NewServer() *Server {
	s := NewUnstartedServer()
	s.Start()
	return s
}

// NewUnstartedServer returns a new Server that is not started yet.
func NewUnstartedServer() *Server {
	return &Server{rcpt: make(map[string][]Reply), data: make(map[int]Reply)}
}

// Start starts the server on a loopback port. It panics if it cannot listen, as
// httptest.Server does.
func (s *Server) Start() {
	if s.srv != nil {
		panic("mailtest: Server already started")
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("mailtest: failed to listen on a port: %v", err))
	}
	s.ln = &listener{Listener: raw, conns: make(map[net.Conn]int)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "mailtest.localhost"
	s.srv.AllowInsecureAuth = true // loopback only: nothing can listen in
	s.srv.ReadTimeout, s.srv.WriteTimeout = time.Minute, time.Minute
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	var ln net.Listener = s.ln
	if s.StartTLS || s.ImplicitTLS {
		server, client, err := newCertificate()
		if err != nil {
			panic(fmt.Sprintf("mailtest: %v", err))
		}
		s.client = client
		if s.StartTLS {
			s.srv.TLSConfig = server
		}
		if s.ImplicitTLS {
			ln = tls.NewListener(s.ln, server)
		}
	}
	s.Addr = raw.Addr().String()
	s.serving = make(chan struct{})
	go func() {
		defer close(s.serving)
		s.srv.Serve(ln)
	}()
}

// URL returns the server's address as an --smtp-url: smtp:// (smtps:// with ImplicitTLS),
// with the user when AUTH is required.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.User != "" {
		u.User = url.User(s.User)
	}
	return u.String()
}

// ClientTLSConfig returns a TLS configuration that trusts the server's certificate, or nil
// when the server has no TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.client == nil {
		return nil
	}
	return s.client.Clone()
}

// Close shuts the server down, closing every connection, and blocks until the handling of
// every connection has returned.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed || s.srv == nil {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.ln.Close()
	<-s.serving // no connection is accepted after this
	s.ln.closeAll()
	s.srv.Shutdown(context.Background()) // waits for every connection's handler
}

// CloseClientConnections closes every open connection, as a network fault or a server
// restart would.
func (s *Server) CloseClientConnections() {
	if s.ln != nil {
		s.ln.closeAll()
	}
}

// ReplyToRcpt scripts the answers to RCPT TO for addr: each attempt to send to addr takes the
// next reply, and once they are used up addr is accepted again.
func (s *Server) ReplyToRcpt(addr string, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(addr)
	s.rcpt[k] = append(s.rcpt[k], replies...)
}

// ReplyToMessage scripts the answer to the data of the nth message received (counting from 1,
// over all connections, whether accepted or not).
func (s *Server) ReplyToMessage(n int, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[n] = r
}

// Messages returns the messages accepted so far (the first MaxRecorded, when it is set).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count returns how many messages the server accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Received returns how many messages' data arrived, accepted or not.
func (s *Server) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// Connections returns how many connections the server accepted.
func (s *Server) Connections() int {
	if s.ln == nil {
		return 0
	}
	s.ln.mu.Lock()
	defer s.ln.mu.Unlock()
	return s.ln.n
}

// Limited returns how many MAIL FROM commands Limit refused.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// overLimit counts a message begun, and returns Limit's reply when it is one too many.
func (s *Server) overLimit() (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.Limit
	if l.Messages <= 0 {
		return Reply{}, false
	}
	per := cmp.Or(l.Per, time.Minute)
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if s.window.IsZero() || now.Sub(s.window) >= per {
		s.window, s.inWindow = now, 0
	}
	if s.inWindow >= l.Messages {
		s.limited++
		if l.Reply.Code == 0 {
			return Reply{Code: 450, Text: "4.7.1 Error: too much mail from 127.0.0.1"}, true
		}
		return l.Reply, true
	}
	s.inWindow++
	return Reply{}, false
}

// rcptReply returns the scripted answer to RCPT TO addr, if any is left.
func (s *Server) rcptReply(addr string) (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(addr)
	q := s.rcpt[k]
	if len(q) == 0 {
		return Reply{}, false
	}
	s.rcpt[k] = q[1:]
	return q[0], true
}

// dataArrived counts a message's data and returns its scripted answer, if any.
func (s *Server) dataArrived() (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	r, ok := s.data[s.received]
	return r, ok
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted++
	if s.MaxRecorded <= 0 || len(s.messages) < s.MaxRecorded {
		s.messages = append(s.messages, m)
	}
}

// listener numbers the connections it accepts and can close them all.
type listener struct {
	net.Listener
	mu       sync.Mutex
	n        int
	conns    map[net.Conn]int
	byRemote map[string]int
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.conns[c] = l.n
	if l.byRemote == nil {
		l.byRemote = make(map[string]int)
	}
	l.byRemote[c.RemoteAddr().String()] = l.n
	return &conn{Conn: c, l: l}, nil
}

// number returns the number of the connection from remote.
func (l *listener) number(remote net.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byRemote[remote.String()]
}

func (l *listener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
}

// conn forgets itself in its listener when closed.
type conn struct {
	net.Conn
	l *listener
}

func (c *conn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c.Conn)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

var errDropped = errors.New("mailtest: connection dropped")
