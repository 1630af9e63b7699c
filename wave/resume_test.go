package wave

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// testOptions are the options of a run of the cron line (--resume --state --only-changes) on
// srv, one request at a time.
func testOptions(srv *provisiontest.Server, in, rep, st string) Options {
	return Options{Input: in, Report: rep, State: st, Resume: true, OnlyChanges: true, Subdomain: "acme",
		BaseURL: srv.URL, SpaceID: srv.SpaceID, APIToken: srv.APIToken, HTTPClient: srv.Client(),
		Burst: 1, Concurrency: 1, Timeout: 5 * time.Second, MaxAttempts: 1, MaxWait: time.Minute}
}

// copyFile copies from to to, as a kill -9 leaves the file; a missing file is left missing.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	testfile.Write(t, to, b)
}

// statuses returns the status of each email's line in the report at path.
func statuses(t *testing.T, path string) map[string]string {
	t.Helper()
	lines, err := report.ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(lines))
	for _, l := range lines {
		out[l.Email] = l.Status
	}
	return out
}

func readBack(t *testing.T, path string) report.DoneSet {
	t.Helper()
	done, err := report.ReadBack(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func people(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p%d@x.io", i)
	}
	return out
}

// firstRun starts a fake Ideanote and runs the cron line once on input, in a new folder, the
// rows of the emails failing answered with status: what a resume then finishes. It returns
// the server and the options of that run, on report name.
func firstRun(t *testing.T, input, name string, status int, failing ...string) (*provisiontest.Server, Options) {
	t.Helper()
	srv := provisiontest.NewServer()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	o := testOptions(srv, filepath.Join(dir, "in.csv"), filepath.Join(dir, name), filepath.Join(dir, "state.db"))
	testfile.Write(t, o.Input, input)
	srv.Intercept = func(_ int, r *provisiontest.Request) *provisiontest.Reply {
		if slices.Contains(failing, r.Email()) {
			return &provisiontest.Reply{Status: status, Body: `{"message":"nope"}`}
		}
		return nil
	}
	want := error(nil)
	if len(failing) > 0 {
		want = ErrRowsFailed
	}
	if _, err := Run(context.Background(), o); !errors.Is(err, want) {
		t.Fatalf("run 1: %v, want %v", err, want)
	}
	srv.Intercept = nil
	return srv, o
}

// A resume of a report whose REPORT.tmp a killed run left must keep the ok rows of that file on
// disk while it sends again the rows before them: a second kill then must not lose them.
func TestResumeKeepsLeftOverRowsOnDisk(t *testing.T) {
	t.Parallel()
	srv, o := firstRun(t, "email\na@x.io\nb@x.io\nc@x.io\nd@x.io\ne@x.io\nf@x.io\n", "wave.csv",
		http.StatusUnprocessableEntity, "a@x.io", "b@x.io", "c@x.io")
	in, rep, st := o.Input, o.Report, o.State
	// Run 1 killed before Close: its lines are in REPORT.tmp only.
	if err := os.Rename(rep, report.TempPath(rep)); err != nil {
		t.Fatal(err)
	}
	// Run 2 is killed while it sends a again: what is on disk then.
	kdir := t.TempDir()
	krep, kst := filepath.Join(kdir, "wave.csv"), filepath.Join(kdir, "state.db")
	srv.Intercept = func(_ int, r *provisiontest.Request) *provisiontest.Reply {
		if r.Email() == "a@x.io" {
			for _, f := range [][2]string{{rep, krep}, {report.TempPath(rep), report.TempPath(krep)}, {st, kst}, {st + "-journal", kst + "-journal"}} {
				copyFile(t, f[0], f[1])
			}
		}
		return nil
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("run 2: %v", err)
	}
	done := readBack(t, krep)
	for _, e := range []string{"d@x.io", "e@x.io", "f@x.io"} {
		if _, ok := done[e]; !ok {
			t.Errorf("at the kill of run 2, %s (ok in run 1) is in no file that --resume reads", e)
		}
	}
	// Run 3 on what the kill left: the state says d, e, f are provisioned; their lines stay.
	srv.Intercept = nil
	if _, err := Run(context.Background(), testOptions(srv, in, krep, kst)); err != nil {
		t.Fatalf("run 3: %v", err)
	}
	got := statuses(t, krep)
	for _, e := range []string{"d@x.io", "e@x.io", "f@x.io"} {
		if got[e] != "skipped" {
			t.Errorf("after run 3, %s has status %q, want skipped with their link", e, got[e])
		}
	}
}

// An interrupted resume that did not read its input to the end keeps, in the report it puts in
// place, every row ok in the report it replaces, and counts them as skipped.
func TestInterruptedResumeKeepsRowsNotRead(t *testing.T) {
	t.Parallel()
	all := people(20)
	srv, o := firstRun(t, "email\n"+strings.Join(all, "\n")+"\n", "wave.csv", 0)
	rep := o.Report
	// Run 2 reads its input from a pipe: 5 rows, then the interrupt, then the end of the input,
	// as when the reader stops after InterruptDrain. The blank lines after the 5 rows fill what
	// the reader looks at before it starts (blank lines are no rows).
	pr, pw := io.Pipe()
	o2 := o
	o2.Input, o2.Stdin = "-", pr
	ctx, cancel := context.WithCancel(context.Background())
	emitted := make(chan struct{}, len(all))
	o2.Progress = func(provision.Result) { emitted <- struct{}{} }
	go func() {
		io.WriteString(pw, "email\n"+strings.Join(all[:5], "\n")+strings.Repeat("\n", 2<<20))
		for range 5 {
			<-emitted
		}
		cancel()
		pw.Close()
	}()
	sum, err := Run(ctx, o2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run 2: %v, want interrupted", err)
	}
	got := statuses(t, rep)
	for _, e := range all {
		if got[e] != "skipped" {
			t.Errorf("after the interrupted resume, %s has status %q, want skipped with their link", e, got[e])
		}
	}
	if sum.Rows != len(all) || sum.Counts[provision.StatusSkipped] != len(all) {
		t.Errorf("summary: %d rows, %v, want %d skipped", sum.Rows, sum.Counts, len(all))
	}
	if len(srv.Requests()) != len(all) {
		t.Errorf("%d requests, want %d: a resume sends nothing already ok", len(srv.Requests()), len(all))
	}
}

// A resume whose input no longer holds a person ok in the report (a partial HR export) keeps
// that person's line and link: the state has them provisioned, and no later run sends them.
func TestResumeKeepsRowsMissingFromInput(t *testing.T) {
	t.Parallel()
	_, o := firstRun(t, "email\na@x.io\nb@x.io\nc@x.io\nd@x.io\n", "wave-1.csv", http.StatusServiceUnavailable, "d@x.io")
	in, rep := o.Input, o.Report
	testfile.Write(t, in, "email\na@x.io\nb@x.io\nd@x.io\n") // c is missing from this export
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	want := map[string]string{"a@x.io": "skipped", "b@x.io": "skipped", "c@x.io": "skipped", "d@x.io": "ok"}
	if got := statuses(t, rep); !maps.Equal(got, want) {
		t.Errorf("resumed report: %v, want %v", got, want)
	}
	if sum.Counts[provision.StatusSkipped] != 3 || sum.Rows != 4 {
		t.Errorf("summary: %d rows, %v, want 3 skipped of 4", sum.Rows, sum.Counts)
	}
	lines, err := report.ReadLines(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Email == "c@x.io" && (l.Row != 4 || !strings.Contains(l.LoginURL, "acme.ideanote.io")) {
			t.Errorf("c's line: row %d, link %q, want row 4 and the link", l.Row, l.LoginURL)
		}
	}
}

// A resumed row pairs with the earlier lines of its person as --resume does (by sub when both
// have one, else by email): a person whose email changed since keeps no line under the old
// address, which the night's mail run would mail the older link; the same email with another
// sub is another user, whose line stays.
func TestResumeKeepsLinesByPerson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input string
		want        []string // email sub status of each line
	}{
		{"email changed", "email,sub\na.new@x.io,s1\nb@x.io,s2\nc@x.io,s3\nd@x.io,s4\n",
			[]string{"a.new@x.io s1 ok", "b@x.io s2 ok", "c@x.io s3 skipped", "d@x.io s4 skipped"}},
		{"sub changed", "email,sub\na@x.io,s9\nb@x.io,s2\nc@x.io,s3\nd@x.io,s4\n",
			[]string{"a@x.io s1 skipped", "a@x.io s9 ok", "b@x.io s2 ok", "c@x.io s3 skipped", "d@x.io s4 skipped"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, o := firstRun(t, "email,sub\na@x.io,s1\nb@x.io,s2\nc@x.io,s3\nd@x.io,s4\n", "wave.csv", http.StatusServiceUnavailable, "b@x.io")
			testfile.Write(t, o.Input, tc.input)
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatalf("resume: %v", err)
			}
			lines, err := report.ReadLines(o.Report)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lines {
				got = append(got, l.Email+" "+l.Sub+" "+l.Status)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("resumed report: %q, want %q", got, tc.want)
			}
		})
	}
}

