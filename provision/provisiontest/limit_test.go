package provisiontest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	// Arrivals are offsets from a time on a whole minute, so that fixed windows start with them.
	tests := []struct {
		name   string
		limit  Limit
		at     []time.Duration
		want   string   // one letter an arrival: a accepted, r refused
		retry  []string // Retry-After of each refusal
		header string   // a header that every answer carries, when not ""
	}{
		{"bucket burst 1", Limit{Kind: TokenBucket, Rate: 10, Burst: 1},
			[]time.Duration{0, 100 * ms, 199 * ms, 300 * ms, 301 * ms}, "aarar", []string{"1", "1"}, ""},
		{"bucket burst 1 with tolerance", Limit{Kind: TokenBucket, Rate: 10, Burst: 1, Tolerance: 5 * ms},
			[]time.Duration{0, 96 * ms, 196 * ms, 294 * ms}, "aaar", []string{"1"}, ""},
		{"bucket burst 3", Limit{Kind: TokenBucket, Rate: 10, Burst: 3},
			[]time.Duration{0, 0, 0, 0, 100 * ms, 150 * ms}, "aaarar", []string{"1", "1"}, ""},
		{"bucket refused counted", Limit{Kind: TokenBucket, Rate: 10, Burst: 1, CountRefused: true},
			[]time.Duration{0, 50 * ms, 100 * ms, 299 * ms, 400 * ms}, "arrra", []string{"1", "1", "1"}, ""},
		{"bucket without Retry-After", Limit{Kind: TokenBucket, Rate: 10, NoRetryAfter: true},
			[]time.Duration{0, 10 * ms}, "ar", []string{""}, ""},
		{"bucket shared with a rival for 300 ms", Limit{Kind: TokenBucket, Rate: 10, Burst: 1, RivalRate: 10, RivalFor: 300 * ms},
			[]time.Duration{0, 50 * ms, 150 * ms, 350 * ms, 400 * ms, 500 * ms}, "rrrara", []string{"1", "1", "1", "1"}, ""},
		{"fixed window", Limit{Kind: FixedWindow, N: 2, Per: 3 * time.Second},
			[]time.Duration{0, 10 * ms, 20 * ms, 1500 * ms, 3000 * ms, 3001 * ms, 3002 * ms}, "aarraar", []string{"3", "2", "3"}, ""},
		{"sliding window", Limit{Kind: SlidingWindow, N: 3, Per: time.Second},
			[]time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 1050 * ms, 1100 * ms, 1150 * ms}, "aaaraar", []string{"1", "1"}, ""},
		{"sliding window refused counted", Limit{Kind: SlidingWindow, N: 2, Per: time.Second, CountRefused: true},
			[]time.Duration{0, 100 * ms, 500 * ms, 1050 * ms, 1450 * ms, 2600 * ms}, "aarrra", []string{"1", "1", "1"}, ""},
		{"fixed window, Retry-After 1 s always", Limit{Kind: FixedWindow, N: 2, Per: 3 * time.Second, RetryAfter: time.Second},
			[]time.Duration{0, 10 * ms, 20 * ms, 1500 * ms}, "aarr", []string{"1", "1"}, ""},
		{"IETF headers", Limit{Kind: FixedWindow, N: 2, Per: time.Minute, Headers: IETFHeaders},
			[]time.Duration{0, 1 * ms, 2 * ms}, "aar", []string{"60"}, "Ratelimit-Policy"},
		{"X headers", Limit{Kind: SlidingWindow, N: 2, Per: time.Minute, Headers: XHeaders},
			[]time.Duration{0, 1 * ms, 2 * ms}, "aar", []string{"60"}, "X-Ratelimit-Reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := NewLimiter(tt.limit)
			base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			var got strings.Builder
			var retry []string
			for _, at := range tt.at {
				ok, h := l.Admit(base.Add(at))
				if ok {
					got.WriteByte('a')
				} else {
					got.WriteByte('r')
					retry = append(retry, h.Get("Retry-After"))
				}
				if tt.header != "" && h.Get(tt.header) == "" {
					t.Errorf("answer at %v without %s: %v", at, tt.header, h)
				}
			}
			if got.String() != tt.want {
				t.Errorf("answers %s, want %s", got.String(), tt.want)
			}
			if strings.Join(retry, ",") != strings.Join(tt.retry, ",") {
				t.Errorf("Retry-After %q, want %q", retry, tt.retry)
			}
		})
	}
}

