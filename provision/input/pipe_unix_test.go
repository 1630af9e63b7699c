//go:build unix

package input

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPipe reads a named pipe, as bash's <(iconv ...) gives, once and from the front.
func TestPipe(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.WriteString("email;name\nann@x.com;Ann\n")
	}()
	r, err := Open(path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows := readRows(t, r)
	if len(rows) != 1 || rows[0].User.Name != "Ann" {
		t.Errorf("rows %+v", rows)
	}
	if n, err := r.CountRows(context.Background()); n != 0 || err != nil {
		t.Errorf("CountRows = %d, %v: a pipe cannot be read twice", n, err)
	}
}
