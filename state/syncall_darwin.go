package state

import "syscall"

// syncFilesystems asks for every file's data to be written to disk, on every filesystem; on
// macOS sync(2) schedules the writes and may return before they are done.
func syncFilesystems() error { return syscall.Sync() }
