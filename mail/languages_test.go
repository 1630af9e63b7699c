package mail

import (
	"bytes"
	"html"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// builtinSubjects are the subjects of the built-in messages, by language: a wrong pick shows.
var builtinSubjects = map[string]string{
	"en":    "Your Ideanote login link",
	"da":    "Dit login-link til Ideanote",
	"de":    "Ihr Anmeldelink für Ideanote",
	"es":    "Su enlace de acceso a Ideanote",
	"fi":    "Kirjautumislinkkisi Ideanote-palveluun",
	"fr":    "Votre lien de connexion à Ideanote",
	"it":    "Il suo link di accesso a Ideanote",
	"nb":    "Innloggingslenken din til Ideanote",
	"nl":    "Je inloglink voor Ideanote",
	"pl":    "Link do logowania w Ideanote",
	"pt":    "Seu link de acesso ao Ideanote",
	"pt-PT": "O seu link de acesso ao Ideanote",
	"sv":    "Din inloggningslänk till Ideanote",
}

func builtinTemplates(t *testing.T) *templates {
	t.Helper()
	ts, err := loadTemplates(&Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestBuiltinLanguagesComplete checks that every language has its subject, text and HTML, and
// that builtinLanguages names every language in templates/ and no other.
func TestBuiltinLanguagesComplete(t *testing.T) {
	t.Parallel()
	files := map[string]bool{}
	fs.WalkDir(subFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[p] = true
		}
		return err
	})
	want := map[string]bool{builtinText: true, builtinHTML: true}
	for _, l := range builtinLanguages {
		want["welcome."+l+".txt"], want["welcome."+l+".html"] = true, true
		if _, ok := builtinSubjects[l]; !ok {
			t.Errorf("%s: no subject in builtinSubjects", l)
		}
	}
	for f := range files {
		if !want[f] {
			t.Errorf("templates/%s is not a language of builtinLanguages", f)
		}
	}
	for f := range want {
		if !files[f] {
			t.Errorf("templates/%s is missing", f)
		}
	}
	if !slices.IsSorted(builtinLanguages) {
		t.Error("builtinLanguages is not sorted")
	}
	ts := builtinTemplates(t)
	if got, want := len(ts.text.tmpls), len(builtinLanguages)+1; got != want || len(ts.html.tmpls) != want {
		t.Fatalf("%d text and %d HTML templates, want %d of each", got, len(ts.html.tmpls), want)
	}
	for i, tmpl := range ts.text.tmpls {
		if tmpl.Lookup(SubjectBlock) == nil {
			t.Errorf("%s has no subject", ts.text.files[i])
		}
	}
}

// TestBuiltinMessagesRender renders every built-in message, text and HTML, for names with
// accents, no name at all, and a team that HTML must escape, and checks that each holds the
// person's own link where it should and nobody else's.
func TestBuiltinMessagesRender(t *testing.T) {
	t.Parallel()
	ts := builtinTemplates(t)
	const (
		own   = "https://acme.ideanote.io/login/session/tok-own?a=1&b=2"
		other = "https://acme.ideanote.io/login/session/tok-other"
	)
	people := []struct{ name, team string }{
		{"Zoë Ñúñez-Łukasiewicz", "Comptabilité <R&D> \"Øst\""},
		{"Åsa", ""},
		{"", "Équipe"},
		{"", ""},
	}
	for _, lang := range append([]string{"en"}, builtinLanguages...) {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			// Render somebody else first: nothing of theirs may stay in the next message.
			if _, err := ts.render(&Fields{Name: "Other One", FirstName: "Other", Team: "Other team", Locale: lang, Link: other}); err != nil {
				t.Fatal(err)
			}
			for _, p := range people {
				f := Fields{Name: p.name, FirstName: firstName(p.name), Team: p.team, Locale: lang, Link: own}
				r, err := ts.render(&f)
				if err != nil {
					t.Fatalf("%q: %v", p.name, err)
				}
				checkRendered(t, lang, &f, r, other)
			}
		})
	}
}

