package ideanote

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Decide classifies the outcome of one attempt: the retry policy of the session endpoint, in
// one pure function. Only the attempt's own timeout counts as a retryable timeout: ctx is the
// run's context, and once it is done nothing is retried.
func Decide(ctx context.Context, err error) provision.Verdict {
	v := provision.Verdict{HTTPStatus: statusCode(err)}
	v.Action, v.RetryAfter = decide(ctx, err)
	if se, ok := errors.AsType[*StatusError](err); ok {
		v.Quota = se.Quota
	}
	return v
}

func decide(ctx context.Context, err error) (provision.Action, time.Duration) {
	if err == nil {
		return provision.Done, 0
	}
	if ctx.Err() != nil {
		return provision.Fail, 0
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		switch c := se.Code; {
		case c == http.StatusTooManyRequests:
			return provision.Throttled, se.RetryAfter
		case c == http.StatusRequestTimeout:
			return provision.Retry, se.RetryAfter
		case c == http.StatusUnauthorized, c == http.StatusForbidden, c == http.StatusNotFound:
			return provision.Refused, 0
		case c >= 300 && c <= 399:
			// Not followed (see Client.Post); the endpoint does not redirect, so the base URL
			// is wrong for every row, or the server is not the API.
			return provision.Refused, 0
		case c >= 500 && c != http.StatusNotImplemented && c != http.StatusHTTPVersionNotSupported:
			return provision.Retry, se.RetryAfter
		}
		return provision.Fail, 0
	}
	if _, ok := errors.AsType[*ResponseError](err); ok {
		// A 2xx without a usable session: the upsert is idempotent, so ask again, as after a 5xx.
		return provision.Retry, 0
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return provision.Refused, 0 // the base URL names no host
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return provision.Refused, 0 // retrying will not change a certificate
	}
	// Timeouts, resets, refused connections, truncated bodies: the network, so try again.
	return provision.Retry, 0
}
