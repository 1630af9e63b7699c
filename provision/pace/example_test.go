package pace_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/pace"
)

// errSlowDown stands for an SMTP server's "421 4.7.0 Try again later" or "450 4.7.1 rate
// limited": a refusal for going too fast, as HTTP's 429.
var errSlowDown = errors.New("421 4.7.0 too many messages, slow down")

// A caller that is not an HTTP pool, mail over SMTP here, paces through a Pacer as the pool
// does: Wait before each attempt, then Observe its outcome, once for every Wait that returned
// without an error (the Pacer may bound the attempts in flight by them). provision.Done says
// the server took it; provision.Throttled says it asked to slow down, with RetryAfter when it
// named a wait (0 when not): the pool pauses and the rate found comes down, as for a 429. Any
// other failure is provision.Fail, which changes no rate.
func ExamplePacer_nonHTTP() {
	p := pace.New(0, 1) // --rate 0: the server's limit is found from its answers
	send := func(i int) error {
		if i == 3 {
			return errSlowDown
		}
		return nil
	}
	for i := range 5 {
		sent, err := p.Wait(context.Background())
		if err != nil {
			return
		}
		a := provision.Answer{Sent: sent, Action: provision.Done}
		switch err := send(i); {
		case errors.Is(err, errSlowDown):
			a.Action, a.RetryAfter = provision.Throttled, 30*time.Second
		case err != nil:
			a.Action = provision.Fail
		}
		p.Observe(a)
		fmt.Println(i, a.Action)
		if a.Action == provision.Throttled {
			break // a real caller retries the message; every Wait now holds for the pause
		}
	}
	// Output:
	// 0 done
	// 1 done
	// 2 done
	// 3 throttled
}
