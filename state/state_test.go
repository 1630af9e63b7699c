package state

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/plant"
	"github.com/ideanote-provision/ideanote-provision/internal/safefile"
	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

var ana = provision.User{Email: "Ana@Example.com", Sub: "E1", Name: "Ana", Team: "Eng", Locale: "es-ES"}

func openStore(t *testing.T, path string, opt Options) *Store {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKeyAndFingerprint(t *testing.T) {
	other := func(f func(*provision.User)) provision.User { u := ana; f(&u); return u }
	tests := []struct {
		name     string
		u        provision.User
		key      string
		sameHash bool
	}{
		{"same user", ana, "sub:E1", true},
		{"team changed", other(func(u *provision.User) { u.Team = "Sales" }), "sub:E1", false},
		{"email case changed", other(func(u *provision.User) { u.Email = "ana@example.com" }), "sub:E1", false},
		{"avatar added", other(func(u *provision.User) { u.AvatarURL = "https://a.example/x.png" }), "sub:E1", false},
		{"field boundary moved", other(func(u *provision.User) { u.Name, u.Team = "AnaE", "ng" }), "sub:E1", false},
		{"no sub: keyed by lower-cased email", other(func(u *provision.User) { u.Sub = "" }), "email:ana@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.u); got != tt.key {
				t.Errorf("Key = %q, want %q", got, tt.key)
			}
			if got := Fingerprint(tt.u) == Fingerprint(ana); got != tt.sameHash {
				t.Errorf("same fingerprint as ana = %v, want %v", got, tt.sameHash)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path, Options{})
	if err := s.Record(Key(ana), Entry{Fingerprint: Fingerprint(ana), UserID: "u1", At: now.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	moved := ana
	moved.Team = "Sales"
	bob := provision.User{Email: "bob@example.com"}
	tests := []struct {
		name   string
		plan   *Plan
		u      provision.User
		change string
		send   bool
	}{
		{"unknown user", &Plan{Store: s, Now: now}, bob, New, true},
		{"no store", &Plan{Now: now}, ana, New, true},
		{"same data", &Plan{Store: s, Now: now}, ana, Unchanged, false},
		{"other data", &Plan{Store: s, Now: now}, moved, Changed, true},
		{"force", &Plan{Store: s, Now: now, Force: true}, ana, Refreshed, true},
		{"force on other data", &Plan{Store: s, Now: now, Force: true}, moved, Changed, true},
		{"refresh due", &Plan{Store: s, Now: now, RefreshAfter: 24 * time.Hour}, ana, Refreshed, true},
		{"refresh not due", &Plan{Store: s, Now: now, RefreshAfter: 72 * time.Hour}, ana, Unchanged, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			change, _, send := tt.plan.Decide(tt.u)
			if change != tt.change || send != tt.send {
				t.Errorf("Decide = %s, send %v; want %s, send %v", change, send, tt.change, tt.send)
			}
		})
	}
}

func TestPlanSkipAndSettle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path, Options{})
	p := &Plan{Store: s, Now: time.Now()}
	row := provision.Row{Line: 2, User: ana}

	if _, skip := p.Skip(row); skip {
		t.Fatal("a new row was skipped")
	}
	res := provision.Result{Row: row, Status: provision.StatusOK, UserID: "u1", Finished: time.Now()}
	p.Settle(&res)
	if err := p.Record(res); err != nil {
		t.Fatal(err)
	}
	if res.Change != New {
		t.Errorf("change = %q, want new", res.Change)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, skip := p.Skip(provision.Row{Line: 7, User: ana})
	if !skip || got.Status != provision.StatusUnchanged || got.Change != Unchanged || got.UserID != "u1" {
		t.Errorf("second sight: skip %v, %+v; want an unchanged result with the user id", skip, got)
	}

	t.Run("a failed row is not recorded", func(t *testing.T) {
		bob := provision.Row{Line: 3, User: provision.User{Email: "bob@example.com"}}
		p.Skip(bob)
		res := provision.Result{Row: bob, Status: provision.StatusFailed}
		p.Settle(&res)
		p.Record(res)
		s.Flush()
		if _, found := s.Get(Key(bob.User)); found || res.Change != New {
			t.Errorf("found %v, change %q; want not recorded, new", found, res.Change)
		}
	})
	t.Run("a row skipped by resume is recorded when missing", func(t *testing.T) {
		cy := provision.Row{Line: 4, User: provision.User{Email: "cy@example.com"}}
		res := provision.Result{Row: cy, Status: provision.StatusSkipped, UserID: "u9", Change: New}
		p.Settle(&res)
		p.Record(res)
		s.Flush()
		if e, found := s.Get(Key(cy.User)); !found || e.UserID != "u9" || res.Change != New {
			t.Errorf("entry %+v found %v, change %q; want recorded with u9, change kept", e, found, res.Change)
		}
	})
}

func TestStoreBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path, Options{MaxBatch: 3, FlushInterval: time.Hour})
	rec := func(i int) {
		t.Helper()
		if err := s.Record(fmt.Sprintf("email:u%d@example.com", i), Entry{Fingerprint: fmt.Sprint("f", i), At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	rec(1)
	rec(2)
	if n := s.Len(); n != 0 {
		t.Errorf("after 2 records of a batch of 3: %d committed, want 0", n)
	}
	rec(3)
	if n := s.Len(); n != 3 {
		t.Errorf("after a full batch: %d committed, want 3", n)
	}
	rec(4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, path, Options{ReadOnly: true})
	if n := s2.Len(); n != 4 {
		t.Errorf("reopened after Close: %d users, want 4", n)
	}
	for i := 1; i <= 4; i++ {
		// Each entry its own: bbolt holds the values of a batch until it commits.
		if e, found := s2.Get(fmt.Sprintf("email:u%d@example.com", i)); !found || e.Fingerprint != fmt.Sprint("f", i) {
			t.Errorf("user %d: %+v (found %v), want fingerprint f%d", i, e, found, i)
		}
	}
	if err := s2.Record("email:x", Entry{}); err == nil {
		t.Error("Record on a read-only store: no error")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	testfile.Write(t, junk, "email,sub\nana@example.com,E1\n")
	spaced := filepath.Join(dir, "spaced.db")
	s, err := Open(spaced, Options{Space: "space-a"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	tests := []struct {
		name    string
		path    string
		opt     Options
		wantErr string // "" for none
		wantLen int
	}{
		{"missing, read-only: empty", filepath.Join(dir, "none.db"), Options{ReadOnly: true}, "", 0},
		{"not a state file", junk, Options{}, "not a state file", 0},
		{"same workspace", spaced, Options{Space: "space-a"}, "", 0},
		{"other workspace", spaced, Options{Space: "space-b"}, "belongs to workspace space-a", 0},
		{"other workspace, read-only", spaced, Options{Space: "space-b", ReadOnly: true}, "belongs to workspace space-a", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, tt.opt)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n := s.Len(); n != tt.wantLen {
				t.Errorf("Len = %d, want %d", n, tt.wantLen)
			}
		})
	}
	if st, err := os.Stat(spaced); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v, want 0600", st.Mode().Perm(), err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	openStore(t, path, Options{})
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

// TestOpenRefusesPlantedFiles checks that a state file (or its journal) that is a symbolic
// link, another user's, or readable by others is refused with a message naming it and saying
// why, to write or to read, and left as it was.
func TestOpenRefusesPlantedFiles(t *testing.T) {
	t.Parallel()
	// Each plants at path and returns a function that fails t unless what it planted is as it was.
	symlink := func(t *testing.T, path string) func() { return plant.Victim(t, plant.Symlink, path, 0o600) }
	another := func(t *testing.T, path string) func() { return plant.Victim(t, plant.OtherUsers, path, 0o600) }
	readable := func(t *testing.T, path string) func() {
		if runtime.GOOS == "windows" {
			t.Skip("no owner-only modes")
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		return func() {
			t.Helper()
			if b, err := os.ReadFile(path); err != nil || len(b) > 0 {
				t.Errorf("%s = %q, %v: written", path, b, err)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("%s: %v: chmod'ed", path, err)
			}
		}
	}
	tests := []struct {
		name    string
		journal bool // planted at the journal, not at the state file
		plant   func(t *testing.T, path string) (untouched func())
		why     string
	}{
		{"symlinked state", false, symlink, "is a symbolic link"},
		{"state readable by others", false, readable, "can be read or written by other users (mode 0644)"},
		{"another user's state", false, another, "belongs to another user"},
		{"symlinked journal", true, symlink, "is a symbolic link"},
		{"journal readable by others", true, readable, "can be read or written by other users (mode 0644)"},
		{"another user's journal", true, another, "belongs to another user"},
	}
	for _, tt := range tests {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, read-only %v", tt.name, readOnly), func(t *testing.T) {
				t.Parallel()
				if tt.journal && bootID() == "" && !readOnly {
					t.Skip("no boot id here: no journal is kept")
				}
				path := filepath.Join(t.TempDir(), "state.db")
				at := path
				if tt.journal {
					at = JournalPath(path)
					s, err := Open(path, Options{}) // a state beside it, or a read-only open reads nothing
					if err != nil {
						t.Fatal(err)
					}
					s.Close()
				}
				untouched := tt.plant(t, at)
				s, err := Open(path, Options{ReadOnly: readOnly})
				if err == nil {
					s.Close()
					t.Fatalf("read-only %v: opened", readOnly)
				}
				if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), at+" "+tt.why) {
					t.Errorf("read-only %v: %v, want safefile.ErrUnsafe saying %s %s", readOnly, err, at, tt.why)
				}
				untouched()
			})
		}
	}
}

// BenchmarkRecord measures what the store costs the emitting goroutine per ok row, commits
// included (one transaction, one fsync, per DefaultMaxBatch rows).
func BenchmarkRecord(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fp := Fingerprint(ana)
	b.ResetTimer()
	for i := range b.N {
		if err := s.Record(fmt.Sprintf("email:user%d@example.com", i), Entry{Fingerprint: fp, UserID: "u", At: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecordDurability measures what the store costs the emitting goroutine per ok row
// under the run's conditions: each row's report line written first (write(2), as the report
// does), and the report synced before every commit (BeforeCommit). "batch" commits every
// DefaultMaxBatch rows (or second), its records journaled by Record; "commit per row" commits
// every record.
func BenchmarkRecordDurability(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{{"batch", DefaultMaxBatch}, {"commit per row", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			s, err := Open(filepath.Join(dir, "state.db"), Options{MaxBatch: bc.maxBatch, FlushInterval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rep, err := os.Create(filepath.Join(dir, "report.csv"))
			if err != nil {
				b.Fatal(err)
			}
			defer rep.Close()
			s.BeforeCommit(rep.Sync)
			fp := Fingerprint(ana)
			line := []byte("2,ana@example.com,E1,Ana,Eng,es-ES,ok,u-1,tok,https://acme.ideanote.io/login/tok,,1,200,,2026-12-07T18:00:00Z\n")
			b.ResetTimer()
			for i := range b.N {
				if _, err := rep.Write(line); err != nil {
					b.Fatal(err)
				}
				if err := s.Record(fmt.Sprintf("email:user%d@example.com", i), Entry{Fingerprint: fp, UserID: "u", At: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkDecide measures what the store costs the reading goroutine per row (one lookup).
func BenchmarkDecide(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const users = 10000
	for i := range users {
		u := provision.User{Email: fmt.Sprintf("user%d@example.com", i)}
		s.Record(Key(u), Entry{Fingerprint: Fingerprint(u), At: time.Now()})
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	p := &Plan{Store: s, Now: time.Now()}
	b.ResetTimer()
	for i := range b.N {
		if _, _, send := p.Decide(provision.User{Email: fmt.Sprintf("user%d@example.com", i%users)}); send {
			b.Fatal("a recorded user is to be sent")
		}
	}
}

func TestBeforeCommit(t *testing.T) {
	tests := []struct {
		name      string
		hookErr   error
		wantSaved bool
	}{
		{"report synced, then the batch is committed", nil, true},
		{"report cannot be synced: nothing is committed", errors.New("disk gone"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			s := openStore(t, path, Options{Space: "sp", MaxBatch: 100, FlushInterval: time.Hour})
			calls := 0
			s.BeforeCommit(func() error { calls++; return tt.hookErr })
			if err := s.Record("sub:E1", Entry{Fingerprint: "f", At: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if calls != 0 {
				t.Fatalf("hook ran %d times before any commit", calls)
			}
			err := s.Flush()
			if calls != 1 || (err != nil) != (tt.hookErr != nil) {
				t.Fatalf("Flush: %v after %d hook calls", err, calls)
			}
			s.Close()
			r := openStore(t, path, Options{Space: "sp", ReadOnly: true})
			if _, saved := r.Get("sub:E1"); saved != tt.wantSaved {
				t.Errorf("saved = %v, want %v", saved, tt.wantSaved)
			}
		})
	}
}

// A row the report being resumed shows done is skipped and recorded when the store lacks it
// (the interrupted run's state batch was lost). One the store holds with other data is sent, as
// changed: a field the report does not show (the avatar) may have changed since its line, and
// recording it would say sent what was not.
func TestResumedSkipRecordedOnlyWhenStoreLacksIt(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"), Options{Space: "sp"})
	old := ana
	old.Team = "Old team"
	if err := s.Record(Key(old), Entry{Fingerprint: Fingerprint(old), At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	p := &Plan{Store: s, Now: time.Now()}
	bob := provision.User{Email: "bob@example.com"}
	resumed := func(row provision.Row) (provision.Result, bool) {
		return provision.Result{Row: row, Status: provision.StatusSkipped, UserID: "u-" + row.User.Email}, true
	}
	skip := p.Skipper(resumed)
	if res, ok := skip(provision.Row{Line: 2, User: ana}); ok {
		t.Errorf("ana, whom the store holds with other data: skipped %+v, want sent", res)
	}
	sent := provision.Result{Row: provision.Row{Line: 2, User: ana}, Status: provision.StatusOK, UserID: "u1"}
	if p.Settle(&sent); sent.Change != Changed {
		t.Errorf("ana's change %q, want %q", sent.Change, Changed)
	}
	res, ok := skip(provision.Row{Line: 3, User: bob})
	if !ok {
		t.Fatal("bob, whom the store lacks: sent, want skipped")
	}
	if err := p.Record(res); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if e, found := s.Get(Key(bob)); !found || e.Fingerprint != Fingerprint(bob) {
		t.Errorf("bob's entry %+v (found %v): the state lacks what the interrupted run sent", e, found)
	}
}

func TestPlanSkipperReportsAndChanges(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"), Options{})
	p := &Plan{Store: s, OnlyChanges: true, Now: time.Now()}
	bob := provision.User{Email: "bob@example.com"}
	if err := s.Record(Key(bob), Entry{Fingerprint: Fingerprint(bob), UserID: "u2", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	resumed := func(row provision.Row) (provision.Result, bool) {
		if row.User.Email == ana.Email {
			return provision.Result{Row: row, Status: provision.StatusSkipped, Change: Changed}, true
		}
		return provision.Result{}, false
	}
	skip := p.Skipper(resumed)
	// Ana was done by the run being resumed: she keeps that run's change, whatever the state says.
	res, ok := skip(provision.Row{Line: 2, User: ana})
	if !ok || res.Status != provision.StatusSkipped || res.Change != Changed {
		t.Errorf("resumed row: %v %+v", ok, res)
	}
	res, ok = skip(provision.Row{Line: 3, User: bob})
	if !ok || res.Status != provision.StatusUnchanged {
		t.Errorf("unchanged row: %v %+v", ok, res)
	}
	for _, r := range []*provision.Result{{Row: provision.Row{Line: 2, User: ana}, Change: Changed}, &res} {
		p.Settle(r)
	}
	if p.Reports(res) {
		t.Error("with OnlyChanges an unchanged row is reported")
	}
	if want := map[string]int{New: 0, Changed: 1, Unchanged: 1, Refreshed: 0}; !maps.Equal(p.Changes(), want) {
		t.Errorf("Changes() = %v, want %v", p.Changes(), want)
	}

	var none *Plan
	if _, ok := none.Skipper(resumed)(provision.Row{Line: 3, User: bob}); ok {
		t.Error("without a state, a row not resumed was skipped")
	}
	if !none.Reports(res) || none.Changes() != nil || none.Record(res) != nil {
		t.Error("a nil Plan must report everything, count nothing and record nothing")
	}
}

func TestPlanRecordErrorOnce(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"), Options{})
	p := &Plan{Store: s, Now: time.Now()}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ok := provision.Result{Row: provision.Row{Line: 2, User: ana}, Status: provision.StatusOK, Finished: time.Now()}
	var errs int
	for range 3 {
		if p.Record(ok) != nil {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("Record on a closed store returned %d errors, want the first one only", errs)
	}
}

// A row recorded keeps its address, and Each gives every committed entry with its key, as Get
// does: the cron line finds by address a person keyed by sub.
func TestRecordKeepsEmailAndEach(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{Space: "sp"})
	if err != nil {
		t.Fatal(err)
	}
	p := &Plan{Store: s, Now: time.Now()}
	bob := provision.User{Email: "bob@example.com"}
	for _, u := range []provision.User{ana, bob} {
		if err := p.Record(provision.Result{Row: provision.Row{User: u}, Status: provision.StatusOK, UserID: "u-" + u.Email}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	emails := func(s *Store) map[string]string {
		got := make(map[string]string)
		if err := s.Each(func(key string, e Entry) { got[key] = e.Email }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := map[string]string{Key(ana): ana.Email, Key(bob): bob.Email}
	if got := emails(s); !maps.Equal(got, want) {
		t.Errorf("Each gives %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := emails(openStore(t, path, Options{Space: "sp", ReadOnly: true})); !maps.Equal(got, want) {
		t.Errorf("Each, read-only, gives %v, want %v", got, want)
	}
}
