package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// person is what a row carries to the API, or the error that keeps it from being sent.
type person struct {
	Line              int
	Email, Name, Team string
	Err               string // a part of the error, "" for a valid row
}

// readFile opens data as a file, as the run does, and returns each row as a person.
func readFile(t *testing.T, name string, data []byte, opts Options) ([]person, error) {
	t.Helper()
	r, err := Open(testfile.Temp(t, name, data), nil, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []person
	for _, row := range readRows(t, r) {
		out = append(out, personOf(row))
	}
	return out, nil
}

func personOf(row provision.Row) person {
	p := person{Line: row.Line, Email: row.User.Email, Name: row.User.Name, Team: row.User.Team}
	if row.Err != nil {
		p.Err = row.Err.Error()
	}
	return p
}

// samePeople compares rows with what is wanted, the error by its part.
func samePeople(t *testing.T, got, want []person) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Line != w.Line || g.Email != w.Email || (w.Err == "" && (g.Name != w.Name || g.Team != w.Team)) ||
			(w.Err == "") != (g.Err == "") || !strings.Contains(g.Err, w.Err) {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
}

// fifteen is a UTF-8 export of 14 people; line 12 holds what bad12 gives.
func fifteen(bom string, bad12 string) ([]byte, []person) {
	var b strings.Builder
	b.WriteString(bom + "email;name;team\r\n")
	var want []person
	for line := 2; line <= 15; line++ {
		email := fmt.Sprintf("p%d@acme.fr", line)
		name, team := fmt.Sprintf("Chloé Noël %d", line), "Qualité"
		if line == 12 {
			name = "Lema" + bad12 + "tre"
		}
		fmt.Fprintf(&b, "%s;%s;%s\r\n", email, name, team)
		want = append(want, person{Line: line, Email: email, Name: name, Team: team})
	}
	return []byte(b.String()), want
}

func TestStrayBytesInvalidTheirRowOnly(t *testing.T) {
	for _, tt := range []struct {
		name, bom, bad, err string
		opts                Options
	}{
		{name: "BOM and 0xFF", bom: "\ufeff", bad: "\xff", err: "row 12: name: holds bytes that are not UTF-8 (0xFF, in \"Lema\uFFFDtre\")"},
		{name: "BOM and 0x80", bom: "\ufeff", bad: "\x80", err: "(0x80, in"},
		{name: "no BOM, accents elsewhere", bad: "\xff", err: "row 12: name: holds bytes that are not UTF-8 (0xFF"},
		{name: "BOM decides over euc-kr", bom: "\ufeff", bad: "\xff", opts: Options{Encoding: "euc-kr"}, err: "(0xFF"},
		{name: "BOM decides over windows-1252", bom: "\ufeff", bad: "\xff", opts: Options{Encoding: "windows-1252"}, err: "(0xFF"},
		{name: "BOM decides over latin1", bom: "\ufeff", bad: "\xff", opts: Options{Encoding: "latin1"}, err: "(0xFF"},
		{name: "utf-8 named", bad: "\xff", opts: Options{Encoding: "utf-8"}, err: "(0xFF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, want := fifteen(tt.bom, tt.bad)
			want[10].Err = tt.err
			got, err := readFile(t, "export.csv", data, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			samePeople(t, got, want)
		})
	}
}

// follow opens data with opts, then as each refusal advises, and returns the rows read or the
// last refusal; advice that leads back to a refusal already seen fails the test.
func follow(t *testing.T, data []byte, opts Options) ([]person, []string) {
	t.Helper()
	var msgs []string
	for {
		got, err := readFile(t, "export.csv", data, opts)
		if err == nil {
			return got, msgs
		}
		msgs = append(msgs, err.Error())
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("err %v, want a *FileError", err)
		}
		if len(fe.Fix) == 0 {
			return nil, msgs
		}
		if fe.Fix[0].Option != "Encoding" || fe.Fix[0].Value == opts.Encoding || len(msgs) > 3 {
			t.Fatalf("advice loops: %q", msgs)
		}
		opts.Encoding = fe.Fix[0].Value
	}
}

