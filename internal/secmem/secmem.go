// Package secmem keeps secrets held in memory out of core dumps: a crash of a run that holds
// the API token, SMTP password and session tokens must not leave them in a file on disk.
package secmem

// DisableCoreDumps turns core dumps off for the rest of the process's life: the core size
// limit (soft and hard) goes to 0 and, on Linux, the process is marked not dumpable, which
// also keeps other processes of the same user from reading its memory through /proc or
// ptrace. Call it first thing, before any secret is read. On systems without these controls
// it does nothing and returns nil.
func DisableCoreDumps() error { return disableCoreDumps() }
