package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/lock"
	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestOutDir(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.OutDir = filepath.Join(t.TempDir(), "eml")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("out dir mode %v, want 0700", st.Mode().Perm())
	}
	want := map[string]string{
		"000002-ana@example.com.eml":  "tok-ana",
		"000003-zoe@example.com.eml":  "tok-zoe",
		"000005-cara@example.com.eml": "tok-cara",
		"000007-dan@example.com.eml":  "tok-dan",
	}
	entries, err := os.ReadDir(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("%d files, want %d: %v", len(entries), len(want), entries)
	}
	for name, token := range want {
		path := filepath.Join(o.OutDir, name)
		st, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := parseMessage(t, raw)
		if !strings.Contains(m.text, loginURL(token)) || !strings.Contains(m.html, loginURL(token)) {
			t.Errorf("%s does not hold its link", name)
		}
		if m.header.Get("Message-ID") == "" || m.header.Get("Date") == "" {
			t.Errorf("%s lacks Message-ID or Date", name)
		}
	}
	w := peopleStatuses("written", nil)
	if got := statuses(t, DefaultMailReport(o.Report)); !maps.Equal(got, w) {
		t.Errorf("statuses = %v, want %v", got, w)
	}
	// Resumed, the files written are not written again.
	os.Remove(filepath.Join(o.OutDir, "000002-ana@example.com.eml"))
	o.Resume = true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(o.OutDir, "000002-ana@example.com.eml")); err == nil {
		t.Error("a resumed run wrote again a message already written")
	}
}