func TestEncodingAdvice(t *testing.T) {
	cp1252 := func(s string) []byte { b, _ := charmap.Windows1252.NewEncoder().Bytes([]byte(s)); return b }
	for _, tt := range []struct {
		name  string
		data  []byte
		opts  Options
		msgs  []string // a part of each refusal, in order
		names []string // then the names read, "" for a row that is invalid
	}{
		{name: "one stray 0x80 is windows-1252, not gbk", data: []byte("email,name\na@x.fr,Ann\nb@x.fr,Bob \x80\n"),
			msgs:  []string{`the input is not UTF-8 (line 3 holds the byte 0x80, in "€" as windows-1252): it looks like windows-1252. Give the encoding windows-1252`},
			names: []string{"Ann", "Bob €"}},
		{name: "one stray 0xFF is windows-1252, not euc-kr", data: []byte("email,name\na@x.fr,Lema\xfftre\n"),
			msgs: []string{`it looks like windows-1252`}, names: []string{"Lemaÿtre"}},
		{name: "UTF-8 read as windows-1252", data: []byte("email,name\nc@x.fr,Chloé Noël\n"), opts: Options{Encoding: "windows-1252"},
			msgs:  []string{`the input is UTF-8, not windows-1252: line 2 holds "Chloé", which as windows-1252 would become "ChloÃ©". Give the encoding utf-8`},
			names: []string{"Chloé Noël"}},
		{name: "UTF-8 read as latin1", data: []byte("email,name\nc@x.fr,Chloé Noël\n"), opts: Options{Encoding: "latin1"},
			msgs: []string{`would become "ChloÃ©"`}, names: []string{"Chloé Noël"}},
		{name: "windows-1252 read as iso-8859-15", data: cp1252("email,name\nz@x.fr,Zoë\ne@x.fr,Œuvre “Lé”\n"), opts: Options{Encoding: "iso-8859-15"},
			msgs:  []string{"the input is not in iso-8859-15: line 3 would hold \"\uFFFDuvre\" as iso-8859-15 (U+FFFD, a byte it has no character for); it looks like windows-1252. Give the encoding windows-1252"},
			names: []string{"Zoë", "Œuvre “Lé”"}},
		{name: "windows-1252 read as iso-8859-2", data: cp1252("email,name\nz@x.fr,Zoë 5€\n"), opts: Options{Encoding: "iso-8859-2"},
			msgs:  []string{"line 2 would hold \"5\uFFFD\" as iso-8859-2 (U+FFFD, a byte it has no character for); it looks like windows-1252"},
			names: []string{"Zoë 5€"}},
		{name: "a byte windows-1252 has no letter for", data: []byte("email,name\nb@x.fr,Bo\x81b\n"), opts: Options{Encoding: "windows-1252"},
			msgs: []string{"line 2 would hold \"Bo\uFFFDb\" as windows-1252 (U+FFFD, a byte it has no character for); it looks like windows-1251"}, names: []string{"BoЃb"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, msgs := follow(t, tt.data, tt.opts)
			if len(msgs) != len(tt.msgs) {
				t.Fatalf("refusals %q, want %d", msgs, len(tt.msgs))
			}
			for i := range msgs {
				if !strings.Contains(msgs[i], tt.msgs[i]) {
					t.Errorf("refusal %q, want %q", msgs[i], tt.msgs[i])
				}
			}
			if len(got) != len(tt.names) {
				t.Fatalf("rows %+v, want names %q", got, tt.names)
			}
			for i, p := range got {
				if p.Err != "" || p.Name != tt.names[i] {
					t.Errorf("row %+v, want name %q", p, tt.names[i])
				}
			}
		})
	}
}

func TestLineBreaksFolded(t *testing.T) {
	csv := "email,name,team\r\n" +
		"a@x.de,\"Anna\r\nMaria Schmidt\",\"Vertrieb\r\nNord\"\r\n" +
		"b@x.de,Bob, Ops \n" +
		"\"c@x.de\nd@x.de\",Carl,\"Ops \n\n Süd\"\n" +
		"e@x.de,Eve,Ops\n"
	got, err := readFile(t, "export.csv", []byte(csv), Options{})
	if err != nil {
		t.Fatal(err)
	}
	samePeople(t, got, []person{
		{Line: 2, Email: "a@x.de", Name: "Anna Maria Schmidt", Team: "Vertrieb Nord"},
		{Line: 5, Email: "b@x.de", Name: "Bob", Team: "Ops"},
		{Line: 6, Email: "c@x.de\nd@x.de", Err: "row 6: email: holds a line break"},
		{Line: 10, Email: "e@x.de", Name: "Eve", Team: "Ops"},
	})

	book := workbook(t, [][]any{{"email", "name", "team", "locale"}, {"a@x.de", "Anna\nSchmidt", "Vertrieb\nNord", "de"},
		{"b@x.de", "Bob", "Ops", "de\nfr"}})
	got, err = readFile(t, "export.xlsx", book, Options{})
	if err != nil {
		t.Fatal(err)
	}
	samePeople(t, got, []person{
		{Line: 2, Email: "a@x.de", Name: "Anna Schmidt", Team: "Vertrieb Nord"},
		{Line: 3, Email: "b@x.de", Err: "row 3: locale: holds a line break"},
	})
}

