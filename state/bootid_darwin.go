package state

import "golang.org/x/sys/unix"

// bootID names this boot of the machine: the journal of another boot is not trusted.
func bootID() string {
	id, err := unix.Sysctl("kern.bootsessionuuid")
	if err != nil {
		return ""
	}
	return id
}
