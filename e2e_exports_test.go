package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// person is what the fake must receive for one person: the data fields sent, by their JSON
// names, and the row of the input they came from. A field left out must not be sent.
type person struct {
	row    int
	fields map[string]string
}

// encoded returns text in the encoding e, after prefix (a byte-order mark).
func encoded(t *testing.T, e encoding.Encoding, prefix, text string) string {
	t.Helper()
	b, err := e.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + b
}

// xlsxFile returns a workbook with rows on a sheet called sheet (after an empty first sheet
// when sheet is not "Sheet1"), as Excel stores them: numbers as numbers, dates as dates.
func xlsxFile(t *testing.T, sheet string, rows [][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if sheet != "Sheet1" {
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
	}
	date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if v != nil {
				f.SetCellValue(sheet, cell, v)
			}
			if _, ok := v.(time.Time); ok {
				f.SetCellStyle(sheet, cell, cell, date)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestExports runs exports as HR systems and spreadsheets write them, one per language of the
// aliases, and checks what the fake Ideanote received for each person and the report.
func TestExports(t *testing.T) {
	hired := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		file    string // input file name
		content func(t *testing.T) string
		args    []string
		want    map[string]person // by email
		invalid map[string]string // email -> part of the error, for rows reported invalid
		logs    string            // in stderr
	}{
		{name: "French Excel CSV, UTF-8 with BOM", file: "export.csv",
			content: func(t *testing.T) string {
				return "\ufeffNom complet;E-mail;Service;Langue;Matricule\r\n" +
					"Chloé Dubois;chloe.dubois@acme.fr;Qualité;Français;4711\r\n" +
					"Marc Petit;marc.petit@acme.fr;Ventes;Anglais;4712\r\n" +
					"Zoë Martin;zoe.martin@acme.fr;Ventes;fr_FR;4713\r\n"
			},
			want: map[string]person{
				"chloe.dubois@acme.fr": {2, map[string]string{"name": "Chloé Dubois", "team": "Qualité", "locale": "fr", "sub": "4711"}},
				"marc.petit@acme.fr":   {3, map[string]string{"name": "Marc Petit", "team": "Ventes", "locale": "en", "sub": "4712"}},
				"zoe.martin@acme.fr":   {4, map[string]string{"name": "Zoë Martin", "team": "Ventes", "locale": "fr-FR", "sub": "4713"}},
			}},
		{name: "BambooHR", file: "bamboohr.csv",
			content: func(t *testing.T) string {
				return "Employee #,First Name,Last Name,Work Email,Department,Job Title,Hire Date\n" +
					"101,Ana,López,ana@acme.com,Engineering,Developer,2024-03-01\n" +
					"102,Bob,,bob@acme.com,Sales,,\n" +
					"103,Cy,Young,cy@acme.com\n" // the spreadsheet dropped the empty cells at the end
			},
			want: map[string]person{
				"ana@acme.com": {2, map[string]string{"name": "Ana López", "team": "Engineering", "sub": "101"}},
				"bob@acme.com": {3, map[string]string{"name": "Bob", "team": "Sales", "sub": "102"}},
				"cy@acme.com":  {4, map[string]string{"name": "Cy Young", "sub": "103"}},
			},
			logs: `msg="ignored columns: Job Title, Hire Date"`},
		{name: "Spanish, Windows-1252 with --encoding", file: "empleados.csv",
			content: func(t *testing.T) string {
				return encoded(t, charmap.Windows1252, "", "Nº empleado;Nombre;Apellidos;Correo electrónico;Departamento;Idioma\r\n"+
					"E-1;José;García Núñez;jose.garcia@acme.es;Logística;Español\r\n"+
					"E-2;Inés;Peña;ines.pena@acme.es;Finanzas;Inglés\r\n")
			},
			args: []string{"--encoding", "windows-1252"},
			want: map[string]person{
				"jose.garcia@acme.es": {2, map[string]string{"name": "José García Núñez", "team": "Logística", "locale": "es", "sub": "E-1"}},
				"ines.pena@acme.es":   {3, map[string]string{"name": "Inés Peña", "team": "Finanzas", "locale": "en", "sub": "E-2"}},
			}},
		{name: "German workbook", file: "mitarbeiter.xlsx",
			content: func(t *testing.T) string {
				return xlsxFile(t, "Sheet1", [][]any{
					{"Personalnummer", "Vorname", "Nachname", "E-Mail-Adresse", "Abteilung", "Sprache", "Eintrittsdatum"},
					{4711, "Jürgen", "Müller", "j.mueller@acme.de", "Forschung & Entwicklung", "Deutsch", hired},
					{4712.0, "Søren", "Ørsted", "s.oersted@acme.de", "Vertrieb", "Englisch"},
					{4713, "Ann", "Lee", "a.lee@acme.de"},
				})
			},
			want: map[string]person{
				"j.mueller@acme.de": {2, map[string]string{"name": "Jürgen Müller", "team": "Forschung & Entwicklung", "locale": "de", "sub": "4711"}},
				"s.oersted@acme.de": {3, map[string]string{"name": "Søren Ørsted", "team": "Vertrieb", "locale": "en", "sub": "4712"}},
				"a.lee@acme.de":     {4, map[string]string{"name": "Ann Lee", "sub": "4713"}},
			},
			logs: `msg="ignored columns: Eintrittsdatum"`},
		{name: "Italian, Excel Unicode Text (UTF-16LE, tabs)", file: "dipendenti.txt",
			content: func(t *testing.T) string {
				return encoded(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "\xff\xfe",
					"Matricola\tNome\tCognome\tEmail aziendale\tReparto\tLingua\r\n"+
						"M01\tGiulia\tRossi\tgiulia.rossi@acme.it\tAmministrazione\tItaliano\r\n"+
						"M02\tLuca\tBianchi\tluca.bianchi@acme.it\tProduzione\tinglese\r\n")
			},
			want: map[string]person{
				"giulia.rossi@acme.it": {2, map[string]string{"name": "Giulia Rossi", "team": "Amministrazione", "locale": "it", "sub": "M01"}},
				"luca.bianchi@acme.it": {3, map[string]string{"name": "Luca Bianchi", "team": "Produzione", "locale": "en", "sub": "M02"}},
			}},
		{name: "a sheet by name, the default locale as a name", file: "staff.xlsm",
			content: func(t *testing.T) string {
				return xlsxFile(t, "Staff", [][]any{{"Full Name", "Email Address", "Preferred Language"},
					{"Ann Lee", "ann@acme.com", "English (United States)"}, {"Bo Li", "bo@acme.com"}})
			},
			args: []string{"--sheet", "staff", "--locale", "Français"},
			want: map[string]person{
				"ann@acme.com": {2, map[string]string{"name": "Ann Lee", "locale": "en-US"}},
				"bo@acme.com":  {3, map[string]string{"name": "Bo Li", "locale": "fr"}},
			}},
		{name: "a stray quote keeps the row's email", file: "people.csv",
			content: func(t *testing.T) string {
				return "email,name,team\n" +
					"ann@acme.com,Ann \"Nan\" Lee,Ops\n" +
					"bo@acme.com,\"Bo,Ops\n" + // a quote opened and never closed
					"cy@acme.com,Cy,Ops\n"
			},
			want: map[string]person{"cy@acme.com": {4, map[string]string{"name": "Cy", "team": "Ops"}}},
			invalid: map[string]string{"ann@acme.com": "row 2: a quote (\") inside an unquoted cell",
				"bo@acme.com": "row 3: a quote (\") at line 3, column 13 opens a cell that is never closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPI(t)
			in := testfile.Temp(t, tt.file, tt.content(t))
			rep := filepath.Join(t.TempDir(), "report.csv")
			args := append([]string{"--report", rep, "--rate", "0", "--subdomain", "acme", "--progress", "never"}, tt.args...)
			got := invoke(t, srv, append(args, in)...)
			wantCode := 0
			if len(tt.invalid) > 0 {
				wantCode = 1
			}
			if got.code != wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got.code, wantCode, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.logs) {
				t.Errorf("stderr does not say %s:\n%s", tt.logs, got.stderr)
			}
			checkSent(t, srv, tt.want)
			rows := readReport(t, rep)
			if len(rows) != len(tt.want)+len(tt.invalid) {
				t.Errorf("report has %d rows, want %d", len(rows), len(tt.want)+len(tt.invalid))
			}
			for email, p := range tt.want {
				r := rows[email]
				if r["status"] != "ok" || r["row"] != strconv.Itoa(p.row) {
					t.Errorf("%s: report row %s status %s, want row %d ok", email, r["row"], r["status"], p.row)
				}
				for _, col := range []string{"sub", "name", "team", "locale"} {
					if r[col] != p.fields[col] {
						t.Errorf("%s: report %s %q, want %q", email, col, r[col], p.fields[col])
					}
				}
			}
			for email, msg := range tt.invalid {
				if r := rows[email]; r["status"] != "invalid" || !strings.Contains(r["error"], msg) {
					t.Errorf("%s: report %s %q, want invalid with %q", email, r["status"], r["error"], msg)
				}
			}
		})
	}
}

// checkSent checks that the fake received exactly one request for each person, with exactly
// the fields wanted.
func checkSent(t *testing.T, srv *provisiontest.Server, want map[string]person) {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) != len(want) {
		t.Errorf("the fake received %d requests, want %d", len(reqs), len(want))
	}
	for _, r := range reqs {
		p, ok := want[r.Email()]
		if !ok {
			t.Errorf("unexpected request for %q", r.Email())
			continue
		}
		for _, field := range []string{"sub", "name", "team", "locale", "avatarUrl"} {
			got, sent := r.Data[field].(string)
			if w := p.fields[field]; got != w || sent != (w != "") {
				t.Errorf("%s: sent %s = %q (sent: %v), want %q", r.Email(), field, got, sent, w)
			}
		}
	}
}

