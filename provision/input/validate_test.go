package input

import (
	"errors"
	"github.com/ideanote-provision/ideanote-provision/provision"
	"strings"
	"testing"
)

func TestValidateRows(t *testing.T) {
	long := strings.Repeat("x", MaxFieldBytes+1)
	tests := []struct {
		name   string
		row    string // cells: email,sub,name,team,locale,avatar
		field  string // field named by the error; "" for a valid row
		msg    string // part of the error
		locale string // canonical locale sent, for valid rows
	}{
		{name: "valid", row: "a@x.com,1,Ann,Ops,en,https://x.com/a.png"},
		{name: "plus and subdomain", row: "ann+hr@mail.x.co.uk,,,,,"},
		{name: "unicode", row: "zoë@exämple.com,,Zoë,,,"},
		{name: "empty email", row: ",1,Ann,,,", field: "email", msg: "empty"},
		{name: "not an address", row: "ann,,,,,", field: "email", msg: `"ann" is not a valid email address`},
		{name: "two addresses", row: `"a@x.com, b@x.com",,,,,`, field: "email", msg: "not a single email address"},
		{name: "two addresses semicolon", row: `a@x.com; b@x.com,,,,,`, field: "email", msg: "not a single email address"},
		{name: "display name", row: `Ann <a@x.com>,,,,,`, field: "email", msg: "bare address"},
		{name: "angle brackets", row: `<a@x.com>,,,,,`, field: "email", msg: "bare address"},
		{name: "comment", row: `a@x.com (Ann),,,,,`, field: "email", msg: "bare address"},
		{name: "quoted local part", row: `"""=1+1""@x.com",,,,,`, field: "email", msg: `=1+1`},
		{name: "no dot in domain", row: "a@localhost,,,,,", field: "email", msg: "not a valid email"},
		{name: "address literal", row: "a@[127.0.0.1],,,,,", field: "email", msg: "not a valid email"},
		{name: "zero-width space in an email", row: "\u200ba@x.com,,,,,", field: "email", msg: "an invisible character, U+200B"},
		{name: "zero-width space in the domain", row: "a@x.com\u200b,,,,,", field: "email", msg: "an invisible character, U+200B"},
		{name: "byte-order mark in an email", row: "\ufeffa@x.com,,,,,", field: "email", msg: "an invisible character, U+FEFF"},
		{name: "soft hyphen in an email", row: "an\u00adn@x.com,,,,,", field: "email", msg: "an invisible character, U+00AD"},
		{name: "word joiner in a sub", row: "a@x.com,47\u206011,,,,", field: "sub", msg: "an invisible character, U+2060"},
		{name: "zero-width joiner in a name", row: "a@x.com,,Ann \U0001F469\u200D\U0001F4BB,,,"},
		{name: "NUL in a name", row: "a@x.com,,A\x00B,,,", field: "name", msg: "control character"},
		{name: "escape in a team", row: "a@x.com,,Ann,Ops\x1b[2J,,", field: "team", msg: "control character"},
		{name: "locale canonical", row: "a@x.com,,,,EN_us,", locale: "en-US"},
		{name: "locale script", row: "a@x.com,,,,zh-hant-tw,", locale: "zh-Hant-TW"},
		{name: "locale bad", row: "a@x.com,,,,english please,", field: "locale", msg: `"english please" is not a language: give a BCP 47 tag`},
		{name: "locale bad subtag", row: "a@x.com,,,,en-US-x,", field: "locale", msg: "not a language"},
		{name: "locale POSIX", row: "a@x.com,,,,de_DE.UTF-8,", locale: "de-DE"},
		{name: "locale name", row: "a@x.com,,,,Français,", locale: "fr"},
		{name: "avatar javascript", row: "a@x.com,,,,,javascript:alert(1)", field: "avatar", msg: "absolute http(s)"},
		{name: "avatar relative", row: "a@x.com,,,,,/img/a.png", field: "avatar", msg: "absolute http(s)"},
		{name: "avatar scheme-relative", row: "a@x.com,,,,,//x.com/a.png", field: "avatar", msg: "absolute http(s)"},
		{name: "avatar data", row: `a@x.com,,,,,"data:image/png;base64,AAAA"`, field: "avatar", msg: "absolute http(s)"},
		{name: "avatar ftp", row: "a@x.com,,,,,ftp://x.com/a.png", field: "avatar", msg: "absolute http(s)"},
		{name: "avatar no host", row: "a@x.com,,,,,https:///a.png", field: "avatar", msg: "absolute http(s)"},
		{name: "avatar upper-case scheme", row: "a@x.com,,,,,HTTPS://x.com/a.png"},
		{name: "field too long", row: "a@x.com,,," + long + ",,", field: "team", msg: "is 1025 bytes, at most 1024"},
		{name: "field 1024 bytes", row: "a@x.com,,," + long[1:] + ",,"},
		{name: "spaces trimmed before the length", row: "a@x.com,,,  " + long[1:] + "  ,,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rows := readAll(t, "email,sub,name,team,locale,avatar\n"+tt.row+"\n", Options{})
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			row := rows[0]
			if tt.field == "" {
				if row.Err != nil {
					t.Fatalf("error %v, want a valid row", row.Err)
				}
				if tt.locale != "" && row.User.Locale != tt.locale {
					t.Errorf("locale %q, want %q", row.User.Locale, tt.locale)
				}
				return
			}
			var re *provision.RowError
			if !errors.As(row.Err, &re) {
				t.Fatalf("error %v, want a *RowError", row.Err)
			}
			if re.Line != 2 || re.Field != tt.field || !strings.Contains(re.Msg, tt.msg) {
				t.Errorf("error %q (line %d, field %q), want line 2, field %q, containing %q", re, re.Line, re.Field, tt.field, tt.msg)
			}
		})
	}
}

