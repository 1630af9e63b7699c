package report

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestReadLinesRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	path := writeReport(t,
		provision.Result{Row: provision.Row{Line: 2, User: provision.User{Email: "ana@example.com", Sub: "E1", Name: "Ana López", Team: "R&D", Locale: "es-ES"}},
			Status: provision.StatusOK, UserID: "u1", Token: "tok_1", Finished: at, Change: "new"},
		provision.Result{Row: provision.Row{Line: 3, User: provision.User{Email: "=evil@example.com", Name: "-Bob", Team: "+1", Locale: "fr"}},
			Status: provision.StatusOK, UserID: "u2", Token: "tok_2", Finished: at},
		provision.Result{Row: provision.Row{Line: 4, User: provision.User{Email: "x"}}, Status: provision.StatusInvalid})
	links, err := NewLinks("acme", "", "", "w1")
	if err != nil {
		t.Fatal(err)
	}
	// A line cut short by a crash.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("5,cut@example.com,,Cut")
	f.Close()

	lines, err := ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("read %d lines, want 3: %+v", len(lines), lines)
	}
	want := Line{Row: 2, User: provision.User{Email: "ana@example.com", Sub: "E1", Name: "Ana López", Team: "R&D", Locale: "es-ES"}, Status: "ok",
		UserID: "u1", LoginURL: links.WebApp("tok_1"), WidgetURL: links.Widget("tok_1"), Change: "new", Finished: at}
	if lines[0] != want {
		t.Errorf("line 0 = %+v\nwant     %+v", lines[0], want)
	}
	if l := lines[1]; l.Email != "=evil@example.com" || l.Name != "-Bob" || l.Team != "+1" {
		t.Errorf("neutralised cells not restored: %+v", l)
	}
	if l := lines[2]; l.Row != 4 || l.Status != "invalid" || l.LoginURL != "" {
		t.Errorf("line 2 = %+v", l)
	}
}

func TestReadLinesRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty"},
		{"not a report", "email,name\na@example.com,A\n", "no row, status, login_url, widget_url column"},
		{"row not a number", "row,email,status,login_url,widget_url\nx,a@example.com,ok,,\n", `line 2: row "x" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := testfile.Temp(t, "r.csv", tt.content)
			_, err := ReadLines(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestReadLinesBOMAndMinimalColumns(t *testing.T) {
	t.Parallel()
	path := testfile.Temp(t, "r.csv", "\ufeffrow,email,status,login_url,widget_url\n7,a@example.com,ok,https://x/login/session/t,\n")
	lines, err := ReadLines(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].Row != 7 || lines[0].LoginURL != "https://x/login/session/t" {
		t.Errorf("lines = %+v", lines)
	}
}