func TestExportRefused(t *testing.T) {
	tests := []struct {
		name, file, content, want string
		args                      []string
	}{
		{name: "Windows-1252 without --encoding", file: "export.csv",
			content: "E-mail;Nom complet\r\nrenee@acme.fr;Ren\xe9e Lef\xe8vre\r\n",
			want:    `export.csv: the input is not UTF-8 (line 2 holds the byte 0xE9, in "Renée" as windows-1252): it looks like windows-1252. Give --encoding windows-1252`},
		{name: "a CSV saved as .xlsx", file: "people.xlsx", content: "email\nann@acme.com\n", want: "people.xlsx: not an .xlsx file"},
		{name: "a truncated workbook", file: "people.xlsx", content: "PK\x03\x04\x14\x00\x06\x00", want: "people.xlsx: not an .xlsx file"},
		{name: "an unknown sheet", file: "people.xlsx", args: []string{"--sheet", "Staf"}, want: "--sheet Staf: no such sheet in the workbook (sheets: Sheet1)"},
		{name: "no email column", file: "bamboohr.csv", content: "Employee #,First Name,Last Name,Personal Email\n1,A,B,a@b.c\n",
			want: "no email column (found: Employee #, First Name, Last Name, Personal Email): name it email, or use --map email=COLUMN"},
		{name: "an unknown encoding", file: "p.csv", content: "email\n", args: []string{"--encoding", "latin-9"}, want: `--encoding "latin-9": not an encoding`},
		{name: "a mapping to no column", file: "p.csv", content: "email,name\na@x.com,A\n", args: []string{"--map", "team=Org"},
			want: `p.csv: --map team=Org: no column "Org" in the header (found: email, name)`},
		{name: "a mapping that is not FIELD=COLUMN", file: "p.csv", content: "email\n", args: []string{"--map", "email"}, want: `--map: "email" is not FIELD=COLUMN`},
		{name: "a title above a header without email", file: "p.csv", content: "Staff list\n\nName,Team\nAnn,Ops\n",
			want: "no email column (found: Staff list): name it email, or use --map email=COLUMN or --header-row N"},
		{name: "a sheet of a CSV", file: "p.csv", content: "email\n", args: []string{"--sheet", "Staff"}, want: "p.csv: --sheet Staff: the input is a CSV file, which has no sheets"},
		{name: "a locale that is no language", file: "p.csv", content: "email\n", args: []string{"--locale", "Klingonese"}, want: `--locale "Klingonese" is not a language`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPI(t)
			content := tt.content
			if content == "" {
				content = xlsxFile(t, "Sheet1", [][]any{{"email"}, {"ann@acme.com"}})
			}
			in := testfile.Temp(t, tt.file, content)
			rep := filepath.Join(t.TempDir(), "report.csv")
			got := invoke(t, srv, append(append([]string{"--report", rep, "--subdomain", "acme"}, tt.args...), in)...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 with %q; stderr:\n%s", got.code, tt.want, got.stderr)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
			if strings.Count(got.stderr, "\n") > 1 {
				t.Errorf("more than one line for a property of the file:\n%s", got.stderr)
			}
		})
	}
}

func TestInputNotAFile(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.csv"): "missing.csv: no such file",
		dir:                               ": a directory, not a file",
	} {
		got := invoke(t, nil, "--dry-run", "--report", filepath.Join(t.TempDir(), "r.csv"), path)
		if got.code != exitUsage || !strings.Contains(got.stderr, want) {
			t.Errorf("%s: exit %d, want 2 with %q; stderr:\n%s", path, got.code, want, got.stderr)
		}
	}
}