// A resume whose input changed a person ok in the report sends the change. When that run's
// state batch was lost, a resume whose input is what the report shows skips a person the state
// lacks and records them; one the state holds with older data is sent again, as the state cannot
// tell a lost batch from a change the report does not show (TestResumeSendsChangedAvatar).
func TestResumeSendsChangedData(t *testing.T) {
	t.Parallel()
	srv, o := firstRun(t, "email,team\na@x.io,Sales\nb@x.io,Ops\n", "wave-1.csv", http.StatusServiceUnavailable, "b@x.io")
	in, rep, st, dir := o.Input, o.Report, o.State, filepath.Dir(o.Report)
	testfile.Write(t, in, "email,team\na@x.io,Marketing\nb@x.io,Ops\n") // HR moves a before the resume
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if team := srv.Users()["a@x.io"].Team; team != "Marketing" {
		t.Errorf("after the resume Ideanote has a in team %q, want Marketing", team)
	}
	lines, err := report.ReadLines(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Email == "a@x.io" && (l.Status != "ok" || l.Team != "Marketing" || l.Change != "changed") {
			t.Errorf("a's line: %s, team %q, change %q, want ok, Marketing, changed", l.Status, l.Team, l.Change)
		}
	}

	// Night 2 sends a new team and a new hire c, reports them ok, and is killed before its
	// state batch is saved.
	testfile.Write(t, in, "email,team\na@x.io,Design\nb@x.io,Ops\nc@x.io,Ops\n")
	saved := testfile.Read(t, st)
	o2 := testOptions(srv, in, filepath.Join(dir, "wave-2.csv"), st)
	if _, err := Run(context.Background(), o2); err != nil {
		t.Fatalf("night 2: %v", err)
	}
	testfile.Write(t, st, saved)
	// Its resume skips c, whom the state lacks, and records them; a, whom the state holds
	// with the Marketing team, is sent again.
	sent := len(srv.Requests())
	if _, err := Run(context.Background(), o2); err != nil {
		t.Fatalf("night 2 resumed: %v", err)
	}
	if got := srv.Requests()[sent:]; len(got) != 1 || got[0].Email() != "a@x.io" {
		t.Errorf("the resume sent %d requests, want a's alone", len(got))
	}
	if got, want := statuses(t, o2.Report), map[string]string{"a@x.io": "ok", "c@x.io": "skipped"}; !maps.Equal(got, want) {
		t.Errorf("night 2 resumed: %v, want %v", got, want)
	}
	sent = len(srv.Requests())
	o3 := testOptions(srv, in, filepath.Join(dir, "wave-3.csv"), st)
	if _, err := Run(context.Background(), o3); err != nil {
		t.Fatalf("night 3: %v", err)
	}
	if n := len(srv.Requests()) - sent; n != 0 || len(statuses(t, o3.Report)) != 0 {
		t.Errorf("night 3 sent %d requests and reported %v, want nothing: the state must hold what night 2 sent", n, statuses(t, o3.Report))
	}
}

