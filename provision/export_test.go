package provision

import (
	"context"
	"time"
)

// Hooks for the external tests of this package (package provision_test), which drive the pool
// through provision/ideanote and so cannot live inside package provision.

// SetPoolSleep replaces the waits between a pool's attempts.
func SetPoolSleep(p *Pool, sleep func(context.Context, time.Duration) error) { p.sleep = sleep }