func checkRendered(t *testing.T, lang string, f *Fields, r rendered, other string) {
	t.Helper()
	who := lang + " " + f.Name + "/" + f.Team
	if r.subject != builtinSubjects[lang] {
		t.Errorf("%s: subject %q, want %q", who, r.subject, builtinSubjects[lang])
	}
	if strings.ContainsAny(r.subject, "\r\n") {
		t.Errorf("%s: subject %q has a line break", who, r.subject)
	}
	escaped := html.EscapeString(f.Link)
	if n := strings.Count(r.text, f.Link); n != 1 {
		t.Errorf("%s: the text shows the link %d times, want once:\n%s", who, n, r.text)
	}
	if n := strings.Count(r.html, `href="`+escaped+`"`); n != 1 {
		t.Errorf("%s: the HTML links to it %d times, want once:\n%s", who, n, r.html)
	}
	if n := strings.Count(r.html, escaped); n != 2 { // the button, and the address to copy
		t.Errorf("%s: the HTML shows the link %d times, want twice:\n%s", who, n, r.html)
	}
	if strings.Contains(r.text+r.html, other) || strings.Contains(r.text+r.html, "Other") {
		t.Errorf("%s: another person's link or name:\n%s\n%s", who, r.text, r.html)
	}
	if !strings.Contains(r.html, `<html lang="`+lang+`">`) {
		t.Errorf("%s: the HTML does not say its language", who)
	}
	if !strings.Contains(r.html, "<title>"+html.EscapeString(r.subject)+"</title>") {
		t.Errorf("%s: the HTML title is not the subject", who)
	}
	for _, part := range []string{r.text, r.html} {
		// Leftovers of an empty field: a space before a comma, empty brackets, a double space.
		for _, bad := range []string{" ,", " !", " :", " )", " .", "()", "(tiimi: )", "(zespół: )", "  ", "{{", "<no value>"} {
			if lang == "fr" && bad == " :" {
				continue // French puts a space before a colon
			}
			if strings.Contains(part, bad) {
				t.Errorf("%s: %q in\n%s", who, bad, part)
			}
		}
	}
	if f.Team != "" {
		if !strings.Contains(r.text, f.Team) {
			t.Errorf("%s: the text does not name the team:\n%s", who, r.text)
		}
		if !strings.Contains(r.html, html.EscapeString(f.Team)) || strings.Contains(r.html, "<R&D>") {
			t.Errorf("%s: the team is not escaped in the HTML:\n%s", who, r.html)
		}
	}
	// Polish greets without the name: it would take the vocative (Anno, Zoë?), which a
	// template cannot make.
	if f.FirstName != "" && lang != "pl" {
		if !strings.Contains(r.text, f.FirstName) || !strings.Contains(r.html, html.EscapeString(f.FirstName)) {
			t.Errorf("%s: the first name is missing:\n%s\n%s", who, r.text, r.html)
		}
	}
	if f.FirstName == "" && strings.Contains(r.text, "Zoë") {
		t.Errorf("%s: a name where there is none", who)
	}
}

func TestBuiltinLocaleChain(t *testing.T) {
	t.Parallel()
	ts := builtinTemplates(t)
	tests := []struct {
		locale, lang string
		fellBack     bool
	}{
		{"pt-BR", "pt", false},
		{"pt", "pt", false},
		{"pt-PT", "pt-PT", false},
		{"pt-AO", "pt-PT", false},
		{"de-AT", "de", false},
		{"de_CH", "de", false},
		{"nb-NO", "nb", false},
		{"no", "nb", false},
		{"no-NO", "nb", false},
		{"nn", "nb", false},
		{"en-GB", "en", false},
		{"en", "en", false},
		{"EN_us", "en", false},
		{"fr-BE", "fr", false},
		{"es-MX", "es", false},
		{"it-CH", "it", false},
		{"nl-BE", "nl", false},
		{"da-DK", "da", false},
		{"sv-FI", "sv", false},
		{"fi-FI", "fi", false},
		{"pl-PL", "pl", false},
		{"ja", "en", true},
		{"ca", "en", true},
		{"is", "en", true}, // the matcher deems English understood: still not their language
		{"not a locale", "en", true},
		{"", "en", false},
	}
	for _, tt := range tests {
		i, fellBack := ts.text.choose(tt.locale)
		j := ts.html.pick(tt.locale)
		r, err := ts.render(&Fields{FirstName: "Zoë", Locale: tt.locale, Link: "https://x.invalid/l"})
		if err != nil {
			t.Fatal(err)
		}
		if r.subject != builtinSubjects[tt.lang] || fellBack != tt.fellBack || ts.text.files[i] != ts.html.files[j][:len(ts.html.files[j])-len("html")]+"txt" {
			t.Errorf("%q: %s and %s, subject %q, fell back %v; want %s, fell back %v", tt.locale, ts.text.files[i], ts.html.files[j], r.subject, fellBack, tt.lang, tt.fellBack)
		}
	}
}

