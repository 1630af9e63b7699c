package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// secret is the API token of these tests: distinctive enough that any 6 characters of it in a
// row are a leak, not a coincidence.
const secret = "Zq7tK9mW2xV4bN8rP3sL6hJ5cY1dF0gA"

const peopleCSV = "email,name,team\na@x.com,Ann,Ops\nb@x.com,Bob,Ops\nc@x.com,Cy,\nd@x.com,Di,\ne@x.com,Ed,\n"

// outcome is everything a run showed: its exit status, its output and its report.
type outcome struct {
	code                   int
	stdout, stderr, report string
}

// runCLI runs the program as main does, with the token in the environment, in a directory
// of its own holding in.csv.
func runCLI(t *testing.T, token, input string, args ...string) outcome {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	testfile.Write(t, in, input)
	rep := filepath.Join(dir, "report.csv")
	args = append([]string{"--report", rep, "--progress", "never", "--rate", "0", "--timeout", "2s",
		"--max-attempts", "1"}, args...)
	args = append(args, in)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := invokeEnv(ctx, map[string]string{"IDEANOTE_API_TOKEN": token}, strings.NewReader(""), args...)
	o := outcome{code: got.code, stdout: got.stdout, stderr: got.stderr}
	if b, err := os.ReadFile(rep); err == nil {
		o.report = string(b)
	}
	return o
}

// noSecret fails when any 6 characters of token in a row appear in what the run showed.
func noSecret(t *testing.T, o outcome, token string) {
	t.Helper()
	for name, text := range map[string]string{"stdout": o.stdout, "stderr": o.stderr, "report": o.report} {
		for i := 0; i+6 <= len(token); i++ {
			if w := token[i : i+6]; strings.Contains(text, w) {
				t.Errorf("%s holds %q of the token:\n%s", name, w, text)
				break
			}
		}
	}
}

// readableSecretFile writes secret, ended by the line break an editor adds, to a file named name
// that every local user can read, whatever the umask, and returns its path.
func readableSecretFile(t *testing.T, name string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return file
}

// echo answers status with body, into which it puts the request as received.
func echo(status int, contentType string, body func(n int, req string) string) func(int, *provisiontest.Request) *provisiontest.Reply {
	return func(n int, r *provisiontest.Request) *provisiontest.Reply {
		return &provisiontest.Reply{Status: status, Header: http.Header{"Content-Type": {contentType}}, Body: body(n, string(r.Body))}
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2<<20)
	tests := []struct {
		name      string
		intercept func(n int, r *provisiontest.Request) *provisiontest.Reply
		serverTok string // the token the fake accepts; secret when empty
		token     string // the token the run is given; secret when empty
		input     string
		args      []string
		code      int
		stderrHas string
	}{
		{name: "401 until aborted", serverTok: "another-token", code: exitAborted, stderrHas: "check the API token"},
		{name: "400 echoing the request as JSON", code: exitRowsFailed, stderrHas: "HTTP 400",
			intercept: echo(400, "application/json", func(n int, req string) string {
				return `{"message":` + jsonString(strings.Repeat("p", 20*n)+"cannot parse "+req) + `}`
			})},
		{name: "400 echoing the request raw, token across the cut", code: exitRowsFailed, stderrHas: "HTTP 400",
			intercept: echo(400, "text/plain", func(n int, req string) string {
				// The token starts at 190 to 198 characters, around the 200 kept.
				i := strings.Index(req, secret)
				return strings.Repeat("p", 188+2*n-i) + req + "\nsecond line"
			})},
		{name: "422 with the token HTML-escaped", token: secret + "&<", serverTok: secret + "&<", code: exitRowsFailed,
			intercept: echo(422, "text/html", func(n int, req string) string {
				return "<html><body><pre>" + strings.NewReplacer("&", "&amp;", "<", "&lt;").Replace(req) + "</pre></body></html>"
			})},
		{name: "HTML 502 from a proxy", code: exitRowsFailed, stderrHas: "502 Bad Gateway",
			intercept: echo(502, "text/html", func(n int, req string) string {
				return "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>" + req + "</p></body></html>"
			})},
		{name: "500 with a body over 1 MiB", code: exitRowsFailed,
			intercept: echo(500, "text/plain", func(n int, req string) string { return req + big })},
		{name: "200 with a body over 1 MiB", code: exitRowsFailed, stderrHas: "larger than 1 MiB",
			intercept: echo(200, "application/json", func(n int, req string) string {
				return `{"sessionToken":"t","echo":` + jsonString(req+big) + `}`
			})},
		{name: "200 not JSON", code: exitRowsFailed, stderrHas: "not the expected JSON",
			intercept: echo(200, "text/plain", func(n int, req string) string { return "OK " + req + "\n" })},
		{name: "200 without a session token", code: exitRowsFailed, stderrHas: "without a sessionToken",
			intercept: echo(200, "application/json", func(n int, req string) string { return `{"kind":"CUSTOM","echo":` + jsonString(req) + `}` })},
		{name: "connection reset", code: exitRowsFailed,
			intercept: func(int, *provisiontest.Request) *provisiontest.Reply { return &provisiontest.Reply{Reset: true} }},
		{name: "invalid rows", input: "email,locale,photo\nAnn <a@x.com>,xx-@@,javascript:x\nb@x.com,en,\nb@x.com,,\n",
			code: exitRowsFailed, stderrHas: "repeats row 3"},
		{name: "dry run", args: []string{"--dry-run"}, code: exitOK},
		{name: "no email column", input: "name\nAnn\n", code: exitUsage, stderrHas: "no email column (found: name)"},
		{name: "duplicate header", input: "email,Name,name\na@x.com,A,B\n", code: exitUsage, stderrHas: "twice"},
		{name: "UTF-16 without a byte-order mark", input: "e\x00m\x00a\x00i\x00l\x00\n\x00", code: exitUsage, stderrHas: "UTF-16LE"},
		{name: "Latin-1 rows", input: "email,name\na@x.com,Ren\xe9e\n", code: exitUsage, stderrHas: "--encoding windows-1252"},
		{name: "a stray quote", input: "email,name\na@x.com,Ann \"A\" Lee\n", code: exitRowsFailed, stderrHas: "a quote"},
		{name: "token as a flag", args: []string{"--api-token=" + secret}, code: exitUsage, stderrHas: "never a flag"},
		{name: "token as a flag, spaced", args: []string{"-api-token", secret}, code: exitUsage, stderrHas: "never a flag"},
		{name: "token as the token file", args: []string{"--api-token-file", secret}, code: exitUsage, stderrHas: "--api-token-file"},
		{name: "token in an unknown flag", args: []string{"--apitoken=" + secret}, code: exitUsage},
		{name: "bad delimiter", args: []string{"--delimiter", "|"}, code: exitUsage},
		{name: "plain http to another host", args: []string{"--base-url", "http://api.example.com"}, code: exitUsage, stderrHas: "plain http"},
	}
	for _, format := range []string{"text", "json"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				token := tt.token
				if token == "" {
					token = secret
				}
				srv := newAPI(t, func(s *provisiontest.Server) {
					s.APIToken = token
					if tt.serverTok != "" {
						s.APIToken = tt.serverTok
					}
					s.Intercept = tt.intercept
				})
				input := tt.input
				if input == "" {
					input = peopleCSV
				}
				args := append([]string{"--log-format", format, "--space-id", provisiontest.DefaultSpaceID,
					"--base-url", srv.URL, "--subdomain", "acme", "--widget-id", "w1"}, tt.args...)
				o := runCLI(t, token, input, args...)
				noSecret(t, o, token)
				if o.code != tt.code {
					t.Errorf("exit %d, want %d; stderr:\n%s", o.code, tt.code, o.stderr)
				}
				if !strings.Contains(o.stderr, tt.stderrHas) {
					t.Errorf("stderr does not say %q:\n%s", tt.stderrHas, o.stderr)
				}
				if tt.code == exitRowsFailed {
					checkErrorColumn(t, o.report)
				}
			})
		}
	}
}

