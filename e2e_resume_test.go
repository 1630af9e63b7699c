package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

// TestResumeMatching: a resumed run skips the rows already ok in the report when the same
// people are in the input, by email and sub, or by email alone when one side lost its sub; and
// refuses, sending nothing, when most of them are not (the input or its mapping changed).
func TestResumeMatching(t *testing.T) {
	const export = "E-mail;Nom complet;Matricule;Badge\r\n" +
		"ana@acme.fr;Ana;4711;B-1\r\n" +
		"bob@acme.fr;Bob;4712;B-2\r\n" +
		"cy@acme.fr;Cy;4713;B-3\r\n" +
		"dee@acme.fr;Dee;4714;B-4\r\n"
	withoutSub := "E-mail;Nom complet\r\nana@acme.fr;Ana\r\nbob@acme.fr;Bob\r\ncy@acme.fr;Cy\r\ndee@acme.fr;Dee\r\n"
	tests := []struct {
		name     string
		input    string
		args     []string
		code     int
		stderr   string
		requests int // in the resumed run
		skipped  int
	}{
		{name: "same input", input: export, code: 0, requests: 1, skipped: 3},
		{name: "the sub column is gone", input: withoutSub, code: 0, requests: 1, skipped: 3},
		{name: "the sub is read from another column", input: export, args: []string{"--map", "sub=Badge"}, code: exitUsage,
			stderr: "--resume REPORT: only 0 of the 3 rows ok in the report are in this input (matched by email, and by sub when both have one): the input or its column mapping has changed since that run. Give the input and --map of that run, or another --report"},
		{name: "another input", input: "email\nzed@acme.fr\nyan@acme.fr\nbob@acme.fr\n", code: exitUsage, stderr: "only 1 of the 3 rows ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPI(t)
			dir := t.TempDir()
			rep := filepath.Join(dir, "report.csv")
			flags := []string{"--report", rep, "--rate", "0", "--concurrency", "1", "--subdomain", "acme", "--progress", "never"}
			srv.FailNext(1, http.StatusUnprocessableEntity, "") // the first row fails: the run is to be resumed
			first := invoke(t, srv, append(flags, testfile.Temp(t, "first.csv", export))...)
			if first.code != exitRowsFailed {
				t.Fatalf("first run: exit %d, want 1; stderr:\n%s", first.code, first.stderr)
			}
			before := len(srv.Requests())
			got := invoke(t, srv, append(append(flags, "--resume"), append(tt.args, testfile.Temp(t, "again.csv", tt.input))...)...)
			if got.code != tt.code || !strings.Contains(got.stderr, strings.ReplaceAll(tt.stderr, "REPORT", rep)) {
				t.Fatalf("resume: exit %d, want %d with %q; stderr:\n%s", got.code, tt.code, tt.stderr, got.stderr)
			}
			if n := len(srv.Requests()) - before; n != tt.requests {
				t.Errorf("the resumed run sent %d requests, want %d", n, tt.requests)
			}
			if tt.code != 0 {
				return
			}
			_, lines := reportLines(t, rep)
			if c := countStatus(lines); c["skipped"] != tt.skipped || c["ok"] != 4-tt.skipped {
				t.Errorf("statuses %v, want %d skipped", c, tt.skipped)
			}
		})
	}
}

// TestRefusalsNameTheFlag: a report left by an interrupted resume, and a state of another
// workspace, are refused with the flags that go on from there.
func TestRefusalsNameTheFlag(t *testing.T) {
	srv := newAPI(t)
	dir := t.TempDir()
	in, rep, st := testfile.Temp(t, "people.csv", "email\nann@acme.fr\n"), filepath.Join(dir, "report.csv"), filepath.Join(dir, "state.db")
	testfile.Write(t, rep+".tmp", "")
	got := invoke(t, srv, "--report", rep, "--subdomain", "acme", in)
	want := rep + ".tmp is left from an interrupted resumed run: add --resume to finish it, or --overwrite to start again"
	if got.code != exitUsage || !strings.Contains(got.stderr, want) {
		t.Errorf("left-over report: exit %d, want 2 with %q; stderr:\n%s", got.code, want, got.stderr)
	}
	if got := invoke(t, srv, "--report", rep, "--overwrite", "--state", st, "--subdomain", "acme", in); got.code != exitOK {
		t.Fatalf("run with a state: exit %d; stderr:\n%s", got.code, got.stderr)
	}
	vars := serverVars(srv)
	vars["IDEANOTE_SPACE_ID"] = "space-b"
	got = invokeEnv(t.Context(), vars, strings.NewReader(""), "--dry-run", "--report", rep, "--overwrite", "--state", st, "--subdomain", "acme", in)
	want = "--state: state " + st + " belongs to workspace " + srv.SpaceID + ", not space-b: give each workspace its own state file"
	if got.code != exitUsage || !strings.Contains(got.stderr, want) {
		t.Errorf("another workspace: exit %d, want 2 with %q; stderr:\n%s", got.code, want, got.stderr)
	}
}
