package main

import (
	"github.com/spf13/cobra"

	"github.com/ideanote-provision/ideanote-provision/internal/cmdline"
	"github.com/ideanote-provision/ideanote-provision/mail"
)

// completions is what the shell is offered for the arguments and flags of every command: files
// for the input and the report, the values of the flags that take one of a fixed set (with
// what each means), files or folders for the flags that name one.
var completions = cmdline.Completions{
	FileArgs: []string{"INPUT", "REPORT"},
	Values: map[string][]cobra.Completion{
		"progress":   {"auto\ta bar when stderr is a terminal", "always\ta bar in any case", "never\tno bar; a log line every 30 s"},
		"log-format": {"text\tkey=value lines", "json\tone JSON object a line"},
		"link":       {mail.LinkLogin + "\tthe web-app link", mail.LinkWidget + "\tthe widget link"},
		"delimiter":  {"auto\tfrom the header line", ",\tcomma", ";\tsemicolon", `\t` + "\ttab"},
		// The encodings HR exports come in; any WHATWG label is accepted.
		"encoding": {"utf-8", "utf-16le", "utf-16be", "windows-1252", "iso-8859-1", "iso-8859-15", "macintosh", "shift_jis", "gb18030"},
	},
	Files: map[string][]string{
		"report": {"csv"}, "state": nil, "api-token-file": nil, "smtp-password-file": nil,
		"metrics-file": {"prom"}, "template": nil, "html-template": nil, "mail-report": {"csv"},
	},
	Folders: map[string]bool{"out-dir": true, "mail-dir": true},
}
