package cmdline

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// OneArg takes exactly one argument; what says which in the error, beside the usage line.
func OneArg(what, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("expected %s, got %d: %s", what, len(args), usage)
		}
		return nil
	}
}

// UsageArgs makes the argument checks of c and of every command below it return usage errors:
// cobra's own (cobra.NoArgs...) are plain errors, which a program would not tell from a failed
// run.
func UsageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				var ce *provision.ConfigError
				if errors.As(err, &ce) {
					return err
				}
				return usagef("%w (see %s --help)", err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		UsageArgs(sub)
	}
}

// FlagError is a cobra FlagErrorFunc: a usage error that suggests the flag meant for an
// unknown one, and never echoes what was typed after an unknown shorthand (pflag's "unknown
// shorthand flag: 't' in -tSECRET" would print a token pasted there).
func FlagError(cmd *cobra.Command, err error) error {
	if msg, _, cut := strings.Cut(err.Error(), " in -"); cut && strings.HasPrefix(msg, "unknown shorthand flag") {
		return usagef("%s (see --help)", msg)
	}
	if name, hint := FlagSuggestion(cmd, err.Error()); hint != "" {
		return usagef("unknown flag %s: %s (see --help)", name, hint)
	}
	return usagef("%w (see --help)", err)
}