func TestValidateDefaults(t *testing.T) {
	_, rows := readAll(t, "email,team,locale\na@x.com,,\nb@x.com,Sales,de-ch\n",
		Options{Defaults: Defaults{Team: "Ops", Locale: "fr-fr"}})
	want := []provision.User{{Email: "a@x.com", Team: "Ops", Locale: "fr-FR"}, {Email: "b@x.com", Team: "Sales", Locale: "de-CH"}}
	for i, w := range want {
		if rows[i].Err != nil || rows[i].User != w {
			t.Errorf("row %d = %+v (%v), want %+v", i, rows[i].User, rows[i].Err, w)
		}
	}
}

func TestValidateDuplicates(t *testing.T) {
	in := "email,sub\n" +
		"a@x.com,1\n" + // 2
		"A@X.COM,2\n" + // 3: email of row 2
		"b@x.com,1\n" + // 4: sub of row 2
		"bad,3\n" + // 5: invalid, so its sub is not taken
		"c@x.com,3\n" + // 6
		"d@x.com,\n" + // 7: no sub
		"e@x.com,\n" + // 8: no sub is not a duplicate
		" c@x.com ,9\n" // 9: trimmed, email of row 6
	_, rows := readAll(t, in, Options{})
	want := []string{"", `row 3: email: "A@X.COM" repeats row 2`, `row 4: sub: "1" repeats row 2`,
		"row 5: email:", "", "", "", `row 9: email: "c@x.com" repeats row 6`}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		got := ""
		if rows[i].Err != nil {
			got = rows[i].Err.Error()
		}
		if (w == "") != (got == "") || !strings.HasPrefix(got, w) {
			t.Errorf("row %d: error %q, want %q", rows[i].Line, got, w)
		}
	}
}

func TestInvalidRowIsPrintable(t *testing.T) {
	// Past the first megabyte, standard input is not checked up front: the row is.
	long := strings.Repeat("é", MaxFieldBytes)
	_, rows := readAll(t, "email,name\n"+strings.Repeat(",\n", bufSniff/2)+"\xff"+long+"@x.com,Ren\xe9e\n", Options{})
	u := rows[0].User
	if rows[0].Err == nil || !strings.Contains(u.Name, "\uFFFD") || len(u.Email) > MaxFieldBytes+len("…") || !strings.HasPrefix(u.Email, "\uFFFD") {
		t.Errorf("user %q, name %q (err %v): want the bad bytes replaced and the email clipped", u.Email[:10], u.Name, rows[0].Err)
	}
	if len(rows[0].Err.Error()) > 200 {
		t.Errorf("error is %d bytes long, want it short", len(rows[0].Err.Error()))
	}
}