func TestLimiterHeaders(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(Limit{Kind: FixedWindow, N: 60, Per: time.Minute, Headers: IETFHeaders})
	_, h := l.Admit(base.Add(15 * time.Second))
	want := http.Header{"Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"59"}, "Ratelimit-Reset": {"45"}, "Ratelimit-Policy": {"60;w=60"}}
	for k, v := range want {
		if h.Get(k) != v[0] {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v[0])
		}
	}
	x := NewLimiter(Limit{Kind: FixedWindow, N: 60, Per: time.Minute, Headers: XHeaders})
	_, h = x.Admit(base.Add(15 * time.Second))
	if got, want := h.Get("X-RateLimit-Reset"), "1740830460"; got != want {
		t.Errorf("X-RateLimit-Reset = %s, want the Unix time of the next minute, %s", got, want)
	}
}

func TestServerLimit(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	s.SetLimit(Limit{Kind: FixedWindow, N: 1, Per: time.Hour, Headers: IETFHeaders})
	good := `{"spaceId":"` + DefaultSpaceID + `","kind":"CUSTOM","data":{"email":"a@example.com","apiToken":"` + DefaultAPIToken + `"}}`
	first := post(t, s, "application/json", good)
	second := post(t, s, "application/json", good)
	if first.StatusCode != 200 || first.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("first: %d, RateLimit-Remaining %q; want 200 and 0", first.StatusCode, first.Header.Get("RateLimit-Remaining"))
	}
	if second.StatusCode != 429 || second.Header.Get("Retry-After") == "" {
		t.Errorf("second: %d, Retry-After %q; want 429 with a Retry-After", second.StatusCode, second.Header.Get("Retry-After"))
	}
	s.SetLimit(Limit{})
	if got := post(t, s, "application/json", good).StatusCode; got != 200 {
		t.Errorf("after the limit is removed: %d", got)
	}
}

// The rate-limit headers, value for value, as express-rate-limit 8.7 sent them for a window of
// 3 per 3 s, its first request at 186 ms past a second (BENCHMARKS.md): the seconds until the
// reset rounded up, the Unix time of the reset rounded up.
func TestLimiterHeadersAsExpressRateLimit(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) // Unix 1740830400
	at := []time.Duration{186 * ms, 520 * ms, 850 * ms, 1300 * ms}
	for _, tt := range []struct {
		style HeaderStyle
		names []string
		want  []string // per arrival, the values of names joined by " | "
	}{
		{Draft7Headers, []string{"Ratelimit", "Ratelimit-Policy", "Retry-After"}, []string{
			"limit=3, remaining=2, reset=3 | 3;w=3 | ",
			"limit=3, remaining=1, reset=3 | 3;w=3 | ",
			"limit=3, remaining=0, reset=3 | 3;w=3 | ",
			"limit=3, remaining=0, reset=2 | 3;w=3 | 2",
		}},
		{IETFHeaders, []string{"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset", "Ratelimit-Policy", "Retry-After"}, []string{
			"3 | 2 | 3 | 3;w=3 | ",
			"3 | 1 | 3 | 3;w=3 | ",
			"3 | 0 | 3 | 3;w=3 | ",
			"3 | 0 | 2 | 3;w=3 | 2",
		}},
		{XHeaders, []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Retry-After"}, []string{
			"3 | 2 | 1740830404 | ",
			"3 | 1 | 1740830404 | ",
			"3 | 0 | 1740830404 | ",
			"3 | 0 | 1740830404 | 2",
		}},
	} {
		// A window of 3 per 3 s started by its first request, as express-rate-limit's is,
		// resets 3 s after it: at 3.186 s, rounded up to 4.
		l := NewLimiter(Limit{Kind: FixedWindow, N: 3, Per: 3 * time.Second, FromFirst: true, Headers: tt.style})
		for i, d := range at {
			_, h := l.Admit(base.Add(d))
			var got []string
			for _, n := range tt.names {
				got = append(got, h.Get(n))
			}
			if g := strings.Join(got, " | "); g != tt.want[i] {
				t.Errorf("%v, arrival %d: %q, want %q", tt.style, i, g, tt.want[i])
			}
		}
	}
}
