package provision

import "fmt"

// ConfigError is a mistake in a run's configuration (its options, an input or report it is
// pointed at), found before anything was sent. Both commands return it; the command line maps
// it to the exit status of a usage error.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Configf formats a ConfigError; %w wraps as in fmt.Errorf.
func Configf(format string, args ...any) error {
	return &ConfigError{fmt.Errorf(format, args...)}
}
