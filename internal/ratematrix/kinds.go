package main

import (
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// kind is one limiter of the matrix, at the server's rate r (requests a second).
type kind struct {
	name  string
	limit func(r float64) provisiontest.Limit
}

func interval(r float64) time.Duration { return time.Duration(float64(time.Second) / r) }

// kinds are the limiters an API may have, as the matrix's rows. The windows are 3 s long, so
// that a run of 10 s crosses several of them.
var kinds = []kind{
	{"bucket-b1", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 1}
	}},
	{"bucket-b1-tol", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 1, Tolerance: interval(r) / 2}
	}},
	{"bucket-b10", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 10}
	}},
	{"bucket-b10-tol", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 10, Tolerance: interval(r) / 2}
	}},
	{"bucket-b1-noRA", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.TokenBucket, Rate: r, Burst: 1, NoRetryAfter: true}
	}},
	{"fixed-3s", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.FixedWindow, N: int(3 * r), Per: 3 * time.Second}
	}},
	{"sliding-3s", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: int(3 * r), Per: 3 * time.Second}
	}},
	{"sliding-3s-counted", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: int(3 * r), Per: 3 * time.Second, CountRefused: true}
	}},
	{"fixed-3s-ietf", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.FixedWindow, N: int(3 * r), Per: 3 * time.Second, Headers: provisiontest.IETFHeaders}
	}},
	{"sliding-3s-xhdr", func(r float64) provisiontest.Limit {
		return provisiontest.Limit{Kind: provisiontest.SlidingWindow, N: int(3 * r), Per: 3 * time.Second, Headers: provisiontest.XHeaders}
	}},
}
