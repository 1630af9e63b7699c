//go:build !unix && !windows

package lock

import (
	"errors"
	"os"
)

func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locking is not supported on this system")
}

func unlockFile(*os.File) {}
