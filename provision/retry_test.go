package provision

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	status := func(code int, wait time.Duration) error {
		return &StatusError{Code: code, Message: "m", RetryAfter: wait}
	}
	refusedConn := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	reset := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "read", Net: "tcp",
		Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	timeout := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: context.DeadlineExceeded}
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		action Action
		wait   time.Duration
	}{
		{"success", live, nil, Done, 0},
		{"429 with Retry-After", live, status(429, 3*time.Second), Retry, 3 * time.Second},
		{"429 without Retry-After", live, status(429, 0), Retry, 0},
		{"408", live, status(408, 0), Retry, 0},
		{"500", live, status(500, 0), Retry, 0},
		{"502", live, status(502, 0), Retry, 0},
		{"503 with Retry-After", live, status(503, time.Minute), Retry, time.Minute},
		{"504", live, status(504, 0), Retry, 0},
		{"501 will not change", live, status(501, 0), Fail, 0},
		{"505 will not change", live, status(505, 0), Fail, 0},
		{"400", live, status(400, 0), Fail, 0},
		{"422", live, status(422, 0), Fail, 0},
		{"409 other 4xx", live, status(409, 0), Fail, 0},
		{"401 token", live, status(401, 0), Refused, 0},
		{"403 space", live, status(403, 0), Refused, 0},
		{"404 base URL", live, status(404, 0), Refused, 0},
		{"2xx without token", live, &ResponseError{Msg: "HTTP 200 without a sessionToken", Code: 200}, Fail, 0},
		{"attempt timeout", live, timeout, Retry, 0},
		{"connection refused", live, refusedConn, Retry, 0},
		{"connection reset", live, reset, Retry, 0},
		{"truncated body", live, io.ErrUnexpectedEOF, Retry, 0},
		{"unknown host", live, &url.Error{Op: "Post", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, Refused, 0},
		{"DNS server failure", live, &url.Error{Op: "Post", Err: &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}}, Retry, 0},
		{"bad certificate", live, &url.Error{Op: "Post", Err: x509.UnknownAuthorityError{}}, Refused, 0},
		{"wrong host in certificate", live, &url.Error{Op: "Post", Err: x509.HostnameError{Host: "x"}}, Refused, 0},
		{"503 after interrupt", done, status(503, 0), Fail, 0},
		{"network error after interrupt", done, reset, Fail, 0},
		{"success after interrupt", done, nil, Done, 0},
		{"wrapped 429", live, fmt.Errorf("attempt: %w", status(429, time.Second)), Retry, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, wait := Decide(tt.ctx, tt.err)
			if a != tt.action || wait != tt.wait {
				t.Errorf("Decide(%v) = %v, %v; want %v, %v", tt.err, a, wait, tt.action, tt.wait)
			}
		})
	}
}

func TestBackoffWait(t *testing.T) {
	tests := []struct {
		name      string
		b         Backoff
		n         int
		floor     time.Duration
		min, ceil time.Duration // every wait in [min, ceil]
	}{
		{"first retry", Backoff{Base: 100 * time.Millisecond, Max: time.Minute}, 1, 0, 0, 100 * time.Millisecond},
		{"doubles", Backoff{Base: 100 * time.Millisecond, Max: time.Minute}, 4, 0, 0, 800 * time.Millisecond},
		{"capped", Backoff{Base: 100 * time.Millisecond, Max: time.Second}, 10, 0, 0, time.Second},
		{"no overflow", Backoff{Base: 100 * time.Millisecond, Max: time.Second}, 200, 0, 0, time.Second},
		{"zero value defaults", Backoff{}, 1, 0, 0, 500 * time.Millisecond},
		{"zero value cap 60s", Backoff{}, 40, 0, 0, time.Minute},
		{"Retry-After is a floor", Backoff{Base: time.Millisecond, Max: time.Second}, 1, 7 * time.Second, 7 * time.Second, 7 * time.Second},
		{"floor below the jitter", Backoff{Base: time.Second, Max: time.Minute}, 3, 100 * time.Millisecond, 100 * time.Millisecond, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := time.Duration(1<<62), time.Duration(0)
			for range 2000 {
				d := tt.b.Wait(tt.n, tt.floor)
				lo, hi = min(lo, d), max(hi, d)
			}
			if lo < tt.min || hi > tt.ceil {
				t.Fatalf("waits in [%v, %v], want within [%v, %v]", lo, hi, tt.min, tt.ceil)
			}
			// Full jitter: the waits spread over the whole range, not bunched at the top.
			if tt.min < tt.ceil && (lo > tt.min+(tt.ceil-tt.min)/10 || hi < tt.ceil-(tt.ceil-tt.min)/10) {
				t.Errorf("waits in [%v, %v] do not spread over [%v, %v]", lo, hi, tt.min, tt.ceil)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"seconds with spaces", " 3 ", 3 * time.Second},
		{"HTTP date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"HTTP date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"negative", "-5", 0},
		{"garbage", "soon", 0},
		{"hours, bounded", "7200", MaxRetryAfter},
		{"absurd, bounded", "99999999", MaxRetryAfter},
		{"NaN", "NaN", 0},
		{"HTTP date tomorrow, bounded", now.Add(24 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestSleepStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a done context = %v, want context.Canceled", err)
	}
}
