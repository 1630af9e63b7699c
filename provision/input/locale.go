package input

import (
	"errors"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// ErrLocale is returned by CanonicalLocale for a value that names no language.
var ErrLocale = errors.New("not a language: give a BCP 47 tag (fr-FR), a POSIX locale (fr_FR) or a language name (French)")

// CanonicalLocale returns the BCP 47 tag, in canonical form, of a locale as HR systems write
// it: a BCP 47 tag ("fr-FR"), a POSIX locale ("fr_FR", "de_DE.UTF-8", "sr_RS@latin"), or the
// name of a language in English, in itself or in another major language ("French",
// "Français", "Anglais", "Deutsch", "Englisch", "Inglés"), optionally with a region in
// parentheses ("English (United States)"). Case and accents do not matter in names.
func CanonicalLocale(s string) (string, error) {
	s = strings.TrimSpace(s)
	if tag, ok := parseTag(s); ok {
		return tag.String(), nil
	}
	if tag, ok := tagByName(s); ok {
		return tag.String(), nil
	}
	return "", ErrLocale
}

// parseTag reads a BCP 47 tag or a POSIX locale.
func parseTag(s string) (language.Tag, bool) {
	if s == "" || strings.EqualFold(s, "C") || strings.EqualFold(s, "POSIX") {
		return language.Und, false
	}
	// POSIX: language[_territory][.codeset][@modifier]
	var script string
	if base, mod, ok := strings.Cut(s, "@"); ok {
		s = base
		switch strings.ToLower(mod) {
		case "latin":
			script = "Latn"
		case "cyrillic":
			script = "Cyrl"
		}
	}
	s, _, _ = strings.Cut(s, ".")
	s = strings.ReplaceAll(s, "_", "-")
	if script != "" {
		lang, rest, _ := strings.Cut(s, "-")
		s = lang + "-" + script
		if rest != "" {
			s += "-" + rest
		}
	}
	tag, err := language.Parse(s)
	return tag, err == nil
}

// namers are the languages whose names for other languages are recognised, besides each
// language's name for itself: the languages most HR systems are used in.
var namers = []*display.Dictionary{
	display.English, display.French, display.German, display.Spanish, display.Italian,
	display.Portuguese, display.Dutch, display.Polish, display.Swedish, display.Danish,
	display.Norwegian, display.Finnish, display.Czech, display.Russian, display.Turkish,
	display.Japanese, display.Chinese, display.Korean, display.Arabic, display.Hindi,
}

var (
	nameTableOnce sync.Once
	languageNames map[string]language.Tag // folded language name -> tag
	regionNames   map[string]language.Region
)

// buildNameTables builds, once and on first use, the tables of language and region names:
// some nine thousand names, built in about 25 ms, which most runs never need.
func buildNameTables() {
	languageNames = make(map[string]language.Tag)
	regionNames = make(map[string]language.Region)
	add := func(name string, tag language.Tag) {
		if k := foldName(name); k != "" {
			if _, taken := languageNames[k]; !taken {
				languageNames[k] = tag
			}
		}
	}
	// Names that HR systems write and the CLDR names lack: CLDR calls "no" Norwegian Bokmål.
	for name, tag := range map[string]language.Tag{"Norwegian": language.Norwegian, "Norsk": language.Norwegian,
		"Bokmål": language.Norwegian, "Norwegisch": language.Norwegian, "Norvégien": language.Norwegian} {
		add(name, tag)
	}
	// English names first: where two languages share a name in some language, the English
	// meaning wins.
	bases := display.Values.BaseLanguages()
	// The tags with names of their own ("Canadian French") are those of the namers, and a few
	// that HR systems use and display.Supported lacks.
	tags := append(display.Supported.Tags(), language.BrazilianPortuguese, language.EuropeanPortuguese,
		language.LatinAmericanSpanish, language.AmericanEnglish, language.BritishEnglish,
		language.CanadianFrench, language.SimplifiedChinese, language.TraditionalChinese,
		language.MustParse("es-MX"), language.MustParse("nl-BE"), language.MustParse("en-AU"))
	for _, d := range namers {
		for _, b := range bases {
			tag, _ := language.Compose(b)
			add(d.Languages().Name(b), tag)
		}
		for _, t := range tags {
			add(d.Tags().Name(t), t)
		}
		for _, r := range display.Values.Regions() {
			if k := foldName(d.Regions().Name(r)); k != "" {
				if _, taken := regionNames[k]; !taken {
					regionNames[k] = r
				}
			}
		}
		if d == display.English {
			for _, t := range tags {
				add(display.Self.Name(t), t)
			}
		}
	}
}

// tagByName finds the language named s, as "Français" or "English (United States)".
func tagByName(s string) (language.Tag, bool) {
	nameTableOnce.Do(buildNameTables)
	if tag, ok := languageNames[foldName(s)]; ok {
		return tag, true
	}
	name, region, ok := strings.Cut(s, "(")
	region, closed := strings.CutSuffix(strings.TrimSpace(region), ")")
	if !ok || !closed {
		return language.Und, false
	}
	tag, ok := languageNames[foldName(name)]
	r, rok := regionNames[foldName(region)]
	if !ok || !rok {
		return language.Und, false
	}
	tag, err := language.Compose(tag, r)
	return tag, err == nil
}

// foldName folds a language or region name for lookup: lower case, without accents, with
// single spaces.
func foldName(s string) string {
	return strings.Join(strings.Fields(stripMarks(s)), " ")
}