// TestOutDirRemovesStale: a mail run killed while it wrote an .eml file left its temporary, a
// whole message with its login link, in the --out-dir. The next run removes those once
// safefile.StaleAge old, and leaves a younger one (perhaps another run's in flight), a symbolic
// link under such a name and another file's.
func TestOutDirRemovesStale(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.OutDir = filepath.Join(t.TempDir(), "eml")
	if err := os.Mkdir(o.OutDir, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * safefile.StaleAge)
	for name, mtime := range map[string]time.Time{
		".000009-eve@example.com.eml.123456.tmp": old, ".000002-ana@example.com.eml.42.tmp": old,
		".000003-zoe@example.com.eml.7.tmp": time.Now(), ".notes.txt.123456.tmp": old,
	} {
		p := filepath.Join(o.OutDir, name)
		testfile.Write(t, p, loginURL("tok-old"))
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	victim := testfile.Temp(t, "victim", "precious")
	if err := os.Symlink(victim, filepath.Join(o.OutDir, ".000005-cara@example.com.eml.9.tmp")); err != nil {
		t.Skip(err)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{".000003-zoe@example.com.eml.7.tmp", ".000005-cara@example.com.eml.9.tmp", ".notes.txt.123456.tmp",
		"000002-ana@example.com.eml", "000003-zoe@example.com.eml", "000005-cara@example.com.eml", "000007-dan@example.com.eml"}
	if !slices.Equal(names, want) {
		t.Errorf("left in the out dir:\n%q\nwant\n%q", names, want)
	}
	if got := testfile.Read(t, victim); got != "precious" {
		t.Errorf("victim = %q: written through", got)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	var out bytes.Buffer
	o.DryRun, o.Stdout, o.Concurrency = true, &out, 4
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 0 {
		t.Errorf("a dry run connected %d times", srv.Connections())
	}
	if want := (provision.Counts[Status]{StatusRendered: 4, StatusSkipped: 2}); !maps.Equal(sum.Counts, want) {
		t.Errorf("counts = %v, want %v", sum.Counts, want)
	}
	if _, err := os.Stat(DefaultMailReport(o.Report)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run wrote a mail report: %v", err)
	}
	printed := out.String()
	for _, want := range []string{"row 2", "To: Ana López <ana@example.com>", "Subject: Su enlace de acceso a Ideanote",
		"Hola, Ana:", loginURL("tok-ana"), "an HTML version"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the printed message lacks %q:\n%s", want, printed)
		}
	}
	for _, other := range []string{"tok-zoe", "tok-cara", "tok-dan"} {
		if strings.Contains(printed, other) {
			t.Errorf("the printed message holds %s", other)
		}
	}
	// The real run that follows needs no --overwrite: the dry run delivered nothing.
	o.DryRun = false
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 4 {
		t.Errorf("%d messages, want 4", srv.Count())
	}
}

// A dry run with To prints the messages of the people named, each in their language, and only
// theirs.
func TestDryRunTo(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	var out bytes.Buffer
	o.DryRun, o.Stdout, o.SMTPURL = true, &out, ""
	o.To = []string{"ZOE@example.com", "dan@example.com"}
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	printed := out.String()
	for _, want := range []string{"the message (row 3), as zoe@example.com", "the message (row 7), as dan@example.com",
		"Zoë Ñúñez <zoe@example.com>", "Bonjour Zoë", loginURL("tok-zoe"), loginURL("tok-dan")} {
		if !strings.Contains(printed, want) {
			t.Errorf("the printed messages lack %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, "tok-ana") || strings.Count(printed, "--- end of the message ---") != 2 {
		t.Errorf("want the two messages named, no other:\n%s", printed)
	}
}

// An address of To that has no message to render is an error naming it, before anything is
// rendered.
func TestDryRunToUnknown(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ to, want string }{
		{"nobody@example.com", "<To> nobody@example.com: not in the report"},
		{"bob@example.com", "<To> bob@example.com: no message to render (row 4, skipped: no link: the report's status is failed)"},
	} {
		o, _ := testOptions(t, nil, people)
		o.DryRun, o.SMTPURL = true, ""
		o.To = []string{"ana@example.com", tt.to}
		_, err := Run(t.Context(), o)
		var ce *provision.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(named(err), tt.want) {
			t.Errorf("--to %s: err = %v, want a configuration error %q", tt.to, err, tt.want)
		}
		if _, err := os.Stat(DefaultMailReport(o.Report)); err == nil {
			t.Errorf("--to %s: a mail report was written", tt.to)
		}
	}
	o, _ := testOptions(t, nil, people)
	o.To = []string{"ana@example.com"}
	if err := Validate(o); err == nil || !strings.Contains(named(err), "give <DryRun> with it") {
		t.Errorf("--to without --dry-run: %v", err)
	}
}

// TestDryRunWritesNoMailReport checks that a dry run writes no mail report, with or without
// --overwrite: one that follows a real run leaves its record of who was mailed as it was, so
// that --resume mails nobody again.
func TestDryRunWritesNoMailReport(t *testing.T) {
	t.Parallel()
	srv, o, _ := serverOptions(t)
	path := DefaultMailReport(o.Report)
	files := func() []string {
		entries, err := os.ReadDir(filepath.Dir(o.Report))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	dry := func(o Options) {
		t.Helper()
		o.DryRun, o.Stdout = true, io.Discard
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatalf("dry run (overwrite %v, resume %v): %v", o.Overwrite, o.Resume, err)
		}
	}

	before := files()
	dry(o)
	if after := files(); !slices.Equal(after, before) {
		t.Errorf("files after a first dry run %v, want %v: it writes nothing", after, before)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	mailed := testfile.Read(t, path)
	before = files()
	for _, flags := range []struct{ overwrite, resume bool }{{false, false}, {true, false}, {false, true}} {
		o := o
		o.Overwrite, o.Resume = flags.overwrite, flags.resume
		dry(o)
		if got, err := os.ReadFile(path); err != nil || string(got) != mailed {
			t.Errorf("after a dry run (overwrite %v, resume %v), the mail report is\n%s(%v), want it as the real run left it", o.Overwrite, o.Resume, got, err)
		}
		if after := files(); !slices.Equal(after, before) {
			t.Errorf("files after a dry run (overwrite %v, resume %v) %v, want %v", o.Overwrite, o.Resume, after, before)
		}
	}
	o.Resume = true
	if _, err := Run(context.Background(), o); err != nil && !errors.Is(err, ErrFailed) {
		t.Fatal(err)
	}
	if srv.Count() != 4 {
		t.Errorf("%d messages, want 4: the resume mailed people again", srv.Count())
	}
}

func TestEMLName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		row         int
		email, want string
	}{
		{2, "ana@example.com", "000002-ana@example.com.eml"},
		{12, "o'brien+x@example.com", "000012-o_brien+x@example.com.eml"},
		{3, "../../etc/passwd@x", "000003-.._.._etc_passwd@x.eml"},
		{4, "zoë@exämple.com", "000004-zo_@ex_mple.com.eml"},
	}
	for _, tt := range tests {
		if got := EMLName(tt.row, tt.email); got != tt.want {
			t.Errorf("EMLName(%d, %q) = %q, want %q", tt.row, tt.email, got, tt.want)
		}
	}
}

// TestOutDirRefusesPlantedFolders: an --out-dir that is a symbolic link, or another user's
// folder, is refused before any message is written: its owner decides where the links land.
func TestOutDirRefusesPlantedFolders(t *testing.T) {
	t.Parallel()
	elsewhere := t.TempDir()
	t.Run("symbolic link", func(t *testing.T) {
		t.Parallel()
		o, _ := testOptions(t, nil, people)
		o.OutDir = filepath.Join(t.TempDir(), "eml")
		plant.Symlink(t, elsewhere, o.OutDir)
		if _, err := Run(context.Background(), o); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("Run = %v, want the folder refused", err)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
			t.Errorf("written through the link: %v", entries)
		}
	})
	t.Run("another user's", func(t *testing.T) {
		t.Parallel()
		o, _ := testOptions(t, nil, people)
		dir := filepath.Join(t.TempDir(), "mine")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		o.OutDir = filepath.Join(t.TempDir(), "eml")
		plant.OtherUsers(t, dir, o.OutDir)
		if _, err := Run(context.Background(), o); !errors.Is(err, safefile.ErrUnsafe) {
			t.Errorf("Run = %v, want the folder refused", err)
		}
	})
}

// TestMailNeverWritesThroughPlantedFiles checks that a symbolic link planted as the mail
// report, its lock file or an .eml file is refused with a message naming it, not written through.
func TestMailNeverWritesThroughPlantedFiles(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"mail report", "mail report lock", "eml"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			o, _ := testOptions(t, nil, people)
			o.OutDir = filepath.Join(t.TempDir(), "eml")
			o.Overwrite = true
			var path string
			switch at {
			case "mail report":
				path = DefaultMailReport(o.Report)
			case "mail report lock":
				path = lock.Path(DefaultMailReport(o.Report))
			case "eml":
				if err := os.Mkdir(o.OutDir, 0o700); err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(o.OutDir, "000002-ana@example.com.eml")
			}
			untouched := plant.Victim(t, plant.Symlink, path, 0o644)
			sum, err := Run(context.Background(), o)
			untouched()
			if at == "eml" {
				// Ana's message fails; the others are written.
				if sum.Counts[StatusWritten] != 3 {
					t.Errorf("written = %d, want 3 (err %v)", sum.Counts[StatusWritten], err)
				}
				b, _ := os.ReadFile(DefaultMailReport(o.Report))
				if !strings.Contains(string(b), path+" is a symbolic link") {
					t.Errorf("the mail report does not say why ana's file was refused:\n%s", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path+" is a symbolic link") {
				t.Errorf("Run = %v, want an error saying %s is a symbolic link", err, path)
			}
		})
	}
}