// An avatar changed between a run and its resume, which the report does not show, is sent: the
// state holds the older avatar, and recording the resumed skip would say it was sent.
func TestResumeSendsChangedAvatar(t *testing.T) {
	t.Parallel()
	srv, o := firstRun(t, "email,avatar\na@x.io,https://img.example/1.png\nb@x.io,\n", "wave.csv", http.StatusServiceUnavailable, "b@x.io")
	testfile.Write(t, o.Input, "email,avatar\na@x.io,https://img.example/2.png\nb@x.io,\n")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if got := srv.Users()["a@x.io"].AvatarURL; got != "https://img.example/2.png" {
		t.Errorf("after the resume Ideanote has a's avatar %q, want 2.png", got)
	}
	sent := len(srv.Requests())
	o2 := testOptions(srv, o.Input, filepath.Join(filepath.Dir(o.Report), "wave-2.csv"), o.State)
	if _, err := Run(context.Background(), o2); err != nil {
		t.Fatalf("night 2: %v", err)
	}
	if n := len(srv.Requests()) - sent; n != 0 {
		t.Errorf("night 2 sent %d requests, want none", n)
	}
}

// --overwrite of a report holding people ok, with a state that remembers them, is refused:
// the new report would leave them out, and their links would be in no file.
func TestOverwriteWithStateRefused(t *testing.T) {
	t.Parallel()
	srv, o := firstRun(t, "email\na@x.io\nb@x.io\n", "wave-1.csv", 0)
	rep := o.Report
	sent := len(srv.Requests())
	o.Resume, o.Overwrite = false, true
	_, err := Run(context.Background(), o)
	var ce *provision.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "holds 2 people provisioned ok") {
		t.Errorf("--overwrite: %v, want it refused", err)
	}
	if got := statuses(t, rep); len(got) != 2 || len(srv.Requests()) != sent {
		t.Errorf("after the refusal: report %v, %d requests sent", got, len(srv.Requests())-sent)
	}
	// With --force everyone is sent again, and the new report lists them all.
	o.Force = true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("--overwrite --force: %v", err)
	}
	if got := statuses(t, rep); got["a@x.io"] != "ok" || got["b@x.io"] != "ok" {
		t.Errorf("--overwrite --force: report %v, want a and b ok", got)
	}
}
