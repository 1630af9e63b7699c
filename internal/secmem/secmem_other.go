//go:build !unix

package secmem

func disableCoreDumps() error { return nil }
