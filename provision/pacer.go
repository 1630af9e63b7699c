package provision

import (
	"context"
	"time"
)

// Pacer spaces the attempts of a Pool and hears how each ended, so that it can follow the
// server's rate limit. provision/pace implements it. Its methods are called from many
// goroutines.
type Pacer interface {
	// Wait blocks until an attempt may start and returns when it started; an error when ctx
	// is done first.
	Wait(ctx context.Context) (time.Time, error)
	// Observe hears the answer to an attempt that Wait let start. After a Throttled answer
	// (a 429) the Pacer holds every attempt: for its RetryAfter, or for less followed by one
	// probe when the RetryAfter looks like a shorter wait rounded up to a whole second. The
	// row that was refused waits out the RetryAfter itself before it waits on the Pacer.
	Observe(Answer)
}

// Answer is what a Pacer hears of one attempt.
type Answer struct {
	Sent       time.Time     // when the attempt started, as Wait returned it
	Action     Action        // what the pool does next: Done for a 2xx, Throttled for a 429
	HTTPStatus int           // status of the answer, 0 when none arrived
	RetryAfter time.Duration // the server's Retry-After, 0 when absent
	Quota      *Quota        // the server's rate-limit headers, nil when absent
}
