package ideanote

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// quota reads the rate-limit headers of an answer, as express-rate-limit and others send them:
// RateLimit-Limit, -Remaining, -Reset and -Policy ("60;w=60") of the IETF draft 6; its draft 7
// RateLimit ("limit=60, remaining=59, reset=3"); the later drafts' RateLimit and
// RateLimit-Policy items (q, w, r, t); or X-RateLimit-* (whose Reset is often a Unix time).
// nil when the answer has none. The names are spelled canonically so that reading them
// allocates nothing.
func quota(h http.Header, now time.Time) *provision.Quota {
	limit, okL := headerInt(h, "Ratelimit-Limit", "X-Ratelimit-Limit")
	remaining, okR := headerInt(h, "Ratelimit-Remaining", "X-Ratelimit-Remaining")
	reset, okT := headerInt(h, "Ratelimit-Reset", "X-Ratelimit-Reset")
	var window int64
	if p := h.Get("Ratelimit-Policy"); p != "" {
		if q, ok := param(p, "q"); ok {
			limit, okL = q, true
		} else if q, ok := headerInt(h, "Ratelimit-Policy"); ok && !okL {
			limit, okL = q, true // draft 6 and 7: the quota leads, "60;w=60"
		}
		window, _ = param(p, "w")
	}
	if r := h.Get("Ratelimit"); r != "" {
		// Draft 7: "limit=60, remaining=59, reset=3"; later drafts: "default";r=50;t=30.
		if v, ok := param(r, "limit"); ok {
			limit, okL = v, true
		}
		if v, ok := param(r, "r"); ok {
			remaining, okR = v, true
		} else if v, ok := param(r, "remaining"); ok {
			remaining, okR = v, true
		}
		if v, ok := param(r, "t"); ok {
			reset, okT = v, true
		} else if v, ok := param(r, "reset"); ok {
			reset, okT = v, true
		}
	}
	if !okL && !okR {
		return nil
	}
	q := &provision.Quota{Limit: int(limit), Remaining: int(remaining), Window: time.Duration(window) * time.Second}
	if !okR {
		q.Remaining = q.Limit
	}
	switch {
	case !okT:
	case reset > 1e12: // a Unix time in milliseconds
		q.Reset = time.UnixMilli(reset).Sub(now)
	case reset > 1e8: // a Unix time in seconds (a delta would be over three years)
		// Rounded up to the second by the servers that send it (express-rate-limit): the
		// whole seconds until it, as a delta is rounded up from the true wait.
		q.Reset = time.Unix(reset, 0).Sub(now).Truncate(time.Second)
	default:
		q.Reset = time.Duration(reset) * time.Second
	}
	if q.Reset < 0 || q.Reset > maxReset {
		q.Reset = 0 // unknown: a reset years away would keep the pacer from the limit all run
	}
	return q
}

// maxReset bounds a Reset taken as the length of the server's window: an hourly quota is the
// longest the pacer waits to read. A Reset past it is a year 5000 or a delta in milliseconds.
const maxReset = time.Hour

// headerInt is the leading integer of the first of the headers present.
func headerInt(h http.Header, names ...string) (int64, bool) {
	for _, name := range names {
		if v := h.Get(name); v != "" {
			v, _, _ = strings.Cut(v, ",")
			v, _, _ = strings.Cut(v, ";")
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || n < 0 || n >= 1e15 { // past it, int64(n) is not exact; a Unix time in ms is below
				return 0, false
			}
			return int64(n), true
		}
	}
	return 0, false
}

// param is the integer parameter key=value of a header such as "60;w=60" or "limit=60,
// remaining=59, reset=3".
func param(v, key string) (int64, bool) {
	for item := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ';' || r == ',' }) {
		k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if ok && strings.TrimSpace(k) == key {
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}
