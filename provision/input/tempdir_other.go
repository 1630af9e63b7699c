//go:build !unix

package input

// removeStaleTempDirs does nothing where a process cannot be looked up by its id.
func removeStaleTempDirs() {}
