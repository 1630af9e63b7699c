// Package provision reads people from a CSV file and upserts them into an Ideanote workspace
// through the custom-login session endpoint, paced by a shared rate limiter.
package provision