func TestHeaderBelowTitle(t *testing.T) {
	const french = "Liste du personnel — export RH du 07/12/2026\r\n;;\r\nNom;Prénom;Adresse e-mail;Service\r\n" +
		"Noël;Chloé;chloe@acme.fr;Qualité\r\nMartin;Luc;luc@acme.fr;Ventes\r\n"
	want := []person{
		{Line: 4, Email: "chloe@acme.fr", Name: "Chloé Noël", Team: "Qualité"},
		{Line: 5, Email: "luc@acme.fr", Name: "Luc Martin", Team: "Ventes"},
	}
	for _, tt := range []struct {
		name string
		data string
		opts Options
	}{
		{name: "found", data: french},
		{name: "named", data: french, opts: Options{HeaderRow: 3}},
		{name: "found by the mapped column", data: strings.Replace(french, "Adresse e-mail", "Courriel pro", 1),
			opts: Options{Map: map[string]string{"email": "Courriel pro"}}},
		{name: "named below another table", opts: Options{HeaderRow: 6},
			data: "email;name\r\nold@acme.fr;Old\r\n\r\n" + strings.Replace(french, "Adresse e-mail", "email", 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := slices.Clone(want)
			if tt.opts.HeaderRow == 6 {
				for i := range w {
					w[i].Line += 3
				}
			}
			got, err := readFile(t, "export.csv", []byte(tt.data), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			samePeople(t, got, w)
			r, err := Open(testfile.Temp(t, "export.csv", tt.data), nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if n, err := r.CountRows(context.Background()); n != 2 || err != nil {
				t.Errorf("CountRows = %d, %v; want 2", n, err)
			}
		})
	}
	t.Run("xlsx", func(t *testing.T) {
		book := workbook(t, [][]any{{"Personalliste Dezember"}, {}, {"Vorname", "Nachname", "E-Mail-Adresse (geschäftlich)", "Abteilung"},
			{"Jörg", "Weiß", "joerg@acme.de", "Vertrieb\nNord"}})
		got, err := readFile(t, "export.xlsx", book, Options{})
		if err != nil {
			t.Fatal(err)
		}
		samePeople(t, got, []person{{Line: 4, Email: "joerg@acme.de", Name: "Jörg Weiß", Team: "Vertrieb Nord"}})
	})
	t.Run("the mapped column in none of the first rows", func(t *testing.T) {
		_, err := readFile(t, "export.csv", []byte("Liste du personnel\n\nNom;Adresse\nx;y\n"), Options{Map: map[string]string{"email": "Courriel"}})
		if err == nil || err.Error() != `the column mapping email=Courriel: no column "Courriel" in the header (found: Liste du personnel), or use the header row N` {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("none in the first rows", func(t *testing.T) {
		_, err := readFile(t, "export.csv", []byte("Liste du personnel\n\nNom;Adresse\nx;y\n"), Options{})
		if err == nil || err.Error() != "no email column (found: Liste du personnel): name it email, or use the column mapping email=COLUMN or the header row N" {
			t.Errorf("err = %v", err)
		}
	})
}

func TestReportRefused(t *testing.T) {
	header := strings.Join(report.Columns, ",")
	_, err := readFile(t, "report.csv", []byte(header+"\n2,a@x.com,,Ann,,,ok,u1,tok,https://x/login,https://x/w,1,200,,2026-12-07T03:00:00Z\n"), Options{})
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, ErrReport) ||
		!strings.HasPrefix(err.Error(), "the input is a report of this program, not an HR export (it has the columns status, user_id, session_token, login_url, widget_url, finished_at)") {
		t.Errorf("err = %v, want a *FileError for a report", err)
	}
}

func TestMailReportRefused(t *testing.T) {
	header := strings.Join(mail.ReportColumns, ",")
	_, err := readFile(t, "report.mail.csv", []byte(header+"\n2,a@x.com,sent,<m1@x>,1,,2026-12-07T03:00:00Z,ab12\n"), Options{})
	if !errors.Is(err, ErrReport) ||
		!strings.HasPrefix(err.Error(), "the input is a report of this program, not an HR export (it has the columns status, message_id, sent_at, link_sha256)") {
		t.Errorf("err = %v, want a *FileError for a report", err)
	}
}

// An HR export may have a status, a user id and a date sent: not a report without a column
// that only this program writes.
func TestHRColumnsLikeAReportRead(t *testing.T) {
	for _, header := range []string{"Email,Status,User ID,Sent at", "Email,Status,Sent At,Message ID,Finished at"} {
		rows, err := readFile(t, "export.csv", []byte(header+"\nann@acme.com,Active,u1,2026-12-01,x,y\n"), Options{})
		if err != nil || len(rows) != 1 || rows[0].Email != "ann@acme.com" {
			t.Errorf("%s: rows %v, err %v; want the export read", header, rows, err)
		}
	}
}

func TestHRSystemHeaders(t *testing.T) {
	for _, tt := range []struct {
		system, csv string
		want        provision.User
	}{
		{"Entra ID", "userPrincipalName,displayName,surname,mail,givenName,objectId,department,preferredLanguage\n" +
			"ann@corp.onmicrosoft.com,Ann Lee,Lee,ann@acme.com,Ann,0f1e,Sales,en-GB\n",
			provision.User{Email: "ann@acme.com", Sub: "0f1e", Name: "Ann Lee", Team: "Sales", Locale: "en-GB"}},
		{"Entra ID without mail", "User principal name,Display name,Department\nann@acme.com,Ann Lee,Sales\n",
			provision.User{Email: "ann@acme.com", Name: "Ann Lee", Team: "Sales"}},
		{"Active Directory", "SamAccountName,Mail Address,Name,Department,EmployeeID\nalee,ann@acme.com,Ann Lee,Sales,E7\n",
			provision.User{Email: "ann@acme.com", Sub: "E7", Name: "Ann Lee", Team: "Sales"}},
		{"BambooHR", "Employee #,First Name,Preferred Name,Last Name,Work Email,Department,Division\n" +
			"12,Robert,Bob,Smith,bob@acme.com,Support,EMEA\n",
			provision.User{Email: "bob@acme.com", Sub: "12", Name: "Robert Smith", Team: "Support"}},
		{"preferred first name", "Employee #,First Name,Preferred First Name,Last Name,Work E-mail Address,Division\n" +
			"12,Robert,Bob,Smith,bob@acme.com,EMEA\n13,Robert,,Roe,rob@acme.com,EMEA\n",
			provision.User{Email: "bob@acme.com", Sub: "12", Name: "Bob Smith", Team: "EMEA"}},
		{"BambooHR, no preferred name", "Employee #,First Name,Preferred Name,Last Name,Work E-mail Address,Division\n" +
			"12,Robert,,Smith,bob@acme.com,EMEA\n",
			provision.User{Email: "bob@acme.com", Sub: "12", Name: "Robert Smith", Team: "EMEA"}},
		{"Workday", "Employee ID,Legal First Name,Legal Last Name,Preferred Name,Email - Primary Work,Supervisory Organization\n" +
			"W1,Ann,Lee,Ann Lee,ann@acme.com,Finance\n",
			provision.User{Email: "ann@acme.com", Sub: "W1", Name: "Ann Lee", Team: "Finance"}},
		{"SuccessFactors", "Person ID External,Business Email Address,First Name,Last Name,Department\nP9,ann@acme.com,Ann,Lee,Audit\n",
			provision.User{Email: "ann@acme.com", Sub: "P9", Name: "Ann Lee", Team: "Audit"}},
		{"Personio", "ID;Vorname;Nachname;E-Mail-Adresse (geschäftlich);Abteilung;Sprache\n7;Jörg;Weiß;joerg@acme.de;Vertrieb;Deutsch\n",
			provision.User{Email: "joerg@acme.de", Sub: "7", Name: "Jörg Weiß", Team: "Vertrieb", Locale: "de"}},
		{"HiBob", "Employee ID,Display name,Email (Work),Department\nH1,Ann Lee,ann@acme.com,Ops\n",
			provision.User{Email: "ann@acme.com", Sub: "H1", Name: "Ann Lee", Team: "Ops"}},
		{"Rippling", "Employee number,Full name,Work email,Personal email,Department\nR1,Ann Lee,ann@acme.com,ann@home.net,Ops\n",
			provision.User{Email: "ann@acme.com", Sub: "R1", Name: "Ann Lee", Team: "Ops"}},
		{"French Excel", "Matricule;Prénom;Nom;Courriel professionnel;Équipe;Langue préférée\nM1;Chloé;Noël;chloe@acme.fr;Qualité;français\n",
			provision.User{Email: "chloe@acme.fr", Sub: "M1", Name: "Chloé Noël", Team: "Qualité", Locale: "fr"}},
	} {
		t.Run(tt.system, func(t *testing.T) {
			_, rows := readAll(t, tt.csv, Options{})
			if tt.system == "preferred first name" {
				if len(rows) != 2 || rows[1].Err != nil || rows[1].User.Name != "Robert Roe" {
					t.Errorf("rows %+v: want the first name when the preferred one is empty", rows)
				}
				rows = rows[:1]
			}
			if len(rows) != 1 || rows[0].Err != nil || rows[0].User != tt.want {
				t.Errorf("rows %+v, want %+v", rows, tt.want)
			}
		})
	}
}

func TestHugeClosedCell(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	for _, tt := range []struct {
		name string
		csv  string
		want []person
	}{
		{name: "a team of 2 MB", csv: "email,name,team\na@x.com,Ann,\"" + big + "\"\nb@x.com,Bob,Ops\n",
			want: []person{{Line: 2, Email: "a@x.com", Err: "row 2: team: is 2097152 bytes, at most 1024"}, {Line: 3, Email: "b@x.com", Name: "Bob", Team: "Ops"}}},
		{name: "over lines, in an unknown column", csv: "email,notes,name\na@x.com,\"" + big + "\n" + big + "\",Ann\nb@x.com,,Bob\n",
			want: []person{{Line: 2, Email: "a@x.com", Err: `row 2: the cell of column "notes" is 4194305 bytes; a row holds at most 1048576`},
				{Line: 4, Email: "b@x.com", Name: "Bob"}}},
		{name: "unquoted", csv: "email,name\na@x.com," + big + "\nb@x.com,Bob\n",
			want: []person{{Line: 2, Email: "a@x.com", Err: "row 2: name: is 2097152 bytes, at most 1024"}, {Line: 3, Email: "b@x.com", Name: "Bob"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readFile(t, "export.csv", []byte(tt.csv), Options{})
			if err != nil {
				t.Fatal(err)
			}
			samePeople(t, got, tt.want)
			r, err := Open(testfile.Temp(t, "export.csv", tt.csv), nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if n, err := r.CountRows(context.Background()); n != 2 || err != nil {
				t.Errorf("CountRows = %d, %v; want 2", n, err)
			}
		})
	}
}

func TestMixedFileReadAsUTF8(t *testing.T) {
	// Mostly UTF-8, one line pasted from a Windows-1252 file: that row is invalid, whatever
	// single-byte encoding is named, and the advice leads to reading the rest.
	data := []byte("email,name\na@x.fr,Chloé Noël\nb@x.fr,Ren\xe9e\nc@x.fr,Zoë\n")
	want := []person{{Line: 2, Email: "a@x.fr", Name: "Chloé Noël"},
		{Line: 3, Email: "b@x.fr", Err: "row 3: name: holds bytes that are not UTF-8 (0xE9, in \"Ren\uFFFDe\")"},
		{Line: 4, Email: "c@x.fr", Name: "Zoë"}}
	got, err := readFile(t, "export.csv", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	samePeople(t, got, want)
	_, err = readFile(t, "export.csv", data, Options{Encoding: "windows-1252"})
	var fe *FileError
	if !errors.As(err, &fe) || err.Error() != `the input is UTF-8, not windows-1252: line 2 holds "Chloé", which as windows-1252 would become "ChloÃ©". Give the encoding utf-8` {
		t.Fatalf("err = %v", err)
	}
	got, err = readFile(t, "export.csv", data, Options{Encoding: fe.Fix[0].Value})
	if err != nil {
		t.Fatal(err)
	}
	samePeople(t, got, want)
}

func TestLabelCheckedOnStandardInput(t *testing.T) {
	// Past the first megabyte, whatever is left of a character cut there is no misfit.
	sjis, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte("山田太郎"))
	for pad := range 2 { // one of the two cuts a character in two
		b := []byte("email,name" + strings.Repeat(" ", pad) + "\n")
		for i := 0; len(b) < bufSniff+1000; i++ {
			b = append(b, fmt.Sprintf("u%07d@x.jp,", i)...)
			b = append(b, sjis...)
			b = append(b, '\n')
		}
		r, err := Open("-", bytes.NewReader(b), Options{Encoding: "shift_jis"})
		if err != nil {
			t.Fatal(err)
		}
		rows := readRows(t, r)
		if last := rows[len(rows)-1]; last.Err != nil || last.User.Name != "山田太郎" {
			t.Errorf("last row %+v", last)
		}
		r.Close()
	}
	// A UTF-8 file read as windows-1252 from standard input is refused on its first megabyte.
	if _, err := Open("-", strings.NewReader("email,name\nc@x.fr,Chloé\n"), Options{Encoding: "windows-1252"}); err == nil ||
		!strings.Contains(err.Error(), `would become "ChloÃ©"`) {
		t.Errorf("err = %v", err)
	}
}
