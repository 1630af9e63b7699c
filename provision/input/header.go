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

// columnName returns the name of column field i, as --map and the log say it.
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
// in the languages HR systems export in. They are compared after normHeader.
var aliases = map[string][]string{
	"email": {"e-mail", "mail", "email address", "e-mail address", "work email", "business email", "primary email",
		"primary work email", "company email", "courriel", "adresse e-mail", "adresse électronique", "adresse mail",
		"email professionnel", "e-mail-adresse", "geschäftliche e-mail", "correo", "correo electrónico",
		"correo corporativo", "email aziendale", "posta elettronica", "e-mail aziendale"},
	"sub": {"external id", "employee id", "employee number", "employee no", "employee #", "employee code", "staff id",
		"staff number", "personnel number", "worker id", "id", "matricule", "numéro d'employé", "personalnummer",
		"mitarbeiternummer", "nº empleado", "número de empleado", "matricola"},
	"name": {"full name", "display name", "nom complet", "nom et prénom", "vollständiger name", "nombre completo",
		"nombre y apellidos", "nome completo", "nome e cognome"},
	"firstname": {"first name", "given name", "first", "forename", "prénom", "vorname", "nombre", "nome"},
	"lastname": {"last name", "surname", "family name", "last", "nom", "nom de famille", "nachname", "familienname",
		"apellido", "apellidos", "cognome"},
	"team": {"department", "dept", "department name", "team name", "service", "équipe", "département", "abteilung",
		"departamento", "reparto", "division"},
	"locale": {"language", "preferred language", "lang", "langue", "langue préférée", "sprache", "bevorzugte sprache",
		"idioma", "lingua"},
	"avatar": {"avatar url", "photo", "photo url", "picture", "profile picture", "image url"},
}

// aliasIndex maps a normalised header name to its column field.
var aliasIndex = func() map[string]int {
	m := make(map[string]int)
	for i := range numColumns {
		m[normHeader(columnName(i))] = i
		for _, a := range aliases[columnName(i)] {
			m[normHeader(a)] = i
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

// errNoEmail is the cause of the FileError for a header without an email column.
var errNoEmail = errors.New("no email column")

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
		if f, ok := aliasIndex[n]; (ok && f == email && want == "") || (want != "" && n == want) {
			return true
		}
	}
	return false
}

// mapping is which header cell fills each column field.
type mapping struct {
	col     [numColumns]int   // header cell of each column field, -1 when none
	columns map[string]string // column field name -> header cell, for the log
	ignored []string          // named header cells that fill nothing
}

// mapHeader decides which header cell fills each column field: --map first, then the aliases.
func mapHeader(header []string, explicit map[string]string) (*mapping, error) {
	m := &mapping{columns: make(map[string]string)}
	for i := range m.col {
		m.col[i] = -1
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
	var chosen [numColumns]bool // by --map
	taken := make(map[int]bool) // header cells chosen by --map
	for _, field := range slices.Sorted(maps.Keys(explicit)) {
		name := explicit[field]
		f := columnIndex(field)
		cells, ok := byName[normHeader(name)]
		if f < 0 || !ok {
			return nil, &FileError{Msg: fmt.Sprintf("--map %s=%s: no column %q in the header (found: %s)", field, name, name, strings.Join(header, ", "))}
		}
		i, err := one(header[cells[0]], cells)
		if err != nil {
			return nil, err
		}
		m.col[f], chosen[f], taken[i] = i, true, true
	}
	for i, h := range header {
		n := normHeader(h)
		f, ok := aliasIndex[n]
		if !ok || chosen[f] || taken[i] || byName[n][0] != i {
			continue // not an alias, chosen by --map, or a repeat seen at its first cell
		}
		if _, err := one(h, byName[n]); err != nil {
			return nil, err
		}
		if m.col[f] >= 0 {
			return nil, &FileError{Msg: fmt.Sprintf("columns %q and %q both mean %s: keep one, or choose with --map %s=COLUMN", header[m.col[f]], h, columnName(f), columnName(f))}
		}
		m.col[f] = i
	}
	if m.col[provision.FieldIndex("email")] < 0 {
		return nil, &FileError{Msg: fmt.Sprintf("no email column (found: %s): name it email", strings.Join(header, ", ")),
			Fix: []Fix{{"Map", "email=COLUMN"}}, Err: errNoEmail}
	}
	used := make(map[int]bool)
	for f, i := range m.col {
		if i >= 0 {
			used[i] = true
			m.columns[columnName(f)] = header[i]
		}
	}
	for i, h := range header {
		if !used[i] && strings.TrimSpace(h) != "" {
			m.ignored = append(m.ignored, strings.TrimSpace(h))
		}
	}
	return m, nil
}

// ParseMap parses a --map value such as "email=Work Email,name=Full Name". The fields are
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
			return nil, fmt.Errorf("--map: %q is not FIELD=COLUMN", pair)
		}
		f := columnIndex(field)
		if f < 0 {
			names := make([]string, numColumns)
			for i := range names {
				names[i] = columnName(i)
			}
			return nil, fmt.Errorf("--map: unknown field %q (fields: %s)", strings.TrimSpace(field), strings.Join(names, ", "))
		}
		if _, dup := m[columnName(f)]; dup {
			return nil, fmt.Errorf("--map: field %q given twice", columnName(f))
		}
		m[columnName(f)] = col
	}
	return m, nil
}
