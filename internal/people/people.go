// Package people writes realistic input files of any size for benchmarks and memory checks:
// unique emails and subs, names with diacritics and other scripts, teams, locales and some
// avatars. The output is deterministic for a given row count and seed.
package people

import (
	"bufio"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

var (
	first = []string{"Ana", "Bjørn", "Chloé", "Dmitri", "Émilie", "François", "Gündüz", "Håkon", "Inés", "Jürgen",
		"Kateřina", "Łukasz", "Maël", "Nuño", "Óscar", "Paweł", "Zoë", "Søren", "Tomáš", "Ülkü", "Ваня", "美咲", "Ngọc", "Siân"}
	last = []string{"López", "Østergaard", "Dubois", "Ivanov", "Müller", "Nguyễn", "Şahin", "Kowalski", "Dvořák",
		"García", "Brontë", "Ørsted", "Jäger", "Núñez", "O'Brien", "Smith-Jones", "Ångström", "Иванова", "山田", "Łęcka"}
	teams   = []string{"Engineering", "Marketing", "Sales", "Ressources humaines", "Forschung & Entwicklung", "Support", "Finance", ""}
	locales = []string{"en", "fr-FR", "de", "es-ES", "da", "pt-BR", "ja", "", "en-GB", "pl"}
)

// ascii folds a name into the local part of an address.
var ascii = strings.NewReplacer("ø", "o", "é", "e", "ü", "u", "å", "a", "ç", "c", "ł", "l", "ë", "e", "á", "a",
	"í", "i", "ó", "o", "ñ", "n", "ř", "r", "ş", "s", "š", "s", "ễ", "e", "ä", "a", "ê", "e", "ú", "u", "ę", "e",
	"Ø", "o", "É", "e", "Ü", "u", "Å", "a", "Ł", "l", "Ó", "o", "Ş", "s", "'", "", " ", "", "-", ".")

// Header is the header row of the rows generated.
var Header = []string{"email", "sub", "name", "team", "locale", "avatar"}

// Write writes a header and n data rows to w as CSV in UTF-8.
func Write(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := csv.NewWriter(bw)
	cw.Write(Header)
	Rows(n, seed, nil, func(rec []string) bool { return cw.Write(rec) == nil })
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// Rows calls yield with n data rows, until it returns false. The record is reused between
// calls. keep, when not nil, leaves out the first and last names it refuses (those that an
// encoding cannot represent, for example).
func Rows(n int, seed uint64, keep func(string) bool, yield func(rec []string) bool) {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	firsts, lasts := filter(first, keep), filter(last, keep)
	rec := make([]string, len(Header))
	for i := range n {
		f, l := firsts[rnd.IntN(len(firsts))], lasts[rnd.IntN(len(lasts))]
		local := strings.ToLower(ascii.Replace(f) + "." + ascii.Replace(l))
		if !isASCII(local) {
			local = "user"
		}
		// The row number keeps every email and sub unique.
		rec[0] = local + "." + strconv.Itoa(i+1) + "@example.com"
		rec[1] = ""
		if rnd.IntN(10) < 8 {
			rec[1] = "E" + strconv.Itoa(100000+i)
		}
		rec[2] = f + " " + l
		rec[3] = teams[rnd.IntN(len(teams))]
		rec[4] = locales[rnd.IntN(len(locales))]
		rec[5] = ""
		if rnd.IntN(4) == 0 {
			rec[5] = "https://avatars.example.com/" + strconv.Itoa(i+1) + ".png"
		}
		if !yield(rec) {
			return
		}
	}
}

func filter(names []string, keep func(string) bool) []string {
	if keep == nil {
		return names
	}
	var out []string
	for _, n := range names {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
