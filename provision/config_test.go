package provision_test

import (
	"errors"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// TestConfigErrorNamesOptions checks that a ConfigError says its options in words, that Text
// names them as the caller does, a wrapped ConfigError's too, and that the chain is kept.
func TestConfigErrorNamesOptions(t *testing.T) {
	rate := provision.Option{Of: "mail", Field: "Rate", Words: "the rate"}
	resume := provision.Option{Of: "wave", Field: "Resume", Words: "resume"}
	cause := errors.New("the file is gone")
	inner := provision.Configf("%s must be at least 1 (%w)", rate, cause)
	err := provision.Configf("%s: %w", resume, inner)
	if got, want := err.Error(), "resume: the rate must be at least 1 (the file is gone)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	ce, _ := errors.AsType[*provision.ConfigError](err)
	flag := func(o provision.Option) string { return "--" + o.Of + "-" + o.Field }
	if got, want := ce.Text(flag), "--wave-Resume: --mail-Rate must be at least 1 (the file is gone)"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("%v does not wrap its cause", err)
	}
	plain := &provision.ConfigError{Err: errors.New("no options")}
	if got := plain.Text(flag); got != "no options" {
		t.Errorf("Text of a ConfigError without options = %q", got)
	}
}
