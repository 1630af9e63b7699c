// Package pace spaces the attempts of a provision.Pool, or of any caller that sends to a
// rate-limited server (mail over SMTP too), on one schedule, and finds the server's rate limit
// from its answers: the schedule is Pacer, the rate comes from a Policy (Finder by default), so
// that another policy can be tried and measured against it. A caller waits with Pacer.Wait
// before each attempt and reports its outcome with Pacer.Observe: provision.Done when the
// server took it, provision.Throttled, with the wait it named if any, when it asked to slow
// down (HTTP 429, SMTP 421 or 450 4.7.x), provision.Fail otherwise.
package pace
