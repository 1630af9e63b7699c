//go:build unix

package state

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestStoreSurvivesKill9 records rows in a child process that is then killed with SIGKILL
// before its batch is committed: the next Open knows every row recorded.
func TestStoreSurvivesKill9(t *testing.T) {
	t.Parallel()
	if path := os.Getenv("STATE_KILL9_HELPER"); path != "" {
		killHelper(path)
		return
	}
	if bootID() == "" {
		t.Skip("no boot id here: no journal is kept")
	}
	const n = 300
	path := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill9$")
	cmd.Env = append(os.Environ(), "STATE_KILL9_HELPER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != fmt.Sprintln("recorded", n) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if k := known(t, path, Options{Space: "sp"}, n); k != n {
		t.Errorf("after kill -9: %d of %d rows known", k, n)
	}
}

// killHelper is the child of TestStoreSurvivesKill9: it records rows, says so, and waits to
// be killed.
func killHelper(path string) {
	// Two batches committed, the last 44 rows not.
	s, err := Open(path, Options{Space: "sp", MaxBatch: 128, FlushInterval: time.Hour})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	const n = 300
	for i := range n {
		if err := s.Record(fmt.Sprintf("email:u%d@example.com", i), Entry{Fingerprint: fmt.Sprint("f", i), UserID: fmt.Sprint("id", i), At: time.Now()}); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
	fmt.Println("recorded", n)
	select {}
}
