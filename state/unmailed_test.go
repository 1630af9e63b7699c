package state

import (
	"path/filepath"
	"testing"
	"time"
)

func TestUnmailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path, Options{Space: "sp"})
	night1 := time.Date(2026, 3, 1, 2, 15, 0, 0, time.UTC)
	w1 := Unmailed{Report: "/var/lib/ideanote/wave-1.csv", Since: night1}
	w2 := Unmailed{Report: "/var/lib/ideanote/wave-2.csv", MailReport: "/var/lib/ideanote/w2-sent.csv", Since: night1.Add(24 * time.Hour)}
	for _, u := range []Unmailed{w2, w1} {
		if added, err := s.RememberUnmailed(u); err != nil || !added {
			t.Fatalf("RememberUnmailed(%s) = %v, %v; want added", u.Report, added, err)
		}
	}
	// Remembered again (the same night's second run): the first entry stays.
	if added, err := s.RememberUnmailed(Unmailed{Report: w1.Report, Since: night1.Add(3 * time.Hour)}); err != nil || added {
		t.Fatalf("RememberUnmailed again = %v, %v; want not added", added, err)
	}
	check := func(s *Store, want ...Unmailed) {
		t.Helper()
		got, err := s.Unmailed()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Unmailed = %+v, want %+v", got, want)
		}
		for i := range got {
			if got[i].Report != want[i].Report || got[i].MailReport != want[i].MailReport || !got[i].Since.Equal(want[i].Since) {
				t.Errorf("Unmailed[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
	}
	check(s, w1, w2) // oldest first
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// They survive a reopen, read-only too, and are forgotten one by one.
	ro := openStore(t, path, Options{Space: "sp", ReadOnly: true})
	check(ro, w1, w2)
	ro.Close()
	s = openStore(t, path, Options{Space: "sp"})
	check(s, w1, w2)
	if err := s.ForgetUnmailed(w1.Report); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetUnmailed("/never/remembered.csv"); err != nil {
		t.Fatal(err)
	}
	check(s, w2)
	s.Close()
	s = openStore(t, path, Options{Space: "sp"})
	check(s, w2)
	if err := s.ForgetUnmailed(w2.Report); err != nil {
		t.Fatal(err)
	}
	check(s)
}

func TestUnmailedReadOnly(t *testing.T) {
	dir := t.TempDir()
	// A store that does not exist has none, and a read-only store refuses to change.
	s := openStore(t, filepath.Join(dir, "none.db"), Options{ReadOnly: true})
	if got, err := s.Unmailed(); err != nil || len(got) != 0 {
		t.Errorf("Unmailed of a missing store = %v, %v", got, err)
	}
	if _, err := s.RememberUnmailed(Unmailed{Report: "/r.csv"}); err == nil {
		t.Error("RememberUnmailed on a read-only store: no error")
	}
	if err := s.ForgetUnmailed("/r.csv"); err == nil {
		t.Error("ForgetUnmailed on a read-only store: no error")
	}
	// A store written before the bucket existed has none, and takes one.
	path := filepath.Join(dir, "old.db")
	openStore(t, path, Options{}).Close()
	s = openStore(t, path, Options{})
	if got, err := s.Unmailed(); err != nil || len(got) != 0 {
		t.Errorf("Unmailed of a store without the bucket = %v, %v", got, err)
	}
	if err := s.ForgetUnmailed("/r.csv"); err != nil {
		t.Errorf("ForgetUnmailed without the bucket: %v", err)
	}
}
