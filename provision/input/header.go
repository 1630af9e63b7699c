package input

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// The input reads two columns that are not fields of a person: the first and the last name,
// joined into the name when there is no full-name column. They are numbered after
// provision.Fields.
const (
	firstName = len(provision.Fields) + iota
	lastName
	numColumns // fields of provision.Fields, then firstName and lastName
)

// columnName returns the name of column field i, as Options.Map and the log say it.
func columnName(i int) string {
	switch i {
	case firstName:
		return "firstname"
	case lastName:
		return "lastname"
	}
	return provision.Fields[i].Name
}

// columnIndex returns the column field called name (normalised as a header), or -1.
func columnIndex(name string) int {
	n := normHeader(name)
	for i := range numColumns {
		if normHeader(columnName(i)) == n {
			return i
		}
	}
	if n == "avatarurl" {
		return provision.FieldIndex("avatar")
	}
	return -1
}

// aliases lists, for each column field, the header names it is read from besides its own name,
// as the HR systems (BambooHR, Workday, SAP SuccessFactors, Personio, HiBob, Rippling, Entra ID
// and Active Directory) and spreadsheets export them, in the languages of the README. They are
// compared after normHeader, so case, accents, spaces and punctuation do not count.
var aliases = map[string][]string{
	"email": {"e-mail", "mail", "email address", "e-mail address", "mail address", "emailaddress",
		"work email", "work e-mail", "work email address", "work e-mail address", "email (work)", "e-mail (work)",
		"email - work", "email address (work)", "business email", "business e-mail", "business email address",
		"primary email", "primary email address", "primary work email", "email - primary work", "company email",
		"company e-mail", "corporate email", "office email",
		"courriel", "courriel professionnel", "adresse e-mail", "adresse email", "adresse électronique",
		"adresse mail", "adresse e-mail professionnelle", "adresse mail professionnelle", "email professionnel",
		"e-mail professionnel", "mail professionnel",
		"e-mail-adresse", "e-mail-adresse (geschäftlich)", "e-mail (geschäftlich)", "e-mail geschäftlich",
		"geschäftliche e-mail", "geschäftliche e-mail-adresse", "dienstliche e-mail", "dienstliche e-mail-adresse",
		"e-mail (dienstlich)", "firmen-e-mail",
		"correo", "correo electrónico", "correo corporativo", "correo electrónico corporativo",
		"correo electrónico del trabajo", "correo de trabajo", "dirección de correo electrónico", "email corporativo",
		"email aziendale", "e-mail aziendale", "posta elettronica", "indirizzo email", "indirizzo e-mail",
		"email di lavoro"},
	"sub": {"external id", "employee id", "employee number", "employee no", "employee #", "employee code",
		"employeeid", "employee reference", "emp id", "emp no", "staff id", "staff number", "personnel number",
		"personnel id", "worker id", "person id", "person id external", "person number",
		"matricule", "numéro de matricule", "numéro d'employé", "numéro salarié", "id salarié", "identifiant salarié",
		"personalnummer", "personal-nr", "pers.-nr", "mitarbeiternummer", "mitarbeiter-id",
		"nº empleado", "número de empleado", "id de empleado", "matricola", "numero di matricola", "id dipendente"},
	"name": {"full name", "display name", "preferred full name", "employee name", "worker name", "name (preferred)",
		"nom complet", "nom et prénom", "nom d'affichage", "vollständiger name", "anzeigename", "mitarbeitername",
		"nombre completo", "nombre y apellidos", "nombre para mostrar", "nome completo", "nome e cognome",
		"nome visualizzato"},
	// Not "Preferred Name": BambooHR's holds a first name, Workday's a full name.
	"firstname": {"preferred first name", "first name (preferred)", "nickname",
		"prénom usuel", "rufname", "nombre preferido", "nome preferito"},
	"lastname": {"preferred last name", "last name (preferred)", "nom d'usage", "nom usuel"},
	"team": {"department", "dept", "department name", "team name", "service", "équipe", "département", "abteilung",
		"departamento", "equipo", "reparto", "squadra"},
	"locale": {"language", "preferred language", "language preference", "display language", "lang", "langue",
		"langue préférée", "sprache", "bevorzugte sprache", "idioma", "idioma preferido", "lingua",
		"lingua preferita"},
	"avatar": {"avatar url", "photo", "photo url", "picture", "picture url", "profile picture", "profile photo",
		"profile image", "image url", "photo link", "foto", "bild"},
}

