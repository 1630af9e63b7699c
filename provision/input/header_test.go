package input

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestNormHeader(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"E-Mail":                   "email",
		"e_mail":                   "email",
		" Adresse électronique":    "adresseelectronique",
		"E-Mail-Adresse":           "emailadresse",
		"Employee #":               "employeeno",
		"Employee No.":             "employeeno",
		"Nº empleado":              "noempleado",
		"N° empleado":              "noempleado",
		"Numéro d'employé":         "numerodemploye",
		"\ufeffVollständiger Name": "vollstandigername",
		"ÉQUIPE":                   "equipe",
		"名前":                       "名前",
	}
	for in, want := range tests {
		if got := normHeader(in); got != want {
			t.Errorf("normHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAliases(t *testing.T) {
	t.Parallel()
	for _, list := range []map[string][]string{aliases, fallbacks} {
		for field, names := range list {
			if columnIndex(field) < 0 {
				t.Errorf("aliases of %q, which is not a field", field)
			}
			for _, a := range names {
				if got := aliasIndex[normHeader(a)]; columnName(got.field) != field {
					t.Errorf("alias %q reads %s, want %s (two fields share it once normalised)", a, columnName(got.field), field)
				}
			}
		}
	}
}

func TestMapHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  string
		mapping map[string]string
		want    map[string]string // field -> column
		ignored string
		err     string
	}{
		{name: "French Excel", header: "Nom complet;E-mail;Service;Langue;Matricule",
			want: map[string]string{"name": "Nom complet", "email": "E-mail", "team": "Service", "locale": "Langue", "sub": "Matricule"}},
		{name: "BambooHR", header: "Employee #,First Name,Last Name,Work Email,Department,Job Title,Hire Date",
			want:    map[string]string{"sub": "Employee #", "firstname": "First Name", "lastname": "Last Name", "email": "Work Email", "team": "Department"},
			ignored: "Job Title, Hire Date"},
		{name: "Spanish", header: "Nº empleado;Nombre;Apellidos;Correo electrónico;Departamento;Idioma",
			want: map[string]string{"sub": "Nº empleado", "firstname": "Nombre", "lastname": "Apellidos", "email": "Correo electrónico", "team": "Departamento", "locale": "Idioma"}},
		{name: "German", header: "Personalnummer;Vorname;Nachname;E-Mail-Adresse;Abteilung;Sprache",
			want: map[string]string{"sub": "Personalnummer", "firstname": "Vorname", "lastname": "Nachname", "email": "E-Mail-Adresse", "team": "Abteilung", "locale": "Sprache"}},
		{name: "Italian", header: "Matricola;Nome;Cognome;Email aziendale;Reparto;Lingua",
			want: map[string]string{"sub": "Matricola", "firstname": "Nome", "lastname": "Cognome", "email": "Email aziendale", "team": "Reparto", "locale": "Lingua"}},
		{name: "French with first and last name", header: "Prénom,Nom,Adresse électronique,Équipe",
			want: map[string]string{"firstname": "Prénom", "lastname": "Nom", "email": "Adresse électronique", "team": "Équipe"}},
		{name: "map first and last name", header: "Mail,Given,Family", mapping: map[string]string{"First Name": "given", "lastname": "Family"},
			want: map[string]string{"email": "Mail", "firstname": "Given", "lastname": "Family"}},
		{name: "map wins over an alias", header: "email,Work Email", mapping: map[string]string{"email": "Work Email"},
			want: map[string]string{"email": "Work Email"}, ignored: "email"},
		{name: "a mapped column is no alias", header: "Mail,Login", mapping: map[string]string{"email": "login", "name": "mail"},
			want: map[string]string{"email": "Login", "name": "Mail"}},
		{name: "a repeated ignored column is fine", header: "email,Notes,Notes", want: map[string]string{"email": "email"}, ignored: "Notes, Notes"},
		{name: "a repeated column that is read", header: "email,Name,name", err: `names column "Name" twice (columns 2 and 3)`},
		{name: "two aliases", header: "Staff ID,Employee ID,email", err: `columns "Staff ID" and "Employee ID" both mean sub: keep one, or use the column mapping sub=COLUMN`},
		{name: "an alias over a fallback", header: "ID,Employee ID,mail,userPrincipalName",
			want: map[string]string{"sub": "Employee ID", "email": "mail"}, ignored: "ID, userPrincipalName"},
		{name: "two fallbacks", header: "ID,Object ID,UPN", err: `columns "ID" and "Object ID" both mean sub: keep one`},
		{name: "no email", header: "Name,Team", err: "no email column (found: Name, Team): name it email, or use the column mapping email=COLUMN"},
		{name: "map to nothing", header: "email", mapping: map[string]string{"name": "Full Name"}, err: `the column mapping name=Full Name: no column "Full Name"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sep := ","
			if strings.Contains(tt.header, ";") {
				sep = ";"
			}
			m, err := mapHeader(strings.Split(tt.header, sep), tt.mapping)
			if tt.err != "" {
				if !isFileError(err, tt.err) {
					t.Fatalf("err = %v, want a *FileError with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(m.columns, tt.want) {
				t.Errorf("columns %v, want %v", m.columns, tt.want)
			}
			if got := strings.Join(m.ignored, ", "); got != tt.ignored {
				t.Errorf("ignored %q, want %q", got, tt.ignored)
			}
		})
	}
}

func TestFirstAndLastName(t *testing.T) {
	t.Parallel()
	in := "Vorname;Nachname;E-Mail;Name\r\n" +
		"Jürgen;Müller;j@x.com;\r\n" + // joined
		";Jäger;k@x.com;\r\n" + // the last name alone
		"Ann;;a@x.com;\r\n" + // the first name alone
		"X;Y;b@x.com;Bob Full\r\n" // a full name wins
	_, rows := readAll(t, in, Options{})
	want := []string{"Jürgen Müller", "Jäger", "Ann", "Bob Full"}
	for i, w := range want {
		if rows[i].User.Name != w || rows[i].Err != nil {
			t.Errorf("row %d: name %q (%v), want %q", rows[i].Line, rows[i].User.Name, rows[i].Err, w)
		}
	}
}

func TestParseMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want map[string]string
		err  string
	}{
		{in: "email=Work Email, name = Full Name", want: map[string]string{"email": "Work Email", "name": "Full Name"}},
		{in: "First_Name=Given,LASTNAME=Family,avatar_url=Pic", want: map[string]string{"firstname": "Given", "lastname": "Family", "avatar": "Pic"}},
		{in: "", want: map[string]string{}},
		{in: "email", err: `"email" is not FIELD=COLUMN`},
		{in: "mail=x", err: `unknown field "mail" (fields: email, sub, name, team, locale, avatar, firstname, lastname)`},
		{in: "email=a,e-mail=b", err: `field "email" given twice`},
	}
	for _, tt := range tests {
		got, err := ParseMap(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseMap(%q): err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("ParseMap(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if names := slices.Collect(maps.Keys(aliases)); len(names) != numColumns {
		t.Errorf("aliases for %d fields, want %d", len(names), numColumns)
	}
}