func TestFallbackCount(t *testing.T) {
	t.Parallel()
	ts := builtinTemplates(t)
	for _, l := range []string{"de", "ja", "ca", "ja", "en-GB", "", "pt-BR", "ja", "ca", "zh-Hant"} {
		if _, err := ts.render(&Fields{Locale: l, Link: "https://x.invalid/l"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, s := ts.fallbacks.Total(), ts.fallbacks.String(); n != 6 || s != "ja 3, ca 2, zh-Hant 1" {
		t.Errorf("Total %d, String %q; want 6, %q", n, s, "ja 3, ca 2, zh-Hant 1")
	}
	var b bytes.Buffer
	ts.logFallbacks(slog.New(slog.NewTextHandler(&b, nil)))
	if want := `msg="people got the English message: no message matches their locale" people=6 locales="ja 3, ca 2, zh-Hant 1"`; !strings.Contains(b.String(), want) {
		t.Errorf("log %q, want %q", b.String(), want)
	}

	var none FallbackCount
	if none.Total() != 0 || none.String() != "" {
		t.Errorf("zero FallbackCount: %d %q", none.Total(), none.String())
	}
	b.Reset()
	builtinTemplates(t).logFallbacks(slog.New(slog.NewTextHandler(&b, nil)))
	if b.Len() != 0 {
		t.Errorf("logged with nobody to count: %s", b.String())
	}
}

// The end of a run names how many people got the English message for want of one in their
// language, and which locales.
func TestRunLogsFallbacks(t *testing.T) {
	srv := mailtest.NewServer()
	defer srv.Close()
	ps := crowd(5)
	ps[0].locale, ps[1].locale, ps[2].locale, ps[3].locale = "ja", "ja-JP", "zh-TW", "de-CH"
	o, logs := testOptions(t, srv, ps)
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, "no message matches their locale") {
			line = l
		}
	}
	if !strings.Contains(line, "people=3") || !strings.Contains(line, "ja 1") || !strings.Contains(line, "ja-JP 1") || !strings.Contains(line, "zh-TW 1") || strings.Contains(line, "de-CH") {
		t.Errorf("fallback line %q: want 3 people, ja, ja-JP and zh-TW (de-CH has German)", line)
	}
}

// TestFallbackCountTemplateFiles: a template of the operator's own is counted when it has
// variants and none matches; a single file is the operator's choice for everyone.
func TestFallbackCountTemplateFiles(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"one.txt":        `{{.Link}}`,
		"welcome.txt":    `{{.Link}}`,
		"welcome.de.txt": `DE {{.Link}}`,
	})
	for _, tt := range []struct {
		file string
		want int
	}{{"one.txt", 0}, {"welcome.txt", 2}} {
		ts, err := loadTemplates(&Options{Template: filepath.Join(dir, tt.file)})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []string{"de-AT", "fr", "en"} {
			if _, err := ts.render(&Fields{Locale: l, Link: "https://x.invalid/l"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := ts.fallbacks.Total(); n != tt.want {
			t.Errorf("%s: %d counted, want %d", tt.file, n, tt.want)
		}
		var b bytes.Buffer
		ts.logFallbacks(slog.New(slog.NewTextHandler(&b, nil)))
		if tt.want > 0 && (!strings.Contains(b.String(), "the base template") || !strings.Contains(b.String(), "welcome.txt")) {
			t.Errorf("%s: log %q", tt.file, b.String())
		}
	}
}
