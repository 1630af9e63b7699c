package testfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// recorder is a testing.TB that records a Fatal call instead of ending the test, so that the
// failure paths can be checked; the helpers return straight after calling Fatal.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }

func TestWriteRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := filepath.Join(dir, "text")
	Write(t, text, "a,b\n")
	bytes := filepath.Join(dir, "bytes")
	Write(t, bytes, []byte{0, 0xff, '\n'})
	if got := Read(t, text); got != "a,b\n" {
		t.Errorf("Read(text) = %q, want %q", got, "a,b\n")
	}
	if got := Read(t, bytes); got != "\x00\xff\n" {
		t.Errorf("Read(bytes) = %q, want %q", got, "\x00\xff\n")
	}
	Write(t, text, "")
	if got := Read(t, text); got != "" {
		t.Errorf("after writing nothing, Read = %q: the old content was not replaced", got)
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no owner-only modes")
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name  string
		write func(path string)
		want  os.FileMode
	}{
		{"Write", func(p string) { Write(t, p, "x") }, 0o600},
		{"WriteMode", func(p string) { WriteMode(t, p, "x", 0o640) }, 0o640},
		{"Temp", nil, 0o600},
	} {
		path := filepath.Join(dir, tt.name)
		if tt.write == nil {
			path = Temp(t, tt.name, "x")
		} else {
			tt.write(path)
		}
		// The umask can only clear bits, and a usual one (022, 002, 027) clears none of want's.
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != tt.want {
			t.Errorf("%s: %v, mode %v; want %v", tt.name, err, st.Mode().Perm(), tt.want)
		}
	}
}

func TestTemp(t *testing.T) {
	t.Parallel()
	a, b := Temp(t, "people.csv", "email\n"), Temp(t, "people.csv", []byte("name\n"))
	if filepath.Base(a) != "people.csv" || filepath.Base(b) != "people.csv" {
		t.Errorf("Temp paths %s, %s: want both named people.csv", a, b)
	}
	if filepath.Dir(a) == filepath.Dir(b) {
		t.Errorf("Temp wrote both files in %s, want a new directory each", filepath.Dir(a))
	}
	if got := Read(t, a); got != "email\n" {
		t.Errorf("Read(%s) = %q, want %q", a, got, "email\n")
	}
	if got := Read(t, b); got != "name\n" {
		t.Errorf("Read(%s) = %q, want %q", b, got, "name\n")
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing", "f")
	for _, tt := range []struct {
		name string
		call func(r *recorder)
	}{
		{"Write", func(r *recorder) { Write(r, missing, "x") }},
		{"WriteMode", func(r *recorder) { WriteMode(r, missing, "x", 0o644) }},
		{"Read", func(r *recorder) {
			if got := Read(r, missing); got != "" {
				t.Errorf("Read of a missing file = %q, want empty", got)
			}
		}},
	} {
		r := &recorder{TB: t}
		tt.call(r)
		if r.fatal == "" {
			t.Errorf("%s in a missing folder did not fail the test", tt.name)
		}
	}
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b", "a", ".c"} {
		Write(t, filepath.Join(dir, n), n)
	}
	if got := Names(t, dir); !slices.Equal(got, []string{".c", "a", "b"}) {
		t.Errorf("Names %q, want .c, a, b in order", got)
	}
	r := &recorder{}
	if Names(r, filepath.Join(dir, "missing")); r.fatal == "" {
		t.Error("Names of a missing folder did not fail the test")
	}
}
