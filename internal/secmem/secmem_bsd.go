//go:build unix && !linux

package secmem

func disableCoreDumps() error { return noCoreFile() }