// checkErrorColumn checks that every failed or invalid row of the report says why in one
// short line.
func checkErrorColumn(t *testing.T, report string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(report)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("report: %v, %d lines:\n%s", err, len(recs), report)
	}
	for _, rec := range recs[1:] {
		status, msg := rec[6], rec[13]
		if status != "failed" && status != "invalid" {
			continue
		}
		if msg == "" || len(msg) > 400 || strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "</") || strings.Contains(strings.ToLower(msg), "<html") {
			t.Errorf("row %s: error %q: want one short readable line", rec[0], msg)
		}
	}
}

func TestTokenFileReadableByOthers(t *testing.T) {
	t.Parallel()
	srv := newAPI(t, func(s *provisiontest.Server) { s.APIToken = secret })
	file := readableSecretFile(t, "token")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			o := runCLI(t, "", peopleCSV, "--api-token-file", file, "--log-format", format,
				"--space-id", provisiontest.DefaultSpaceID, "--base-url", srv.URL, "--subdomain", "acme")
			noSecret(t, o, secret)
			exitOKSaying(t, "a token file others can read", o.code, o.stderr, "readable by other users")
		})
	}
}

// TestLinksWithOddTokens checks that a session token with every character a plausible token may hold comes back
// whole from the links of the report.
func TestLinksWithOddTokens(t *testing.T) {
	t.Parallel()
	tokens := []string{"41b0d309e0e4_1648", "a.b-c_D9", "x..y", "Z-_."}
	srv := newAPI(t, func(s *provisiontest.Server) {
		s.APIToken = secret
		s.TokenFunc = func(n int) string { return tokens[(n-1)%len(tokens)] }
	})
	input := "email\n"
	for i := range tokens {
		input += fmt.Sprintf("u%d@x.com\n", i)
	}
	o := runCLI(t, secret, input, "--concurrency", "1", "--space-id", provisiontest.DefaultSpaceID,
		"--base-url", srv.URL, "--subdomain", "acme", "--widget-url", "https://idea-widget.ideanote.io/idea-confirmation?config=w1#top")
	if o.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", o.code, o.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(o.report)).ReadAll()
	if err != nil || len(recs) != len(tokens)+1 {
		t.Fatalf("report: %v\n%s", err, o.report)
	}
	for _, rec := range recs[1:] {
		token, login, widget := rec[8], rec[9], rec[10]
		t.Run(token, func(t *testing.T) {
			u, err := url.Parse(login)
			if err != nil || u.Host != "acme.ideanote.io" || u.RawQuery != "" || u.Fragment != "" ||
				u.Path != "/login/session/"+token || strings.ContainsAny(login, " ") {
				t.Errorf("login link %q does not carry the token %q in its path", login, token)
			}
			w, err := url.Parse(widget)
			if err != nil || w.Query().Get("auth.sessionToken") != token || w.Query().Get("config") != "w1" ||
				len(w.Query()["auth.sessionToken"]) != 1 || w.Fragment != "top" || strings.ContainsAny(widget, " ") {
				t.Errorf("widget link %q does not carry the token %q", widget, token)
			}
		})
	}
}
