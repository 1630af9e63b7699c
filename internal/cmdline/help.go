package cmdline

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// FlagGroup is a titled section of --help: the flags named, in that order.
type FlagGroup struct {
	Title string
	Names []string
}

// Group is the FlagGroup titled title, of the flags names.
func Group(title string, names ...string) FlagGroup { return FlagGroup{Title: title, Names: names} }

// GroupedUsage returns a usage function that prints the flags of cmd by group, in the order
// given, and any flag not named in a group at the end: the flags an operator needs first, the
// tuning after them.
func GroupedUsage(groups []FlagGroup) func(*cobra.Command) error {
	return func(cmd *cobra.Command) error {
		w := cmd.OutOrStderr()
		fmt.Fprintf(w, "Usage:\n  %s\n", cmd.UseLine())
		if cmd.HasAvailableSubCommands() {
			fmt.Fprintln(w, "\nCommands:")
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					fmt.Fprintf(w, "  %-12s %s\n", c.Name(), c.Short)
				}
			}
		}
		if cmd.Example != "" {
			fmt.Fprintf(w, "\nExample:\n%s\n", cmd.Example)
		}
		all := cmd.Flags()
		seen := map[string]bool{}
		for _, g := range groups {
			fs := pflag.NewFlagSet(g.Title, pflag.ContinueOnError)
			fs.SortFlags = false
			for _, n := range g.Names {
				if f := all.Lookup(n); f != nil && !f.Hidden {
					fs.AddFlag(f)
					seen[n] = true
				}
			}
			if fs.HasFlags() {
				fmt.Fprintf(w, "\n%s:\n%s", g.Title, fs.FlagUsagesWrapped(100))
			}
		}
		rest := pflag.NewFlagSet("other", pflag.ContinueOnError)
		all.VisitAll(func(f *pflag.Flag) {
			if !seen[f.Name] && !f.Hidden {
				rest.AddFlag(f)
			}
		})
		if rest.HasFlags() {
			fmt.Fprintf(w, "\nOther flags:\n%s", rest.FlagUsagesWrapped(100))
		}
		if cmd.HasAvailableSubCommands() {
			fmt.Fprintf(w, "\nUse \"%s [command] --help\" for more about a command.\n", cmd.CommandPath())
		}
		return nil
	}
}
