// Package ideanote talks to Ideanote's custom-login session endpoint: the Client that upserts
// one user and returns their session token, and Decide, the retry policy for its answers.
package ideanote
