package ideanote

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
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
		action provision.Action
		wait   time.Duration
	}{
		{"success", live, nil, provision.Done, 0},
		{"429 with Retry-After", live, status(429, 3*time.Second), provision.Throttled, 3 * time.Second},
		{"429 without Retry-After", live, status(429, 0), provision.Throttled, 0},
		{"408", live, status(408, 0), provision.Retry, 0},
		{"500", live, status(500, 0), provision.Retry, 0},
		{"502", live, status(502, 0), provision.Retry, 0},
		{"503 with Retry-After", live, status(503, time.Minute), provision.Retry, time.Minute},
		{"504", live, status(504, 0), provision.Retry, 0},
		{"501 will not change", live, status(501, 0), provision.Fail, 0},
		{"505 will not change", live, status(505, 0), provision.Fail, 0},
		{"400", live, status(400, 0), provision.Fail, 0},
		{"422", live, status(422, 0), provision.Fail, 0},
		{"409 other 4xx", live, status(409, 0), provision.Fail, 0},
		{"401 token", live, status(401, 0), provision.Refused, 0},
		{"403 space", live, status(403, 0), provision.Refused, 0},
		{"404 base URL", live, status(404, 0), provision.Refused, 0},
		{"2xx without token", live, &ResponseError{Msg: "HTTP 200 without a sessionToken", Code: 200}, provision.Retry, 0},
		{"307 not followed", live, status(307, 0), provision.Refused, 0},
		{"301 not followed", live, status(301, 0), provision.Refused, 0},
		{"attempt timeout", live, timeout, provision.Retry, 0},
		{"connection refused", live, refusedConn, provision.Retry, 0},
		{"connection reset", live, reset, provision.Retry, 0},
		{"truncated body", live, io.ErrUnexpectedEOF, provision.Retry, 0},
		{"unknown host", live, &url.Error{Op: "Post", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, provision.Refused, 0},
		{"DNS server failure", live, &url.Error{Op: "Post", Err: &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}}, provision.Retry, 0},
		{"bad certificate", live, &url.Error{Op: "Post", Err: x509.UnknownAuthorityError{}}, provision.Refused, 0},
		{"wrong host in certificate", live, &url.Error{Op: "Post", Err: x509.HostnameError{Host: "x"}}, provision.Refused, 0},
		{"503 after interrupt", done, status(503, 0), provision.Fail, 0},
		{"network error after interrupt", done, reset, provision.Fail, 0},
		{"success after interrupt", done, nil, provision.Done, 0},
		{"wrapped 429", live, fmt.Errorf("attempt: %w", status(429, time.Second)), provision.Throttled, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.ctx, tt.err)
			if v.Action != tt.action || v.RetryAfter != tt.wait {
				t.Errorf("Decide(%v) = %v, %v; want %v, %v", tt.err, v.Action, v.RetryAfter, tt.action, tt.wait)
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
