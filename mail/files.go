package mail

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// fileWriter writes each message as an RFC 5322 .eml file in a folder, instead of sending it.
type fileWriter struct{ dir string }

// prepareOutDir makes the folder of the .eml files, readable by its owner only: every file in
// it logs somebody in. It reports whether a folder already there is open to others.
// A link, or another user's folder, is refused: the messages would land where someone else
// decides. The temporary .eml files that a run killed while it wrote them left there, each a
// whole message, are removed once safefile.StaleAge old: nothing keeps another mail run off
// the folder, so a younger one may be that run's in flight.
func prepareOutDir(dir string) (open bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	if err := safefile.CheckDir(dir); err != nil {
		return false, err
	}
	isEML := func(name string) bool { return strings.HasSuffix(name, ".eml") }
	if err := safefile.RemoveStaleIn(dir, safefile.StaleAge, isEML); err != nil {
		return false, fmt.Errorf("removing what a killed run left in %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return false, err
	}
	return st.Mode().Perm()&0o077 != 0, nil
}

// EMLName is the file name of a person's message in an --out-dir: the row, then the email
// with the characters a file system may not take replaced.
func EMLName(row int, email string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._+-", r) {
			return r
		}
		return '_'
	}, email)
	return fmt.Sprintf("%06d-%s.eml", row, safe)
}

func (w fileWriter) deliver(_ context.Context, m *outgoing) error {
	var b bytes.Buffer
	if _, err := m.msg.WriteTo(&b); err != nil {
		return err
	}
	// Written whole under a private name, then renamed: a file there is a complete message, and
	// a file in the way that is not ours (a symbolic link, another user's) is refused.
	if err := safefile.WriteFile(filepath.Join(w.dir, EMLName(m.job.row, m.job.email)), b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("writing the .eml file: %w", err)
	}
	return nil
}

func (fileWriter) close() {}

// renderer renders each message and sends nothing: a dry run. The first message goes to out
// as a person would read it, or, when to is set, the messages of the people in it (by
// provision.EmailKey).
type renderer struct {
	out     io.Writer
	to      map[string]bool
	printed bool
}

func (r *renderer) deliver(_ context.Context, m *outgoing) error {
	var b bytes.Buffer
	if _, err := m.msg.WriteTo(&b); err != nil {
		return err
	}
	what := "the first message"
	switch {
	case r.to != nil:
		if !r.to[provision.EmailKey(m.job.email)] {
			return nil
		}
		what = "the message"
	case r.printed:
		return nil
	}
	r.printed = true
	fmt.Fprintf(r.out, "--- %s (row %d), as %s would read it ---\n", what, m.job.row, m.job.email)
	if err := Preview(r.out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "--- end of %s ---\n", what)
	return nil
}

func (*renderer) close() {}
