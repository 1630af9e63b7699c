package cmdline

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// SuggestCommand makes a root command that takes a file as its first argument say "unknown
// command mial: did you mean mail?" when that argument is no file but looks like a command:
// it took "mial run30.csv" for two input files.
func SuggestCommand(root *cobra.Command) {
	root.SuggestionsMinimumDistance = 2
	check := root.Args
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 && args[0] != "-" {
			if _, err := os.Stat(args[0]); err != nil {
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					return usagef("unknown command %s: did you mean %s? (see %s --help)", args[0], strings.Join(s, " or "), cmd.Name())
				}
			}
		}
		return check(cmd, args)
	}
}

// FlagSuggestion reads pflag's message msg about an unknown flag ("unknown flag: --subdomian")
// and returns the flag typed and "did you mean --subdomain?", or no suggestion when no flag of
// cmd is near it (or too many are): pflag suggests nothing. Both are "" for any other message.
func FlagSuggestion(cmd *cobra.Command, msg string) (name, suggestion string) {
	typed, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return "", ""
	}
	typed, _, _ = strings.Cut(typed, "=")
	var near []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := levenshtein(strings.ToLower(typed), f.Name); d <= maxFlagDistance(f.Name) || strings.HasPrefix(f.Name, typed) && len(typed) >= 3 {
			near = append(near, "--"+f.Name)
		}
	})
	if len(near) == 0 || len(near) > 3 {
		return "--" + typed, ""
	}
	return "--" + typed, "did you mean " + strings.Join(near, " or ") + "?"
}

// maxFlagDistance is how many edits from a flag's name a typo may be: two for a long name, one
// for a short one, so that --rate does not suggest --state.
func maxFlagDistance(name string) int {
	if len(name) <= 5 {
		return 1
	}
	return 2
}

// levenshtein is the number of edits (insert, delete, substitute a byte) from a to b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