// fallbacks are header names read only when no column of the field's own name or aliases is
// in the header, or, for a name or team, in the rows where that column's cell is empty:
// BambooHR's First Name stands in for an empty Preferred Name.
var fallbacks = map[string][]string{
	"email":     {"user principal name", "upn", "sign-in name", "login email", "login e-mail"},
	"sub":       {"id", "object id", "user id", "immutable id", "badge number", "identifiant"},
	"name":      {"legal name", "full legal name", "worker", "employee"},
	"firstname": {"first name", "given name", "first", "forename", "legal first name", "first name (legal)", "prénom", "vorname", "nombre", "nome"},
	"lastname": {"last name", "surname", "family name", "last", "legal last name", "last name (legal)", "nom", "nom de famille",
		"nachname", "familienname", "apellido", "apellidos", "cognome"},
	"team": {"division", "business unit", "org unit", "organisational unit", "organizational unit", "organization",
		"organisation", "supervisory organization", "bereich", "organisationseinheit", "división", "divisione"},
}

// alias is the column field a header name fills, and whether only as a fallback.
type alias struct {
	field    int
	fallback bool
}

// aliasIndex maps a normalised header name to its column field.
var aliasIndex = func() map[string]alias {
	m := make(map[string]alias)
	for i := range numColumns {
		m[normHeader(columnName(i))] = alias{field: i}
		for _, a := range aliases[columnName(i)] {
			m[normHeader(a)] = alias{field: i}
		}
		for _, a := range fallbacks[columnName(i)] {
			m[normHeader(a)] = alias{field: i, fallback: true}
		}
	}
	return m
}()

