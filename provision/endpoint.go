package provision

import (
	"context"
	"time"
)

// Endpoint creates or updates one user per call: the session endpoint, seen from the pool.
// provision/ideanote implements it over HTTP. Its methods are called from many goroutines.
type Endpoint interface {
	// Upsert creates or updates u and returns its session.
	Upsert(ctx context.Context, u User) (Session, error)
	// Decide says what the pool does after an attempt that returned err (nil for success).
	// ctx is the run's context: once it is done nothing is retried.
	Decide(ctx context.Context, err error) Verdict
}

// Session is what the endpoint returns for one upserted user.
type Session struct {
	UserID string
	Token  string // session token: a credential that logs the user in
	Quota  *Quota // the rate-limit headers of the answer, nil when it had none
}

// Action is what the pool does after one attempt.
type Action int

// The actions, from the best outcome to the worst.
const (
	Done      Action = iota // the row is ok
	Retry                   // try again after a backoff
	Throttled               // the server's rate limit (429): slow the whole pool, then try again
	Fail                    // the row failed; other rows go on
	Refused                 // the row failed for a reason that will fail every row (token, space, URL)
)

func (a Action) String() string {
	return [...]string{"done", "retry", "throttled", "fail", "refused"}[a]
}

// Verdict is the endpoint's reading of one attempt.
type Verdict struct {
	Action     Action
	RetryAfter time.Duration // the server's Retry-After, 0 when absent
	HTTPStatus int           // status of the answer, 0 when none arrived
	Quota      *Quota        // the rate-limit headers of the answer, nil when it had none
}

// Quota is what a server says of its rate limit in the headers of an answer
// (RateLimit-Limit/-Remaining/-Reset/-Policy of the IETF draft, or X-RateLimit-*).
type Quota struct {
	Limit     int           // requests allowed in a window
	Remaining int           // requests left in the current window
	Reset     time.Duration // until the quota is whole again (whole seconds, rounded up by servers)
	Window    time.Duration // the window's length when the server says it, else 0
}
