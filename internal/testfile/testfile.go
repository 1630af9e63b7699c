// Package testfile writes and reads the small files tests set up and check, failing the test
// on any error so that a call site is one line, not four.
package testfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes content to path with mode 0600, and fails t if it cannot.
func Write[C ~string | ~[]byte](t testing.TB, path string, content C) {
	t.Helper()
	WriteMode(t, path, content, 0o600)
}

// WriteMode is Write with the mode perm, exactly, whatever the umask: for a file that should
// look like one the user or another program left, such as a world-readable metrics file.
func WriteMode[C ~string | ~[]byte](t testing.TB, path string, content C, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// Temp writes content to a file called name in a new temporary directory, removed when the
// test ends, and returns the file's path.
func Temp[C ~string | ~[]byte](t testing.TB, name string, content C) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	Write(t, path, content)
	return path
}

// Read returns what the file at path holds, and fails t if it cannot be read.
func Read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Names returns the names of what dir holds, sorted, and fails t if it cannot be read.
func Names(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
