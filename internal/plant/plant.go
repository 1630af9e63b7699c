// Package plant makes, for a test, what another user of the machine could leave where the
// program writes: a symbolic link to a victim, a file of another user.
package plant

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// precious is what a victim holds.
const precious = "precious\n"

// Victim makes, beside at, a file that holds a few bytes with mode perm, plants at with how
// (Symlink, OtherUsers, or the test's own way to reach the victim from at), and returns a
// function that fails t unless the victim, wherever how left it, still holds those bytes with
// that mode: nothing was written or chmod'ed through what was planted.
func Victim(t *testing.T, how func(t *testing.T, victim, at string), at string, perm os.FileMode) (untouched func()) {
	t.Helper()
	victim := filepath.Join(filepath.Dir(at), "victim")
	if err := os.WriteFile(victim, []byte(precious), perm); err != nil {
		t.Fatal(err)
	}
	how(t, victim, at)
	if _, err := os.Lstat(victim); err != nil {
		victim = at // moved there, as OtherUsers does
	}
	return func() {
		t.Helper()
		b, err := os.ReadFile(victim)
		if err != nil || string(b) != precious {
			t.Errorf("victim = %q, %v: written through %s", b, err, at)
		}
		if st, err := os.Stat(victim); err == nil && runtime.GOOS != "windows" && st.Mode().Perm() != perm {
			t.Errorf("victim's mode = %v, want %v: chmod'ed through %s", st.Mode().Perm(), perm, at)
		}
	}
}

// Symlink plants at a symbolic link to victim. The test is skipped where there are none.
func Symlink(t *testing.T, victim, at string) {
	t.Helper()
	if err := os.Symlink(victim, at); err != nil {
		t.Skip("no symbolic links here:", err)
	}
}

// OtherUsers moves the file victim to at and gives it to another user (nobody, uid 65534).
// The test is skipped unless it runs as root, where files have owners.
func OtherUsers(t *testing.T, victim, at string) {
	t.Helper()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	if err := os.Rename(victim, at); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(at, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

// Each runs test as a subtest for each way there is to plant a file: Symlink and OtherUsers,
// given to test as how. The subtests run one after the other, not in parallel, so that when
// Each returns they are done and code the caller writes after it sees what they did.
func Each(t *testing.T, test func(t *testing.T, how func(t *testing.T, victim, at string))) {
	t.Helper()
	for _, w := range []struct {
		name string
		how  func(t *testing.T, victim, at string)
	}{{"a symbolic link", Symlink}, {"another user's file", OtherUsers}} {
		t.Run(w.name, func(t *testing.T) {
			test(t, w.how)
		})
	}
}
