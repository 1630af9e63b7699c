//go:build !unix

package safefile

import (
	"io/fs"
	"os"
)

// Elsewhere (Windows) there is no O_NOFOLLOW: O_EXCL fails on a symbolic link all the same, and
// OpenExisting refuses one from a Lstat before it opens the file.
const (
	oNoFollow = 0
	oNonBlock = 0
)

// The owner and link count are not in a FileInfo here; Windows' ACLs are not checked.
func owner(fs.FileInfo) (int, bool)    { return 0, false }
func links(fs.FileInfo) (uint64, bool) { return 0, false }

// Windows' permission bits say nothing about who else may read a file.
func hasOwnerOnlyModes() bool { return false }

func clearNonBlock(*os.File) error { return nil }

// removeFile removes path (an empty folder too, were one put there since it was checked).
func removeFile(path string) error { return os.Remove(path) }

// SyncDir does nothing here: a rename is made durable by the system.
func SyncDir(string) error { return nil }
