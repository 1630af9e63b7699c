package report

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// writeReport writes results as a report at a new path, with the change column and links on
// acme.ideanote.io and the widget w1, and returns it.
func writeReport(t testing.TB, results ...provision.Result) string {
	t.Helper()
	links, err := NewLinks("acme", "", "", "w1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := Create(path, New, links, WithChange())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func okResult(line int, u provision.User, token string) provision.Result {
	return provision.Result{Row: provision.Row{Line: line, User: u}, Status: provision.StatusOK, UserID: "u" + token, Token: token,
		Finished: time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)}
}

// TestFormulaGuardKeepsQuotedCells: a cell that starts with a quote before a formula's first
// character is read back as it was written. Stripping a quote only before =+-@ read
// '=victim@example.com back as =victim@example.com: mail went to another address, and on
// --resume the two people were one.
func TestFormulaGuardKeepsQuotedCells(t *testing.T) {
	t.Parallel()
	quoted, plain := "'=victim@example.com", "=victim@example.com"
	path := writeReport(t, okResult(2, provision.User{Email: quoted, Name: "'-x"}, "tokA"),
		okResult(3, provision.User{Email: plain}, "tokB"))

	lines, err := ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Email != quoted || lines[0].Name != "'-x" || lines[1].Email != plain {
		t.Errorf("mail reads %+v, want the emails %q and %q as written", lines, quoted, plain)
	}

	done, err := ReadBack(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || done[provision.EmailKey(quoted)].Token != "tokA" || done[provision.EmailKey(plain)].Token != "tokB" {
		t.Errorf("resume reads %+v, want two people, each with their own token", done)
	}
}

// FuzzReportRoundTrip: whatever a person's fields hold, the report gives them back as they
// were, formula guard or not. A line break inside a cell comes back as "\n" alone: a CSV
// reader reads a cell's "\r\n" as "\n", and no valid person holds a line break (the input
// refuses it).
func FuzzReportRoundTrip(f *testing.F) {
	for _, s := range []string{"", "'", "''", "'=x", "=x", "+1", "-", "@a", "\tx", "\rx", "a,b", `"q"`, "'\t", "x\r\ny"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, email, name string) {
		u := provision.User{Email: email, Sub: name, Name: name + email, Team: email, Locale: name}
		path := writeReport(t, okResult(2, u, "tok"))
		lines, err := ReadLines(path)
		if err != nil {
			t.Fatal(err)
		}
		done, err := ReadBack(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := u
		for _, f := range personFields {
			*f.Of(&want) = strings.ReplaceAll(*f.Of(&want), "\r\n", "\n")
		}
		if len(lines) != 1 || lines[0].User != want {
			t.Fatalf("ReadLines = %+v, want %+v", lines, want)
		}
		if d, ok := done[provision.EmailKey(want.Email)]; !ok || d.User.Sub != want.Sub || d.Token != "tok" {
			t.Fatalf("ReadBack = %+v, want %q with sub %q", done, want.Email, want.Sub)
		}
	})
}

// TestReadRecordsRefusesPlantedFiles: a report read back (for --resume, mail, the demo) is a
// regular file of this user. A link planted at a report's .tmp made --resume read whatever it
// pointed at; another user's file in a shared folder could feed a resume rows it never sent.
func TestReadRecordsRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	read := func(path string) error {
		return ReadRecords(path, "a report", nil, func(Record) error { return nil })
	}
	newReport := func(t *testing.T) string {
		return writeReport(t, okResult(2, provision.User{Email: "ana@example.com"}, "t1"))
	}
	if err := read(newReport(t)); err != nil {
		t.Fatalf("the report itself: %v", err)
	}
	plant.Each(t, func(t *testing.T, how func(t *testing.T, real, at string)) {
		at := filepath.Join(t.TempDir(), "r.csv")
		how(t, newReport(t), at)
		if err := read(at); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("%v, want it refused", err)
		}
	})
}

// A report saved by an editor that writes no newline after the last line keeps that line, for
// --resume and for mail; a last line cut short is dropped, and --resume is told which.
func TestLastLineWithoutNewline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	header := strings.Join(Columns, ",") + "\r\n"
	a := "2,a@x.io,,,,,ok,u1,tok1,https://acme.ideanote.io/login/session/tok1,,1,200,,2026-12-07T21:00:00Z\r\n"
	b := "3,b@x.io,,,,,ok,u2,tok2,https://acme.ideanote.io/login/session/tok2,,1,200,,2026-12-07T21:00:00Z"
	saved := filepath.Join(dir, "saved.csv")
	testfile.Write(t, saved, header+a+b)
	var cut []int
	set, err := ReadBack(saved, func(_ string, line int) { cut = append(cut, line) })
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ReadLines(saved)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := set["b@x.io"]; !ok || len(set) != 2 || len(lines) != 2 || lines[1].LoginURL == "" || cut != nil {
		t.Errorf("ReadBack: %d rows, ReadLines: %d lines, cut %v: want a and b's line whole", len(set), len(lines), cut)
	}
	short := filepath.Join(dir, "short.csv")
	testfile.Write(t, short, header+a+b[:40])
	set, err = ReadBack(short, func(_ string, line int) { cut = append(cut, line) })
	if err != nil {
		t.Fatal(err)
	}
	if lines, err = ReadLines(short); err != nil {
		t.Fatal(err)
	}
	if len(set) != 1 || len(lines) != 1 || !slices.Equal(cut, []int{3}) {
		t.Errorf("a line cut short: ReadBack %d rows, ReadLines %d lines, cut told %v; want 1, 1, [3]", len(set), len(lines), cut)
	}
}
