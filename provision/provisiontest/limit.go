package provisiontest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// LimitKind is how a rate limiter counts requests.
type LimitKind int

// The kinds of limiter an API may put in front of an endpoint.
const (
	// TokenBucket refills Rate tokens a second up to Burst; a request takes one. In its GCRA
	// form: a request may arrive 1/Rate after the one before, up to Burst-1 intervals early.
	TokenBucket LimitKind = iota + 1
	// FixedWindow accepts N requests in each window of length Per, the windows aligned on the
	// clock (every minute on the minute, as "60 a minute" is often counted).
	FixedWindow
	// SlidingWindow accepts at most N requests in any span of length Per.
	SlidingWindow
)

func (k LimitKind) String() string {
	switch k {
	case TokenBucket:
		return "token bucket"
	case FixedWindow:
		return "fixed window"
	case SlidingWindow:
		return "sliding window"
	}
	return "LimitKind(" + strconv.Itoa(int(k)) + ")"
}

// HeaderStyle is which rate-limit headers a limiter sends with every answer.
type HeaderStyle int

// The header styles.
const (
	NoHeaders HeaderStyle = iota
	// IETFHeaders are RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (whole seconds until
	// the quota is whole again, rounded up) and RateLimit-Policy ("60;w=60"), as the IETF draft
	// 6 has them and express-rate-limit sends them with standardHeaders "draft-6".
	IETFHeaders
	// XHeaders are X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (the Unix time
	// of the reset in seconds, rounded up), as express-rate-limit's legacy headers, GitHub and
	// many others send them.
	XHeaders
	// Draft7Headers are RateLimit ("limit=60, remaining=59, reset=3", the reset in whole seconds
	// rounded up) and RateLimit-Policy ("60;w=60"), as express-rate-limit sends them with
	// standardHeaders "draft-7".
	Draft7Headers
)

// Limit describes a rate limiter. Its zero value limits nothing.
type Limit struct {
	Kind LimitKind

	// TokenBucket: Rate requests a second, Burst of them at once (1 when < 1). Tolerance accepts
	// a request that much earlier than its turn: a limiter that forgives arrival jitter.
	Rate      float64
	Burst     int
	Tolerance time.Duration

	// FixedWindow and SlidingWindow: N requests per Per.
	N   int
	Per time.Duration
	// FromFirst starts a FixedWindow with the first request after the one before ended, as
	// express-rate-limit's per-client window does, rather than on the clock.
	FromFirst bool

	// NoRetryAfter leaves the Retry-After header out of a 429.
	NoRetryAfter bool
	// RetryAfter, when set, is the Retry-After of every 429 whatever the wait, as a proxy
	// configured with a constant header sends it (HAProxy's deny ... hdr Retry-After 1).
	RetryAfter time.Duration
	// CountRefused counts a refused request as if accepted: a client that keeps sending while
	// refused pushes its own next acceptance further away.
	CountRefused bool
	// Headers adds rate-limit headers to every answer, 2xx and 429.
	Headers HeaderStyle

	// RivalRate and RivalFor are another client of the same limit: from the first request the
	// Limiter sees, it sends RivalRate requests a second, refused or not, for RivalFor, then
	// stops, as a colleague's run beside the night's would. Its requests count as any other's.
	RivalRate float64
	RivalFor  time.Duration
}

// String describes the limit in a few words, e.g. "token bucket 20/s burst 1".
func (l Limit) String() string {
	var s string
	switch l.Kind {
	case TokenBucket:
		s = fmt.Sprintf("token bucket %g/s burst %d", l.Rate, max(l.Burst, 1))
		if l.Tolerance > 0 {
			s += fmt.Sprintf(" tolerance %v", l.Tolerance)
		}
	case FixedWindow, SlidingWindow:
		s = fmt.Sprintf("%s %d per %v", l.Kind, l.N, l.Per)
		if l.FromFirst {
			s += " from the first request"
		}
	default:
		return "no limit"
	}
	if l.CountRefused {
		s += ", refused counted"
	}
	if l.NoRetryAfter {
		s += ", no Retry-After"
	} else if l.RetryAfter > 0 {
		s += fmt.Sprintf(", Retry-After %v always", l.RetryAfter)
	}
	if l.RivalRate > 0 {
		s += fmt.Sprintf(", a rival at %g/s for the first %v", l.RivalRate, l.RivalFor)
	}
	switch l.Headers {
	case IETFHeaders:
		s += ", RateLimit headers"
	case XHeaders:
		s += ", X-RateLimit headers"
	case Draft7Headers:
		s += ", RateLimit draft-7 headers"
	}
	return s
}