// stripMarks lower-cases s and takes the accents off its letters: "É" becomes "e". (A
// transform.Chain would do it too, but a Transformer is not safe for concurrent use.)
func stripMarks(s string) string {
	s = strings.ToLower(s)
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normHeader folds a header name for matching: lower case, without accents, spaces or
// punctuation, so that "E-Mail", "e_mail" and "Adresse électronique" match their aliases.
// A number sign and an ordinal indicator read as "no" ("Employee #", "Nº empleado"), so that
// "Employee #" does not become "Employee", which would more likely hold a name.
func normHeader(s string) string {
	s = stripMarks(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '#':
			b.WriteString("no")
		case r == 'º' || r == '°':
			b.WriteByte('o')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// errNoEmail and errNoColumn are the causes of the FileError for a header without an email
// column, and without a column that Map names.
var (
	errNoEmail  = errors.New("no email column")
	errNoColumn = errors.New("no such column")
)

// hasEmail reports whether a row holds the email column: a cell called email, one of its
// aliases, or the column explicit maps it to.
func hasEmail(row []string, explicit map[string]string) bool {
	email := provision.FieldIndex("email")
	want := ""
	if name, ok := explicit["email"]; ok {
		want = normHeader(name)
	}
	for _, c := range row {
		n := normHeader(c)
		if a, ok := aliasIndex[n]; (ok && a.field == email && want == "") || (want != "" && n == want) {
			return true
		}
	}
	return false
}

// mapping is which header cell fills each column field.
type mapping struct {
	col     [numColumns]int   // header cell of each column field, -1 when none
	alt     [numColumns]int   // header cell read when col's is empty, -1 when none
	columns map[string]string // column field name -> header cell, for the log
	ignored []string          // named header cells that fill nothing
}

// mapHeader decides which header cell fills each column field: Options.Map first, then the aliases.
func mapHeader(header []string, explicit map[string]string) (*mapping, error) {
	m := &mapping{columns: make(map[string]string)}
	for i := range m.col {
		m.col[i], m.alt[i] = -1, -1
	}
	byName := make(map[string][]int) // normalised name -> header cells
	for i, h := range header {
		if n := normHeader(h); n != "" {
			byName[n] = append(byName[n], i)
		}
	}
	// one returns the single header cell called name, or an error when there are two.
	one := func(name string, cells []int) (int, error) {
		if len(cells) > 1 {
			return -1, &FileError{Msg: fmt.Sprintf("the header names column %q twice (columns %d and %d): rename one", name, cells[0]+1, cells[1]+1)}
		}
		return cells[0], nil
	}
	var chosen [numColumns]bool // by Options.Map
	taken := make(map[int]bool) // header cells chosen by Options.Map
	for _, field := range slices.Sorted(maps.Keys(explicit)) {
		name := explicit[field]
		f := columnIndex(field)
		cells, ok := byName[normHeader(name)]
		if f < 0 || !ok {
			return nil, &FileError{Given: &Setting{"Map", field + "=" + name},
				Msg: fmt.Sprintf("no column %q in the header (found: %s)", name, strings.Join(header, ", ")), Err: errNoColumn}
		}
		i, err := one(header[cells[0]], cells)
		if err != nil {
			return nil, err
		}
		m.col[f], chosen[f], taken[i] = i, true, true
	}
	for _, fallback := range []bool{false, true} {
		var byFallback [numColumns]bool
		for i, h := range header {
			n := normHeader(h)
			a, ok := aliasIndex[n]
			f := a.field
			if !ok || a.fallback != fallback || chosen[f] || taken[i] || byName[n][0] != i {
				continue // not an alias of this rank, chosen by Options.Map, or a repeat seen at its first cell
			}
			if _, err := one(h, byName[n]); err != nil {
				return nil, err
			}
			switch {
			case m.col[f] < 0:
				m.col[f], byFallback[f] = i, fallback
			case fallback && !byFallback[f] && (f == provision.FieldIndex("email") || f == provision.FieldIndex("sub")):
				// A person's key comes from one column: an address or id from another
				// system for some rows would make them other people the day it changes.
			case fallback && !byFallback[f] && m.alt[f] < 0:
				m.alt[f] = i
			default:
				return nil, &FileError{Msg: fmt.Sprintf("columns %q and %q both mean %s: keep one", header[m.col[f]], h, columnName(f)),
					Fix: []Setting{{"Map", columnName(f) + "=COLUMN"}}}
			}
		}
	}
	if m.col[provision.FieldIndex("email")] < 0 {
		return nil, &FileError{Msg: fmt.Sprintf("no email column (found: %s): name it email", strings.Join(header, ", ")),
			Fix: []Setting{{"Map", "email=COLUMN"}}, Err: errNoEmail}
	}
	used := make(map[int]bool)
	for f, i := range m.col {
		if i >= 0 {
			used[i] = true
			m.columns[columnName(f)] = header[i]
		}
		if j := m.alt[f]; j >= 0 {
			used[j] = true
			m.columns[columnName(f)] += " (else " + header[j] + ")"
		}
	}
	for i, h := range header {
		if !used[i] && strings.TrimSpace(h) != "" {
			m.ignored = append(m.ignored, strings.TrimSpace(h))
		}
	}
	return m, nil
}

// ParseMap parses a column mapping such as "email=Work Email,name=Full Name". The fields are
// those of a person and firstname and lastname, whose columns are joined into the name.
func ParseMap(s string) (map[string]string, error) {
	m := make(map[string]string)
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		field, col, ok := strings.Cut(pair, "=")
		col = strings.TrimSpace(col)
		if !ok || col == "" {
			return nil, fmt.Errorf("%q is not FIELD=COLUMN", pair)
		}
		f := columnIndex(field)
		if f < 0 {
			names := make([]string, numColumns)
			for i := range names {
				names[i] = columnName(i)
			}
			return nil, fmt.Errorf("unknown field %q (fields: %s)", strings.TrimSpace(field), strings.Join(names, ", "))
		}
		if _, dup := m[columnName(f)]; dup {
			return nil, fmt.Errorf("field %q given twice", columnName(f))
		}
		m[columnName(f)] = col
	}
	return m, nil
}
