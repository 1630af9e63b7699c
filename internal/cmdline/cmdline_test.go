package cmdline

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// isUsage reports whether err is a usage error: a program exits 2 for it.
func isUsage(err error) bool {
	_, ok := errors.AsType[*provision.ConfigError](err)
	return ok
}

func TestFlagValue(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "text"},
		{[]string{"in.csv", "--log-format", "json"}, "json"},
		{[]string{"--log-format=json", "in.csv"}, "json"},
		{[]string{"--log-format"}, "text"},
		{[]string{"--", "--log-format=json"}, "text"},
		{[]string{"--log-formats=json"}, "text"},
	} {
		if got := FlagValue(tt.args, "log-format", "text"); got != tt.want {
			t.Errorf("FlagValue(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestRefuseFlags(t *testing.T) {
	refused := map[string]string{"token": "never a flag"}
	for _, args := range [][]string{{"--token=x"}, {"in.csv", "-token", "x"}, {"--token"}} {
		if err := RefuseFlags(args, refused); !isUsage(err) || err.Error() != "never a flag" {
			t.Errorf("RefuseFlags(%q) = %v, want the usage error never a flag", args, err)
		}
	}
	for _, args := range [][]string{nil, {"--token-file", "x"}, {"token"}, {"--", "--token=x"}} {
		if err := RefuseFlags(args, refused); err != nil {
			t.Errorf("RefuseFlags(%q) = %v, want nil", args, err)
		}
	}
}

func TestOneOf(t *testing.T) {
	if err := OneOf("--progress", "never", "auto", "always", "never"); err != nil {
		t.Errorf("a value of the set: %v", err)
	}
	for _, tt := range []struct {
		values []string
		want   string
	}{
		{[]string{"auto", "always", "never"}, "--f must be auto, always or never"},
		{[]string{"text", "json"}, "--f must be text or json"},
		{[]string{"on"}, "--f must be on"},
	} {
		err := OneOf("--f", "x", tt.values...)
		if !isUsage(err) || err.Error() != tt.want {
			t.Errorf("OneOf(%q) = %v, want the usage error %q", tt.values, err, tt.want)
		}
	}
}

func TestEnvString(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	getenv := func(k string) string { return env[k] }
	for name, want := range map[string]string{"SET": "v", "EMPTY": "def", "UNSET": "def"} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var got string
		EnvString(fs, &got, "f", name, "def", "usage", getenv)
		if got != want {
			t.Errorf("EnvString(%s) = %q, want %q", name, got, want)
		}
		if usage := fs.FlagUsages(); !strings.Contains(usage, `(default "def")`) || strings.Contains(usage, `"v"`) {
			t.Errorf("EnvString(%s): help %q, want the built-in default and not the environment's value", name, usage)
		}
		if err := fs.Parse([]string{"--f", "given"}); err != nil || got != "given" {
			t.Errorf("EnvString(%s) given --f: %q, %v; want the flag's value", name, got, err)
		}
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var warned []string
	warn := func(msg string, _ ...any) { warned = append(warned, msg) }

	got, err := ReadSecretFile("--token-file", "token", write("private", " s3cret\n", 0o600), strings.TrimSpace, warn)
	if err != nil || got != "s3cret" || len(warned) != 0 {
		t.Errorf("a private file: %q, %v, warnings %q", got, err, warned)
	}
	if _, err := ReadSecretFile("--token-file", "token", write("shared", "s3cret", 0o644), strings.TrimSpace, warn); err != nil || len(warned) != 1 {
		t.Errorf("a file others can read: %v, warnings %q, want one", err, warned)
	}
	if _, err := ReadSecretFile("--token-file", "token", write("empty", " \n", 0o600), strings.TrimSpace, warn); !isUsage(err) || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("an empty file: %v", err)
	}
	// A secret pasted where the path goes is never echoed.
	_, err = ReadSecretFile("--token-file", "token", "pasted-SECRET", strings.TrimSpace, warn)
	if !isUsage(err) || strings.Contains(err.Error(), "SECRET") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{a, a, true},
		{filepath.Join(dir, ".", "new"), filepath.Join(dir, "new"), true}, // not there yet
		{a, link, true},
		{a, filepath.Join(dir, "b"), false},
	} {
		if got := SameFile(tt.a, tt.b); got != tt.want {
			t.Errorf("SameFile(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	NewLogger("json", &b).Info("hi")
	if !strings.HasPrefix(b.String(), `{"time":`) {
		t.Errorf("json: %q", b.String())
	}
	b.Reset()
	NewLogger("text", &b).Info("hi")
	if !strings.HasPrefix(b.String(), "time=") {
		t.Errorf("text: %q", b.String())
	}
}

func TestVersion(t *testing.T) {
	// A test binary records no module version: "dev" stays.
	for _, v := range []string{"v1.2.3", "dev"} {
		if got := Version(v); got != v {
			t.Errorf("Version(%q) = %q", v, got)
		}
	}
}
