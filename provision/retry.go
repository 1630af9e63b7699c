package provision

import (
	"context"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// Action is what the pool does after one attempt.
type Action int

const (
	Done    Action = iota // the row is ok
	Retry                 // try again after a wait
	Fail                  // the row failed; other rows go on
	Refused               // the row failed for a reason that will fail every row (token, space, URL)
)

func (a Action) String() string {
	return [...]string{"done", "retry", "fail", "refused"}[a]
}

// Decide classifies the outcome of one attempt. wait is the server's Retry-After, 0 if none.
// Only the attempt's own timeout counts as a retryable timeout: ctx is the run's context, and
// once it is done nothing is retried.
func Decide(ctx context.Context, err error) (a Action, wait time.Duration) {
	if err == nil {
		return Done, 0
	}
	if ctx.Err() != nil {
		return Fail, 0
	}
	var se *StatusError
	if errors.As(err, &se) {
		switch c := se.Code; {
		case c == http.StatusTooManyRequests, c == http.StatusRequestTimeout:
			return Retry, se.RetryAfter
		case c == http.StatusUnauthorized, c == http.StatusForbidden, c == http.StatusNotFound:
			return Refused, 0
		case c >= 500 && c != http.StatusNotImplemented && c != http.StatusHTTPVersionNotSupported:
			return Retry, se.RetryAfter
		}
		return Fail, 0
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return Fail, 0
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return Refused, 0 // the base URL names no host
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return Refused, 0 // retrying will not change a certificate
	}
	// Timeouts, resets, refused connections, truncated bodies: the network, so try again.
	return Retry, 0
}

// Backoff is exponential backoff with full jitter: a random wait in [0, min(Max, Base·2^(n-1))).
// The zero value uses a base of 500 ms and a cap of 60 s.
type Backoff struct {
	Base, Max time.Duration
}

// Wait returns the wait before attempt n+1 after n failed attempts, at least floor (the
// server's Retry-After).
func (b Backoff) Wait(n int, floor time.Duration) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = 60 * time.Second
	}
	ceil := max
	if n < 30 {
		if d := base << (n - 1); d > 0 && d < max {
			ceil = d
		}
	}
	d := rand.N(ceil)
	if d < floor {
		d = floor
	}
	return d
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
