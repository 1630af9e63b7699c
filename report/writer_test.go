package report

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestWriterLines(t *testing.T) {
	links, err := NewLinks("acme", "", "", "w1")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		res  provision.Result
		want string
	}{
		{"ok", provision.Result{Row: provision.Row{Line: 2, User: provision.User{Email: "ana@example.com", Sub: "E1", Name: "Ana López", Team: "R&D", Locale: "es-ES"}},
			Status: provision.StatusOK, UserID: "u1", Token: "tok_1", Attempts: 2, HTTPStatus: 200, Finished: at},
			"2,ana@example.com,E1,Ana López,R&D,es-ES,ok,u1,tok_1,https://acme.ideanote.io/login/session/tok_1," +
				"https://idea-widget.ideanote.io/idea-confirmation?config=w1&auth.sessionToken=tok_1,2,200,,2026-11-23T02:00:00Z"},
		{"invalid, name with comma", provision.Result{Row: provision.Row{Line: 7, User: provision.User{Email: "x", Name: "Doe, J"}},
			Status: provision.StatusInvalid, Err: errors.New("row 7: email: \"x\" is not a valid email address"), Finished: at},
			`7,x,,"Doe, J",,,invalid,,,,,,,"row 7: email: ""x"" is not a valid email address",2026-11-23T02:00:00Z`},
		{"formulas neutralised", provision.Result{Row: provision.Row{Line: 3, User: provision.User{Email: "b@example.com", Name: "=HYPERLINK(\"http://evil\")", Team: "+1", Locale: "-x"}},
			Status: provision.StatusFailed, Attempts: 6, HTTPStatus: 503, Err: errors.New("@SUM(1)\nsecond line")},
			`3,b@example.com,,"'=HYPERLINK(""http://evil"")",'+1,'-x,failed,,,,,6,503,'@SUM(1) second line,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.csv")
			w, err := Create(path, New, links)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(tt.res); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(testfile.Read(t, path), "\n"), "\n")
			if want := strings.Join(Columns, ","); lines[0] != want {
				t.Errorf("header = %q, want %q", lines[0], want)
			}
			if len(lines) != 2 || lines[1] != tt.want {
				t.Errorf("line = %q\nwant   %q", lines[1:], tt.want)
			}
		})
	}
}

func TestCreateModes(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" when no file is there
		perm     os.FileMode
		mode     Mode
		wantErr  error
	}{
		{name: "new file", mode: New},
		{name: "existing, not replaced", existing: "old\n", perm: 0o644, mode: New, wantErr: ErrExists},
		{name: "overwrite narrows the mode", existing: "old\n", perm: 0o644, mode: Overwrite},
		{name: "resume writes beside it", existing: "old\n", perm: 0o644, mode: Resume},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.csv")
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), tt.perm); err != nil {
					t.Fatal(err)
				}
			}
			w, err := Create(path, tt.mode, Links{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if b, _ := os.ReadFile(path); string(b) != tt.existing {
					t.Errorf("the existing report was changed to %q", b)
				}
				return
			}
			if tt.mode == Resume {
				if b, _ := os.ReadFile(path); string(b) != tt.existing {
					t.Errorf("resume changed the old report before Close: %q", b)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, want 0600", st.Mode().Perm())
			}
			if _, err := os.Stat(TempPath(path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind (%v)", TempPath(path), err)
			}
		})
	}
}

func TestReadBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	content := strings.Join(Columns, ",") + "\n" +
		"2,Ana@Example.com,E1,Ana,,,ok,u1,t1,,,1,200,,2026-11-23T02:00:00Z\n" +
		"3,bob@example.com,,Bob,,,failed,,,,,6,503,boom,\n" +
		"4,'-carl@example.com,,Carl,,,skipped,u3,t3,,,,,,\n" +
		"5,dan@example.com,,Dan,,,ok,u4,t4,,,1" // cut short by a crash
	testfile.Write(t, path, content)
	var cut []string
	done, err := ReadBack(path, func(p string, line int) { cut = append(cut, fmt.Sprintf("%s:%d", filepath.Base(p), line)) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"r.csv:5"}; !slices.Equal(cut, want) {
		t.Errorf("cut lines told: %q, want %q", cut, want)
	}
	want := map[string]string{"ana@example.com": "t1", "-carl@example.com": "t3"}
	if len(done) != len(want) {
		t.Errorf("read back %d rows, want %d: %v", len(done), len(want), done)
	}
	for k, tok := range want {
		if done[k].Token != tok {
			t.Errorf("row %q: token %q, want %q", k, done[k].Token, tok)
		}
	}
	if _, err := ReadBack(filepath.Join(dir, "missing.csv"), nil); err != nil {
		t.Errorf("a missing report: %v, want an empty set", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	testfile.Write(t, bad, "email,name\na@b.c,A\n")
	if _, err := ReadBack(bad, nil); err == nil || !strings.Contains(err.Error(), "not a report") {
		t.Errorf("a file that is not a report: %v", err)
	}
}

// linesOf returns the lines of the report at path as mail reads them, one "email status
// login_url" a line.
func linesOf(t *testing.T, path string) string {
	t.Helper()
	lines, err := ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.Email+" "+l.Status+" "+l.LoginURL)
	}
	return strings.Join(out, "\n")
}

// earlierReport writes the report of an earlier run in a new folder, a and c ok, b failed,
// and returns the links of acme's, its path and the header line it begins with.
func earlierReport(t *testing.T) (links Links, path, header string) {
	t.Helper()
	links, err := NewLinks("acme", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "r.csv")
	header = strings.Join(Columns, ",") + "\n"
	testfile.Write(t, path, header+
		"2,a@x.io,,A,,,ok,u1,t1,,,1,200,,2026-11-23T02:00:00Z\n"+
		"3,b@x.io,,B,,,failed,,,,,1,503,boom,\n"+
		"4,c@x.io,,C,,,ok,u3,t3,,,1,200,,2026-11-23T02:00:00Z\n")
	return links, path, header
}

// A resumed report never holds, on disk, fewer of the earlier ok rows than the files it
// replaces: a REPORT.tmp left by a killed resume is folded into the report before it is
// replaced, and Close writes the earlier ok rows this run gave no ok or skipped line.
func TestResumeKeepsEarlierRows(t *testing.T) {
	t.Parallel()
	links, path, header := earlierReport(t)
	// The killed resume had sent b again, ok.
	testfile.Write(t, TempPath(path), header+"3,b@x.io,,B,,,ok,u2,t2,,,1,200,,2026-11-24T02:00:00Z\n")
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
	const link = "https://acme.ideanote.io/login/session/"
	if got, want := linesOf(t, path), "a@x.io skipped "+link+"t1\nb@x.io skipped "+link+"t2\nc@x.io skipped "+link+"t3"; got != want {
		t.Errorf("the report while the run goes:\n%s\nwant\n%s", got, want)
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
	if got, want := linesOf(t, path), "a@x.io failed \nb@x.io skipped "+link+"t2\na@x.io skipped "+link+"t1\nc@x.io skipped "+link+"t3"; got != want {
		t.Errorf("the resumed report:\n%s\nwant\n%s", got, want)
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

func TestModeFor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	tests := []struct {
		name              string
		leftOver          bool
		resume, overwrite bool
		want              Mode
		wantErr           error
	}{
		{"new", false, false, false, New, nil},
		{"resume", false, true, false, Resume, nil},
		{"overwrite", false, false, true, Overwrite, nil},
		{"left over, neither", true, false, false, New, ErrLeftOver},
		{"left over, resume", true, true, false, Resume, nil},
		{"left over, overwrite", true, false, true, Overwrite, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(TempPath(path))
			if tt.leftOver {
				testfile.Write(t, TempPath(path), "row\n")
			}
			got, err := ModeFor(path, tt.resume, tt.overwrite)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("ModeFor = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestFailedFoldLeavesAResumableReport: a fold that fails leaves the files of the interrupted
// resume as every reader takes them: REPORT and REPORT.tmp, which only --resume (or
// --overwrite) goes on from, and mail refuses until then. A fold that fails before its rename
// leaves both as they were (safefile.Replace removes its own file); one that fails after it
// (syncing the folder), or a Create that fails after the fold, leaves the folded REPORT beside
// the old REPORT.tmp, which read back the same rows, and the resume then goes on as usual.
func TestFailedFoldLeavesAResumableReport(t *testing.T) {
	t.Parallel()
	links, path, header := earlierReport(t)
	testfile.Write(t, TempPath(path), header+
		"3,b@x.io,,B,,,ok,u2,t2,,,1,200,,2026-11-24T02:00:00Z\n"+
		"2,a@x.io,,A2,,,failed,,,,,1,503,boom,\n")
	tokens := func(s DoneSet) map[string]string {
		m := make(map[string]string)
		for k, d := range s {
			m[k] = fmt.Sprint(d.Row, " ", d.Token)
		}
		return m
	}
	before, err := ReadBack(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The furthest a failed Create gets: the report folded, then an error.
	w := &Writer{Links: links, keep: before}
	if err := w.fold(path, Columns); err != nil {
		t.Fatal(err)
	}
	if _, err := ModeFor(path, false, false); !errors.Is(err, ErrLeftOver) {
		t.Errorf("ModeFor without --resume: %v, want %v", err, ErrLeftOver)
	}
	after, err := ReadBack(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tokens(after), tokens(before); !maps.Equal(got, want) {
		t.Errorf("read back after the failed fold: %v, want %v as before it", got, want)
	}
	// The resume run again: everyone ok is in the report, one file left.
	w, err = Create(path, Resume, links, Keep(after))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const link = "https://acme.ideanote.io/login/session/"
	if got, want := linesOf(t, path), "a@x.io skipped "+link+"t1\nb@x.io skipped "+link+"t2\nc@x.io skipped "+link+"t3"; got != want {
		t.Errorf("the resumed report:\n%s\nwant\n%s", got, want)
	}
	if names := testfile.Names(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("left in the folder: %q, want only the report", names)
	}
}

// TestCreateRemovesWhatAKilledFoldLeft: a run killed (kill -9, a power cut) while it folded a
// REPORT.tmp into the report leaves, beside both, the fold's temporary file, every ok row and
// link in it. The next run of the report, holding its lock, removes it whatever its age and in
// every mode; a symbolic link under such a name, and another file's temporary, stay.
func TestCreateRemovesWhatAKilledFoldLeft(t *testing.T) {
	t.Parallel()
	header := strings.Join(Columns, ",") + "\n"
	line := "2,a@x.io,,A,,,ok,u1,t1,,,1,200,,2026-11-23T02:00:00Z\n"
	for name, mode := range map[string]Mode{"new": New, "resume": Resume, "overwrite": Overwrite} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "r.csv")
			if mode != New {
				testfile.Write(t, path, header+line)
				testfile.Write(t, TempPath(path), header)
			}
			testfile.Write(t, filepath.Join(dir, ".r.csv.123456.tmp"), header+line) // just written: the kill came before the rename
			testfile.Write(t, filepath.Join(dir, ".other.csv.123456.tmp"), header+line)
			testfile.Write(t, filepath.Join(dir, "victim"), "precious")
			if err := os.Symlink("victim", filepath.Join(dir, ".r.csv.7.tmp")); err != nil {
				t.Skip(err)
			}
			var opts []Option
			if mode == Resume {
				done, err := ReadBack(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, Keep(done))
			}
			w, err := Create(path, mode, Links{}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var got []string
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				got = append(got, e.Name())
			}
			if want := []string{".other.csv.123456.tmp", ".r.csv.7.tmp", "r.csv", "victim"}; !slices.Equal(got, want) {
				t.Errorf("left in the folder: %q, want %q", got, want)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "victim")); string(b) != "precious" {
				t.Errorf("victim = %q: written through", b)
			}
		})
	}
}

// A folder the run may write but not list (mode 0300) gets its report: Create finds no
// temporary to remove there, and goes on (review 6: it refused the run).
func TestCreateInAFolderItCannotList(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root lists any folder")
	}
	links, err := NewLinks("acme", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o300); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	w, err := Create(filepath.Join(dir, "r.csv"), New, links)
	if err != nil {
		t.Fatalf("Create in a folder of mode 0300: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
