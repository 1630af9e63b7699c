// Package cmdline is the command-line plumbing that is not about any one command: --help by
// groups of flags, suggestions for a mistyped command or flag, argument checks, shell
// completion that works without the bash-completion package, and the reading of flags,
// environment variables and secret files. Its errors are *provision.ConfigError, which a
// program exits with as a usage error.
package cmdline

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// usagef formats a usage error, as the commands report their configuration errors.
var usagef = provision.Configf

// EnvString declares a string flag whose value, unless the flag is given, is the environment
// variable env's, or def when that is unset or empty. Its help shows def as the default, never
// the environment's value: --help would otherwise print a workspace id or a server's address
// as if built in.
func EnvString(fs *pflag.FlagSet, p *string, name, env, def, usage string, getenv func(string) string) {
	v := def
	if e := getenv(env); e != "" {
		v = e
	}
	fs.StringVar(p, name, v, usage)
	fs.Lookup(name).DefValue = def
}

// Version is the version stamped at build time (-ldflags "-X main.version=v1.2.3"), or, when
// none was ("dev"), the module's version that `go install module@v1.2.3` records.
func Version(stamped string) string {
	if stamped == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return stamped
}

// RefuseFlags returns the usage error refused[name] for the first flag of args named in
// refused, before anything parses args: cobra would echo an unknown flag's value in its error,
// and a flag that must never be given is one that holds a secret.
func RefuseFlags(args []string, refused map[string]string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if msg, ok := refused[name]; ok {
			return usagef("%s", msg)
		}
	}
	return nil
}

// FlagValue returns the value of the flag --name in args, def when it is not given. It reads
// args itself, for what must be known before, or while, the flags are parsed: the format of
// the error that a parse ends with, for one.
func FlagValue(args []string, name, def string) string {
	v := def
	for i, a := range args {
		if a == "--" {
			break
		}
		if s, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			v = s
		} else if a == "--"+name && i+1 < len(args) {
			v = args[i+1]
		}
	}
	return v
}

// OneOf checks that the value of flag is one of values: "--progress must be auto, always or
// never".
func OneOf(flag, value string, values ...string) error {
	for _, v := range values {
		if value == v {
			return nil
		}
	}
	list := values[len(values)-1]
	if len(values) > 1 {
		list = strings.Join(values[:len(values)-1], ", ") + " or " + list
	}
	return usagef("%s must be %s", flag, list)
}

// NewLogger returns a logger writing to w in format: "json" for one JSON object a line, key=value
// text otherwise.
func NewLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// ReadSecretFile reads the secret in the file at path, given by flag (what names the secret),
// trimmed by trim, and warns when other users can read the file. An error never echoes the
// path: a secret pasted in its place would be printed.
func ReadSecretFile(flag, what, path string, trim func(string) string, logWarn func(msg string, args ...any)) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", usagef("%s: cannot read the file: %w (give the path of a file that holds the %s)", flag, err, what)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		logWarn("the "+what+" file is readable by other users: chmod 600 it", "file", path, "mode", st.Mode().Perm().String())
	}
	secret := trim(string(b))
	if secret == "" {
		return "", usagef("%s %s is empty", flag, path)
	}
	return secret, nil
}

// SameFile reports whether a and b name one file, existing or not.
func SameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
