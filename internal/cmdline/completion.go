package cmdline

import (
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Completions says what the shell is offered for the arguments and flags of a command tree.
type Completions struct {
	// FileArgs are the words of usage lines that stand for a file (INPUT): a command whose usage
	// line names one is offered files for its first argument and nothing after it; any other
	// command that checks its arguments is offered nothing.
	FileArgs []string
	Values   map[string][]cobra.Completion // flags that take one of a fixed set, with what each means
	Files    map[string][]string           // flags that name a file, with the extensions to offer (none: any file)
	Folders  map[string]bool               // flags that name a folder
}

// Register tells the shell what to offer for the arguments and flags of c and of every
// command below it: files for a file argument and for the flags that name one, the values of
// the flags with a fixed set, and nothing for the others (a number or a URL is not a file
// name). A completion already registered is kept.
func (comp Completions) Register(c *cobra.Command) {
	if c.ValidArgsFunction == nil && c.Args != nil && c.Name() != "completion" && c.Name() != "help" {
		if slices.ContainsFunc(comp.FileArgs, func(w string) bool { return strings.Contains(c.Use, w) }) {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return nil, cobra.ShellCompDirectiveDefault
			}
		} else {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
	}
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if _, ok := c.GetFlagCompletionFunc(f.Name); ok || f.Value.Type() == "bool" {
			return
		}
		var fn cobra.CompletionFunc
		switch exts, isFile := comp.Files[f.Name]; {
		case comp.Values[f.Name] != nil:
			fn = cobra.FixedCompletions(comp.Values[f.Name], cobra.ShellCompDirectiveNoFileComp)
		case isFile && len(exts) > 0:
			fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return exts, cobra.ShellCompDirectiveFilterFileExt
			}
		case isFile:
			fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveDefault
			}
		case comp.Folders[f.Name]:
			fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveFilterDirs
			}
		default:
			fn = cobra.NoFileCompletions
		}
		_ = c.RegisterFlagCompletionFunc(f.Name, fn)
	})
	for _, sub := range c.Commands() {
		comp.Register(sub)
	}
}

// Completing reports whether args ask the shell's completion (cobra's hidden __complete).
func Completing(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// PlainWriter drops the backquotes that name a flag's value in --help (report `path`), which a
// shell would show as they are in the descriptions of its completions.
type PlainWriter struct{ W io.Writer }

// Write writes b to W without its backquotes, and counts them as written.
func (p PlainWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.W, strings.ReplaceAll(string(b), "`", "")); err != nil {
		return 0, err
	}
	return len(b), nil
}

// RefuseUnknownShells makes `completion SHELL` of root (cobra's default completion command)
// fail with a usage error for a shell that has no script: cobra printed the help and exited
// 0, and a script sourcing that output failed far from its cause.
func RefuseUnknownShells(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sub := range c.Commands() {
			shells = append(shells, sub.Name())
		}
		c.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("no completion script for %q; the shells: %s", args[0], strings.Join(shells, ", "))
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
}

// bashFallback goes before cobra's bash script: the script calls _get_comp_words_by_ref and
// _filedir, which the bash-completion package defines. Without it, it failed with
// "_get_comp_words_by_ref: command not found"; these minimal versions take the words as bash
// split them (--flag=value is completed as --flag value) and offer every file for a flag that
// names one. The package's own, when loaded, are kept.
const bashFallback = `# Minimal stand-ins for the bash-completion package's functions, when it is not installed.
if ! declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
_get_comp_words_by_ref() {
    while [[ $# -gt 0 && $1 == -* ]]; do
        case $1 in -n|-i|-w) shift 2 ;; *) shift ;; esac
    done
    local v
    for v in "$@"; do
        case $v in
        cur) cur=${COMP_WORDS[COMP_CWORD]} ;;
        prev) prev=${COMP_WORDS[COMP_CWORD-1]} ;;
        words) words=("${COMP_WORDS[@]}") ;;
        cword) cword=$COMP_CWORD ;;
        esac
    done
}
fi
if ! declare -F _filedir >/dev/null 2>&1; then
_filedir() {
    local IFS=$'\n'
    if [[ $1 == -d ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
fi

`

// BashWithoutPackage makes `completion bash` of root print stand-ins for the functions of the
// bash-completion package before cobra's script, so that the script works without it.
func BashWithoutPackage(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		for _, sh := range c.Commands() {
			if sh.Name() != "bash" || sh.RunE == nil {
				continue
			}
			sh.Long = strings.Replace(sh.Long, "This script depends on the 'bash-completion' package.\nIf it is not installed already, you can install it via your OS's package manager.",
				"The script uses the 'bash-completion' package when it is loaded, for --flag=value;\nwithout it, it completes --flag value, and offers every file where it would filter.", 1)
			script := sh.RunE
			sh.RunE = func(cmd *cobra.Command, args []string) error {
				if _, err := io.WriteString(cmd.OutOrStdout(), bashFallback); err != nil {
					return err
				}
				return script(cmd, args)
			}
		}
	}
}
