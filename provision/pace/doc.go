// Package pace spaces the attempts of a provision.Pool on one schedule and finds the server's
// rate limit from its answers: the schedule is Pacer, the rate comes from a Policy (Finder by
// default), so that another policy can be tried and measured against it.
package pace