// PerSecond is the limit's sustained rate in requests a second.
func (l Limit) PerSecond() float64 {
	switch l.Kind {
	case TokenBucket:
		return l.Rate
	case FixedWindow, SlidingWindow:
		if l.Per > 0 {
			return float64(l.N) / l.Per.Seconds()
		}
	}
	return 0
}

// Limiter applies a Limit. It is safe for concurrent use; Server uses one, and a test can use
// one without a server, calling Admit with the time a request arrives.
type Limiter struct {
	mu  sync.Mutex
	l   Limit
	tat time.Time   // token bucket: the theoretical arrival time of the next request
	log []time.Time // windows: arrivals counted in the current window, oldest first
	win time.Time   // fixed window: start of the current window

	rivalNext, rivalEnd time.Time // the rival's next request, and when it stops
}

// NewLimiter returns a Limiter applying l.
func NewLimiter(l Limit) *Limiter {
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &Limiter{l: l}
}

// Limit returns the limit applied.
func (r *Limiter) Limit() Limit { return r.l }

// Admit decides a request arriving at now. It returns whether the request is accepted and the
// headers of the answer: Retry-After on a refusal (whole seconds, rounded up, as servers send
// it) unless NoRetryAfter, and the rate-limit headers of the Limit's style.
func (r *Limiter) Admit(now time.Time) (ok bool, h http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.l.Kind == 0 {
		return true, nil
	}
	r.rival(now)
	ok, wait, remaining, reset, limit := r.admit(now)
	h = make(http.Header)
	if !ok && !r.l.NoRetryAfter {
		if r.l.RetryAfter > 0 {
			wait = r.l.RetryAfter
		}
		h.Set("Retry-After", strconv.Itoa(ceilSeconds(wait)))
	}
	switch r.l.Headers {
	case IETFHeaders:
		h.Set("RateLimit-Limit", strconv.Itoa(limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(reset)))
		if w := r.window(); w > 0 {
			h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", limit, ceilSeconds(w)))
		}
	case XHeaders:
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		at := now.Add(reset)
		secs := at.Unix()
		if at.After(time.Unix(secs, 0)) {
			secs++ // rounded up, as express-rate-limit has it
		}
		h.Set("X-RateLimit-Reset", strconv.FormatInt(secs, 10))
	case Draft7Headers:
		h.Set("RateLimit", fmt.Sprintf("limit=%d, remaining=%d, reset=%d", limit, remaining, ceilSeconds(reset)))
		if w := r.window(); w > 0 {
			h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", limit, ceilSeconds(w)))
		}
	}
	return ok, h
}

// admit counts a request arriving at now: whether it is accepted, the wait until one would be
// when refused, the quota left and the limit, and the time until the quota is whole again.
func (r *Limiter) admit(now time.Time) (ok bool, wait time.Duration, remaining int, reset time.Duration, limit int) {
	switch r.l.Kind {
	case TokenBucket:
		ok, wait, remaining, reset = r.bucket(now)
		return ok, wait, remaining, reset, r.l.Burst
	case FixedWindow:
		ok, wait, remaining, reset = r.fixed(now)
	case SlidingWindow:
		ok, wait, remaining, reset = r.sliding(now)
	default:
		return true, 0, 0, 0, 0
	}
	return ok, wait, remaining, reset, r.l.N
}

// rival counts the rival's requests up to now, before the request arriving at now.
func (r *Limiter) rival(now time.Time) {
	if r.l.RivalRate <= 0 {
		return
	}
	if r.rivalNext.IsZero() {
		r.rivalNext, r.rivalEnd = now, now.Add(r.l.RivalFor)
	}
	interval := time.Duration(float64(time.Second) / r.l.RivalRate)
	for ; !r.rivalNext.After(now) && r.rivalNext.Before(r.rivalEnd); r.rivalNext = r.rivalNext.Add(interval) {
		r.admit(r.rivalNext)
	}
}

// window is the span the quota of the headers refers to.
func (r *Limiter) window() time.Duration {
	if r.l.Kind == TokenBucket {
		return time.Duration(float64(r.l.Burst) / r.l.Rate * float64(time.Second))
	}
	return r.l.Per
}

func ceilSeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

