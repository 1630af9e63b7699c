package main

import (
	_ "embed"
	"strings"
)

// The long help and the examples of the two commands are prose an operator reads in --help,
// kept as text beside the code that prints them; each file ends with one line break.
var (
	//go:embed help/provision.txt
	provisionLong string
	//go:embed help/provision-example.txt
	provisionExample string
	//go:embed help/mail.txt
	mailLong string
	//go:embed help/mail-example.txt
	mailExample string
)

// helpText is a help file as cobra prints it: without the file's last line break.
func helpText(s string) string { return strings.TrimSuffix(s, "\n") }
