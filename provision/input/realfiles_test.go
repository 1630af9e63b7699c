package input

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/ideanote-provision/ideanote-provision/provision"
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
	r, err := Open(writeTemp(t, name, data), nil, opts)
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
			msgs:  []string{`the input is not UTF-8 (line 3 holds the byte 0x80, in "€" as windows-1252): it looks like windows-1252. Give --encoding windows-1252`},
			names: []string{"Ann", "Bob €"}},
		{name: "one stray 0xFF is windows-1252, not euc-kr", data: []byte("email,name\na@x.fr,Lema\xfftre\n"),
			msgs: []string{`it looks like windows-1252`}, names: []string{"Lemaÿtre"}},
		{name: "UTF-8 read as windows-1252", data: []byte("email,name\nc@x.fr,Chloé Noël\n"), opts: Options{Encoding: "windows-1252"},
			msgs:  []string{`the input is UTF-8, not windows-1252: line 2 holds "Chloé", which as windows-1252 would become "ChloÃ©". Give --encoding utf-8`},
			names: []string{"Chloé Noël"}},
		{name: "UTF-8 read as latin1", data: []byte("email,name\nc@x.fr,Chloé Noël\n"), opts: Options{Encoding: "latin1"},
			msgs: []string{`would become "ChloÃ©"`}, names: []string{"Chloé Noël"}},
		{name: "windows-1252 read as iso-8859-15", data: cp1252("email,name\nz@x.fr,Zoë\ne@x.fr,Œuvre “Lé”\n"), opts: Options{Encoding: "iso-8859-15"},
			msgs:  []string{"the input is not in iso-8859-15: line 3 would hold \"\uFFFDuvre\" as iso-8859-15 (U+FFFD, a byte it has no character for); it looks like windows-1252. Give --encoding windows-1252"},
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
