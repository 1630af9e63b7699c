package provision

import (
	"errors"
	"fmt"
)

// ConfigError is a mistake in a run's configuration (its options, an input or report it is
// pointed at), found before anything was sent. Both commands return it; the command line maps
// it to the exit status of a usage error.
//
// The options its message names are Option arguments of Configf: Error says them in words
// ("the rate must be ..."), Text as the caller names them (a command line, by its flags).
type ConfigError struct {
	Err    error // the message in words, and what it wraps
	format string
	args   []any
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Text is the message with each Option named by name, and so each Option of a ConfigError it
// wraps; a nil name says them in words, as Error does.
func (e *ConfigError) Text(name Namer) string {
	if e.format == "" {
		return e.Error()
	}
	args := make([]any, len(e.args))
	for i, a := range e.args {
		switch a := a.(type) {
		case Option:
			args[i] = name.Name(a)
		case *ConfigError:
			args[i] = errors.New(a.Text(name))
		default:
			args[i] = a
		}
	}
	return fmt.Errorf(e.format, args...).Error()
}

// Configf formats a ConfigError; %w wraps as in fmt.Errorf. An Option among args names an
// option of the run: %s or %v says it in words in Error, as the caller names it in Text.
func Configf(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...), format: format, args: args}
}

// Namer names an option as a caller does: a command line by its flag.
type Namer func(Option) string

// Name is o as n names it, or in words when n is nil: log lines that tell the operator what
// to do name options so.
func (n Namer) Name(o Option) string {
	if n == nil {
		return o.Words
	}
	return n(o)
}

// Option is an option of a run as a ConfigError names it: Field is the name of its Options
// field ("Rate"), Of the package whose Options these are ("mail"), so that a caller can
// name it as its own command line does, and Words what it is in words ("the rate").
type Option struct{ Of, Field, Words string }

// String is the option in words.
func (o Option) String() string { return o.Words }
