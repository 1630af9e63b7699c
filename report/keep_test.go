package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// statusByEmail reads the report at path as mail does, and returns each email's status.
func statusByEmail(t *testing.T, path string) map[string]string {
	t.Helper()
	lines, err := ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(lines))
	for _, l := range lines {
		out[l.Email] = l.Status
	}
	return out
}

// A resumed report never holds, on disk, fewer of the earlier ok rows than the files it
// replaces: a REPORT.tmp left by a killed resume is folded into the report before it is
// replaced, and Close writes the earlier ok rows this run gave no ok or skipped line.
func TestResumeKeepsEarlierRows(t *testing.T) {
	t.Parallel()
	links, err := NewLinks("acme", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	header := strings.Join(Columns, ",") + "\n"
	writeFile := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(path, header+
		"2,a@x.io,,A,,,ok,u1,t1,,,1,200,,2026-11-23T02:00:00Z\n"+
		"3,b@x.io,,B,,,failed,,,,,1,503,boom,\n"+
		"4,c@x.io,,C,,,ok,u3,t3,,,1,200,,2026-11-23T02:00:00Z\n")
	// The killed resume had sent b again, ok.
	writeFile(TempPath(path), header+"3,b@x.io,,B,,,ok,u2,t2,,,1,200,,2026-11-24T02:00:00Z\n")
	done, err := ReadBack(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, Resume, links, Keep(done))
	if err != nil {
		t.Fatal(err)
	}
	// While the run goes: everyone ok is in a file --resume reads.
	if got, err := ReadBack(path, nil); err != nil || len(got) != 3 {
		t.Errorf("after Create, %d rows ok readable (%v), want 3: a, b and c", len(got), err)
	}
	if got := statusByEmail(t, path); got["b@x.io"] != "skipped" || got["a@x.io"] != "skipped" || got["c@x.io"] != "skipped" {
		t.Errorf("the report holding the earlier rows while the run goes: %v", got)
	}
	// This run sends a again, which fails (its data changed), and reaches b; not c.
	ua := provision.User{Email: "a@x.io", Name: "A2"}
	if err := w.Write(provision.Result{Row: provision.Row{Line: 2, User: ua}, Status: provision.StatusFailed}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(done.mustSkip(t, provision.Row{Line: 3, User: provision.User{Email: "b@x.io", Name: "B"}})); err != nil {
		t.Fatal(err)
	}
	kept, err := w.WriteKept()
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].Row.User.Email != "a@x.io" || kept[1].Row.User.Email != "c@x.io" || kept[1].Row.Line != 4 {
		t.Errorf("kept %+v, want a's and c's earlier lines, by row", kept)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines, err := ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Email+" "+l.Status+" "+l.LoginURL)
	}
	want := []string{"a@x.io failed ", "b@x.io skipped https://acme.ideanote.io/login/session/t2",
		"a@x.io skipped https://acme.ideanote.io/login/session/t1", "c@x.io skipped https://acme.ideanote.io/login/session/t3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the resumed report:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(TempPath(path)); !os.IsNotExist(err) {
		t.Errorf("%s left behind (%v)", TempPath(path), err)
	}
}

func (s DoneSet) mustSkip(t *testing.T, row provision.Row) provision.Result {
	t.Helper()
	res, ok := s.Skip(row)
	if !ok {
		t.Fatalf("row %d not skipped", row.Line)
	}
	return res
}