// bucket is GCRA: the next request is due at tat; it is accepted up to tolerance (the burst's
// worth of intervals, plus the Limit's Tolerance) before that.
func (r *Limiter) bucket(now time.Time) (ok bool, wait time.Duration, remaining int, reset time.Duration) {
	interval := time.Duration(float64(time.Second) / r.l.Rate)
	tolerance := time.Duration(r.l.Burst-1)*interval + r.l.Tolerance
	tat := r.tat
	if tat.Before(now) {
		tat = now
	}
	if earliest := tat.Add(-tolerance); now.Before(earliest) {
		if r.l.CountRefused {
			r.tat = tat.Add(interval)
		}
		wait = earliest.Sub(now)
		reset = r.tat.Sub(now)
		return false, wait, 0, reset
	}
	r.tat = tat.Add(interval)
	reset = r.tat.Sub(now)
	remaining = max(r.l.Burst-int(math.Ceil(float64(reset)/float64(interval))), 0)
	return true, 0, remaining, reset
}

func (r *Limiter) fixed(now time.Time) (ok bool, wait time.Duration, remaining int, reset time.Duration) {
	start := now.Truncate(r.l.Per)
	if r.l.FromFirst {
		start = r.win
		if r.win.IsZero() || !now.Before(r.win.Add(r.l.Per)) {
			start = now
		}
	}
	if !start.Equal(r.win) {
		r.win, r.log = start, r.log[:0]
	}
	reset = r.win.Add(r.l.Per).Sub(now)
	if len(r.log) >= r.l.N {
		return false, reset, 0, reset
	}
	r.log = append(r.log, now)
	return true, 0, r.l.N - len(r.log), reset
}

func (r *Limiter) sliding(now time.Time) (ok bool, wait time.Duration, remaining int, reset time.Duration) {
	start := now.Add(-r.l.Per)
	i := 0
	for i < len(r.log) && !r.log[i].After(start) {
		i++
	}
	r.log = r.log[i:]
	if len(r.log) >= r.l.N {
		// Room comes when the request N places back leaves the window.
		wait = r.log[len(r.log)-r.l.N].Sub(start)
		if r.l.CountRefused {
			r.log = append(r.log, now)
		}
		return false, wait, 0, r.log[len(r.log)-1].Add(r.l.Per).Sub(now)
	}
	r.log = append(r.log, now)
	return true, 0, r.l.N - len(r.log), r.log[len(r.log)-1].Add(r.l.Per).Sub(now)
}

// NamedLimit is a Limit with a short name for tables and test names.
type NamedLimit struct {
	Name string
	Limit
}

// Limits returns one limiter of every kind an API may have, all allowing perSecond requests a
// second sustained: token buckets of burst 1 and 10, strict or tolerating arrivals half an
// interval early; a bucket without Retry-After; fixed and sliding windows of 3 s (so that a run
// of seconds crosses several), counting refused requests or not; windows sending RateLimit or
// X-RateLimit headers; and express-rate-limit's windows, started by their first request, with
// its draft-7 or legacy headers.
func Limits(perSecond float64) []NamedLimit {
	tol := time.Duration(float64(time.Second) / perSecond / 2)
	n, per := int(3*perSecond), 3*time.Second
	return []NamedLimit{
		{"bucket-b1", Limit{Kind: TokenBucket, Rate: perSecond, Burst: 1}},
		{"bucket-b1-tol", Limit{Kind: TokenBucket, Rate: perSecond, Burst: 1, Tolerance: tol}},
		{"bucket-b10", Limit{Kind: TokenBucket, Rate: perSecond, Burst: 10}},
		{"bucket-b10-tol", Limit{Kind: TokenBucket, Rate: perSecond, Burst: 10, Tolerance: tol}},
		{"bucket-b1-noRA", Limit{Kind: TokenBucket, Rate: perSecond, Burst: 1, NoRetryAfter: true}},
		{"fixed-3s", Limit{Kind: FixedWindow, N: n, Per: per}},
		{"sliding-3s", Limit{Kind: SlidingWindow, N: n, Per: per}},
		{"sliding-3s-counted", Limit{Kind: SlidingWindow, N: n, Per: per, CountRefused: true}},
		{"fixed-3s-ietf", Limit{Kind: FixedWindow, N: n, Per: per, Headers: IETFHeaders}},
		{"sliding-3s-xhdr", Limit{Kind: SlidingWindow, N: n, Per: per, Headers: XHeaders}},
		{"express-3s-draft7", Limit{Kind: FixedWindow, N: n, Per: per, FromFirst: true, Headers: Draft7Headers}},
		{"express-3s-legacy", Limit{Kind: FixedWindow, N: n, Per: per, FromFirst: true, Headers: XHeaders}},
	}
}
