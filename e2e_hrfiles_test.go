package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// received is what the fake Ideanote holds per email after a run: what each person carried to
// the API.
func received(srv *provisiontest.Server) map[string]provisiontest.User {
	out := make(map[string]provisiontest.User)
	for _, u := range srv.Users() {
		out[u.Email] = u
	}
	return out
}

// HR files as they come, through the whole program: what reaches the API per person, what the
// report says of the rows that cannot be sent, and that nothing stops the other rows.
func TestHRFiles(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2<<20)
	tests := []struct {
		name     string
		file     string // file name: its extension says the format
		content  string
		args     []string
		wantCode int
		sent     map[string]string // email -> "name|team" the fake must hold
		invalid  map[string]string // report row -> words its error must hold
		wantErr  string            // words of stderr
	}{
		{
			name:     "a stray byte in a UTF-8 file with a byte-order mark invalidates its row only",
			file:     "bom.csv",
			content:  "\ufeffemail,name,team\nana@example.com,Ana Lemaître,Ventes\nbob@example.com,Bob Lema\xfftre,Ventes\ncy@example.com,Cy Noël,Achats\n",
			wantCode: 1,
			sent:     map[string]string{"ana@example.com": "Ana Lemaître|Ventes", "cy@example.com": "Cy Noël|Achats"},
			invalid:  map[string]string{"3": "0xFF"},
		},
		{
			name:     "a header below a title row and a blank row, row numbers the file's own",
			file:     "titled.csv",
			content:  "Liste du personnel — export RH du 07/12/2026,,\n,,\nAdresse e-mail,Nom,Service\nana@example.com,Ana,Ventes\nnot-an-email,Bob,Ventes\n",
			wantCode: 1,
			sent:     map[string]string{"ana@example.com": "Ana|Ventes"},
			invalid:  map[string]string{"5": "email"},
		},
		{
			name:     "--header-row names the header",
			file:     "named.csv",
			content:  "export,of,people\nwith,a,title\nemail,name,team\nana@example.com,Ana,Ventes\n",
			args:     []string{"--header-row", "3"},
			wantCode: 0,
			sent:     map[string]string{"ana@example.com": "Ana|Ventes"},
		},
		{
			name:     "a line break in a closed quoted name or team is one space",
			file:     "breaks.csv",
			content:  "email,name,team\nana@example.com,\"Ana\nMaria\",\"Vertrieb\r\nNord\"\n",
			wantCode: 0,
			sent:     map[string]string{"ana@example.com": "Ana Maria|Vertrieb Nord"},
		},
		{
			name:     "a closed quoted cell over the limit invalidates its own row, the next is sent",
			file:     "big.csv",
			content:  "email,name,team\nana@example.com,Ana,\"" + big + "\"\nd@example.com,D,Ventes\n",
			wantCode: 1,
			sent:     map[string]string{"d@example.com": "D|Ventes"},
			invalid:  map[string]string{"2": "is 2097152 bytes, at most 1024"},
		},
		{
			name:     "the HR systems' email headers",
			file:     "workday.csv",
			content:  "Work E-mail Address,Legal First Name,Legal Last Name,Department\nana@example.com,Ana,Lima,Ventes\n",
			wantCode: 0,
			sent:     map[string]string{"ana@example.com": "Ana Lima|Ventes"},
		},
		{
			name:     "a report of this program is refused as input",
			file:     "report.csv",
			content:  "row,email,sub,name,team,locale,avatar_url,status,user_id,session_token,login_url,widget_url,attempts,http_status,error,finished_at\n2,ana@example.com,,Ana,,,,ok,u1,t1,https://acme.ideanote.io/login/session/t1,,1,200,,2026-12-07T03:00:00Z\n",
			wantCode: 2,
			wantErr:  "report of this program",
		},
		{
			name:     "an encoding that garbles a UTF-8 file is refused before anything is sent",
			file:     "utf8.csv",
			content:  "email,name\nana@example.com,Chloé Noël\n",
			args:     []string{"--encoding", "windows-1252"},
			wantCode: 2,
			wantErr:  "ChloÃ©",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPI(t)
			in := testfile.Temp(t, tt.file, tt.content)
			rep := filepath.Join(t.TempDir(), "out.csv")
			args := append([]string{"--report", rep, "--rate", "0", "--subdomain", "acme", in}, tt.args...)
			got := invoke(t, srv, args...)
			if got.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got.code, tt.wantCode, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, got.stderr)
			}
			checkReceived(t, srv, tt.sent)
			if tt.wantCode == 2 {
				return
			}
			rows := readReport(t, rep)
			byRow := make(map[string]map[string]string)
			for _, r := range rows {
				byRow[r["row"]] = r
			}
			for row, words := range tt.invalid {
				r := byRow[row]
				if r["status"] != "invalid" || !strings.Contains(r["error"], words) {
					t.Errorf("row %s reported %q %q, want invalid with %q", row, r["status"], r["error"], words)
				}
			}
			if len(rows) != len(tt.sent)+len(tt.invalid) {
				t.Errorf("the report has %d lines, want %d", len(rows), len(tt.sent)+len(tt.invalid))
			}
		})
	}
}

// checkReceived checks that the fake holds exactly the people of want, email -> "name|team".
func checkReceived(t *testing.T, srv *provisiontest.Server, want map[string]string) {
	t.Helper()
	got := received(srv)
	for email, nt := range want {
		u, ok := got[email]
		if !ok {
			t.Errorf("%s never reached the API", email)
			continue
		}
		if u.Name+"|"+u.Team != nt {
			t.Errorf("%s reached the API as %q, want %q", email, u.Name+"|"+u.Team, nt)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the API holds %d people, want %d: %v", len(got), len(want), got)
	}
}

// An .xlsx cell written with Alt+Enter holds a line break: a team on two lines is one team.
func TestHRFilesWorkbookLineBreak(t *testing.T) {
	t.Parallel()
	srv := newAPI(t)
	f := excelize.NewFile()
	defer f.Close()
	for cell, v := range map[string]string{"A1": "E-Mail-Adresse", "B1": "Name", "C1": "Abteilung",
		"A2": "ana@example.com", "B2": "Ana Groß", "C2": "Vertrieb\nNord"} {
		if err := f.SetCellValue("Sheet1", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	in := filepath.Join(t.TempDir(), "people.xlsx")
	if err := f.SaveAs(in); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(t.TempDir(), "out.csv")
	if got := invoke(t, srv, "--report", rep, "--rate", "0", "--subdomain", "acme", in); got.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", got.code, got.stderr)
	}
	checkReceived(t, srv, map[string]string{"ana@example.com": "Ana Groß|Vertrieb Nord"})
}
