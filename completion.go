package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ideanote-provision/ideanote-provision/mail"
)

// flagValues are the values of the flags that take one of a fixed set, with what each means,
// for the shell to offer instead of file names.
var flagValues = map[string][]cobra.Completion{
	"progress":   {"auto\ta bar when stderr is a terminal", "always\ta bar in any case", "never\tno bar; a log line every 30 s"},
	"log-format": {"text\tkey=value lines", "json\tone JSON object a line"},
	"link":       {mail.LinkLogin + "\tthe web-app link", mail.LinkWidget + "\tthe widget link"},
	"delimiter":  {"auto\tfrom the header line", ",\tcomma", ";\tsemicolon", `\t` + "\ttab"},
	// The encodings HR exports come in; any WHATWG label is accepted.
	"encoding": {"utf-8", "utf-16le", "utf-16be", "windows-1252", "iso-8859-1", "iso-8859-15", "macintosh", "shift_jis", "gb18030"},
}

// fileFlags are the flags that name a file or folder, with the extensions to offer (none for
// any file); folderFlags name a folder.
var (
	fileFlags = map[string][]string{
		"report": {"csv"}, "state": nil, "api-token-file": nil, "smtp-password-file": nil,
		"metrics-file": {"prom"}, "template": nil, "html-template": nil, "mail-report": {"csv"},
	}
	folderFlags = map[string]bool{"out-dir": true, "mail-dir": true}
)

// registerCompletions tells the shell what to offer for the arguments and flags of c and of
// every command below it: the input file at the root as after provision, the values of the
// flags with a fixed set, files for the flags that name one, and nothing for the others (a
// number or a URL is not a file name).
func registerCompletions(c *cobra.Command) {
	if c.ValidArgsFunction == nil && c.Args != nil && c.Name() != "completion" && c.Name() != "help" {
		if strings.Contains(c.Use, "INPUT") || strings.Contains(c.Use, "REPORT") {
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
		switch exts, isFile := fileFlags[f.Name]; {
		case flagValues[f.Name] != nil:
			fn = cobra.FixedCompletions(flagValues[f.Name], cobra.ShellCompDirectiveNoFileComp)
		case isFile && len(exts) > 0:
			fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return exts, cobra.ShellCompDirectiveFilterFileExt
			}
		case isFile:
			fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveDefault
			}
		case folderFlags[f.Name]:
			fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveFilterDirs
			}
		default:
			fn = cobra.NoFileCompletions
		}
		_ = c.RegisterFlagCompletionFunc(f.Name, fn)
	})
	for _, sub := range c.Commands() {
		registerCompletions(sub)
	}
}

// completing reports whether args ask the shell's completion (cobra's hidden __complete).
func completing(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// plainWriter drops the backquotes that name a flag's value in --help (report `path`), which a
// shell would show as they are in the descriptions of its completions.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, strings.ReplaceAll(string(b), "`", "")); err != nil {
		return 0, err
	}
	return len(b), nil
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

// bashWithoutPackage makes `completion bash` print bashFallback before cobra's script.
func bashWithoutPackage(root *cobra.Command) {
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
