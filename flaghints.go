package main

import (
	"errors"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/provision/input"
)

// inputFlags are the flags that set each input.Options field, by the field's name.
var inputFlags = map[string]string{"Encoding": "--encoding", "Map": "--map", "HeaderRow": "--header-row", "Sheet": "--sheet"}

// withFlags returns err with the input options it names spelled as this program's flags: the
// input package says "Give the encoding windows-1252", the operator reads "Give --encoding
// windows-1252". Any other error is returned as it is.
func withFlags(err error) error {
	fe, ok := errors.AsType[*input.FileError](err)
	if !ok {
		return err
	}
	flagged := fe.Text(func(option string) string {
		if f, ok := inputFlags[option]; ok {
			return f
		}
		return option
	})
	// Wrapped with %w, the input error's text ends the message.
	msg, ok := strings.CutSuffix(err.Error(), fe.Error())
	if !ok {
		return err
	}
	return &flaggedError{msg: msg + flagged, err: err}
}

// flaggedError is an error read with other words: its message, and its chain for errors.Is
// and errors.As.
type flaggedError struct {
	msg string
	err error
}

func (e *flaggedError) Error() string { return e.msg }
func (e *flaggedError) Unwrap() error { return e.err }
