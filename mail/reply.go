package mail

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// replyClass is what an SMTP reply, or the lack of one, asks of a run.
type replyClass int

const (
	replyNone      replyClass = iota // no error: the message went
	replySlowDown                    // the server limits how fast we send: lower the rate, wait, try again
	replyQuota                       // the account may send no more for now: stop, the rest not_attempted
	replyTransient                   // another 4xx: try this message again later
	replyPermanent                   // another 5xx: this message failed for good
	replyNoServer                    // no reply: the server could not be reached, or dropped the connection
	replyOther                       // neither a reply nor the network: TLS refused, a message not made
)

func (c replyClass) String() string {
	switch c {
	case replyNone:
		return "none"
	case replySlowDown:
		return "slow down"
	case replyQuota:
		return "quota"
	case replyTransient:
		return "transient"
	case replyPermanent:
		return "permanent"
	case replyNoServer:
		return "no server"
	}
	return "other"
}

// smtpReply is a server's reply, as an error carries it.
type smtpReply struct {
	code     int    // 421, 550...
	enhanced string // the RFC 3463 status that opens the text, "4.7.1"; "" when there is none
	text     string // the rest
}

// enhancedCode is an RFC 3463 status at the start of a reply's text (or of one of its lines),
// where RFC 2034 puts it: found anywhere, it could be a piece of an IP address.
var enhancedCode = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)`)

// replyOf reads the server's reply from err: a net/textproto error (what the SMTP client
// returns), a go-mail SendError, or a sendError that kept only the code.
func replyOf(err error) (smtpReply, bool) {
	var (
		te *textproto.Error
		ge *gomail.SendError
		se *sendError
	)
	switch {
	case errors.As(err, &te):
		return newReply(te.Code, "", te.Msg), true
	case errors.As(err, &ge) && ge.ErrorCode() != 0:
		// Its text is go-mail's ("sending SMTP RCPT TO command: 550 5.1.1 ..."): the reply
		// is what follows the code.
		return newReply(ge.ErrorCode(), ge.EnhancedStatusCode(), afterCode(ge.Error(), ge.ErrorCode())), true
	case errors.As(err, &se) && se.code != 0:
		return newReply(se.code, "", afterCode(words(se.err), se.code)), true
	}
	return smtpReply{}, false
}

// afterCode is what follows the reply code in s, or s when the code is not in it.
func afterCode(s string, code int) string {
	c := strconv.Itoa(code)
	for i := 0; ; {
		j := strings.Index(s[i:], c)
		if j < 0 {
			return s
		}
		i += j + len(c)
		if i == len(s) || s[i] == ' ' || s[i] == '-' {
			return s[i:]
		}
	}
}

func newReply(code int, enhanced, text string) smtpReply {
	r := smtpReply{code: code, enhanced: enhanced}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = strings.TrimLeft(l, " -")
		// A multiline reply repeats the status on every line (Gmail's "550-5.4.5 ..."). One
		// of another class than the code's is not the status of this reply.
		if m := enhancedCode.FindStringSubmatch(l); m != nil && m[1] == strconv.Itoa(code/100) {
			if r.enhanced == "" {
				r.enhanced = fmt.Sprintf("%s.%s.%s", m[1], m[2], m[3])
			}
			l = l[len(m[0]):]
		}
		lines[i] = l
	}
	r.text = strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	return r
}

// classifyReply says what err, from a delivery, asks of the run. It reads the reply alone: a
// 5xx to the login or the sender stops the run whatever its class (decide's stages say so).
//
// A quota is the account's, not the recipient's: a daily or sending quota, a daily limit,
// sending paused or suspended, credits spent, in a 4xx (Amazon SES says its daily quota with
// 454) or a 5xx; in a 5xx, too, any quota and any words of volume ("554 5.7.0 too many
// messages"), since a 5xx says not to try again and volume is not the recipient's doing.
// Never the recipient's mailbox (X.2.1 to X.2.4, "mailbox", "over quota"), nor the
// size of this message: those fail this message alone.
//
// Slow down is 421, and a 4xx of policy (X.7.x: Postfix's rate limits, Microsoft's "server
// busy", greylisting too, all mended by a wait), of too many recipients (X.5.3: with one
// recipient a message, a count over time), or in words of rate or volume; not of the
// recipient's mailbox (Gmail's "450 4.2.1 ... receiving mail at a rate": that recipient's,
// whose retry is enough).
func classifyReply(err error) replyClass {
	if err == nil {
		return replyNone
	}
	r, ok := replyOf(err)
	if !ok {
		var se *sendError
		switch {
		case errors.As(err, &se) && se.fatal:
			return replyOther
		case isFault(err):
			return replyNoServer
		}
		return replyOther
	}
	return r.class()
}

var (
	// accountQuota are words of the account's quota, whatever the code.
	accountQuota = regexp.MustCompile(`(daily|sending|send|submission|message|account|outbound)\W{0,2}quota|` +
		`\bdaily\b.{0,40}\blimit|\blimit.{0,20}\bper (day|24)|\b24.hours?\b.{0,40}\blimit|` +
		`sending (is |has been )?(paused|suspended|disabled)|account.{0,20}\b(paused|suspended)|credits? (exceeded|exhausted)|maximum credits`)
	// volume are words of the number of messages or connections.
	volume = regexp.MustCompile(`too many (messages|mails|e-?mails|recipients|connections|requests|sessions|login)|too much mail|` +
		`rate limit|\brate\b.{0,20}exceeded|exceeded.{0,20}\brate\b|\bmessages? limit|\blimit (reached|exceeded)|exceeded.{0,20}\blimit`)
	// paceWords are words of pace, that a 4xx may say and a 5xx about this message too.
	paceWords = regexp.MustCompile(`\brate\b|throttl|slow down|\bbusy\b`)
	// notTheAccount are words of the recipient's mailbox, or of this message's size.
	notTheAccount = regexp.MustCompile(`mailbox|over quota|\binbox\b|\bsize\b|too (big|large)`)
)

func (r smtpReply) class() replyClass {
	text := strings.ToLower(r.text)
	subject, detail := "", "" // of the enhanced status: subject 2 the mailbox, 7 policy...
	if parts := strings.Split(r.enhanced, "."); len(parts) == 3 {
		subject, detail = parts[1], parts[2]
	}
	// X.2.0 is no more than "about a mailbox" (Microsoft says its submission quota with it):
	// its words tell.
	account := (subject != "2" || detail == "0") && !notTheAccount.MatchString(text)
	switch {
	case r.code < 400 || r.code >= 600:
		return replyOther
	case account && accountQuota.MatchString(text):
		return replyQuota
	case r.code >= 500 && account && (strings.Contains(text, "quota") || volume.MatchString(text)):
		return replyQuota
	case r.code >= 500:
		return replyPermanent
	case r.code == 421, subject == "7", r.enhanced == "4.5.3", account && (volume.MatchString(text) || paceWords.MatchString(text)):
		return replySlowDown
	}
	return replyTransient
}
