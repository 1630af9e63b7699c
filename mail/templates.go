package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"golang.org/x/text/language"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// Fields are what a template sees of one person.
type Fields struct {
	Email     string
	Name      string
	FirstName string // the first word of Name
	Team      string
	Locale    string
	LoginURL  string // the web-app login link, "" when the report has none
	WidgetURL string // the widget login link, "" when the report has none
	Link      string // the link chosen by Options.Link
	Change    string // new, changed or refreshed in a run with a state, else ""
}

// SubjectBlock is the template that a text template may define to give the subject of its
// language: {{define "subject"}}...{{end}}.
const SubjectBlock = "subject"

//go:embed templates
var builtin embed.FS

// The built-in templates: English, with a variant in each language of builtinLanguages beside
// it.
const (
	builtinText = "welcome.txt"
	builtinHTML = "welcome.html"
)

// variants are the locale variants of one template file: welcome.txt (the base) with
// welcome.fr.txt, welcome.pt-BR.txt... beside it.
type variants[T any] struct {
	files   []string // file of each variant, the base first
	tmpls   []T
	base    language.Tag // the language of the base, language.Und when unknown
	matcher language.Matcher
}

// pick returns the index of the variant for a person's locale: the closest language, or the
// base when none is close.
func (v *variants[T]) pick(locale string) int {
	i, _ := v.choose(locale)
	return i
}

// choose is pick, and says too whether the person gets the base only because no variant
// matches their locale: not when the base is in their language (en-GB for the English
// built-in), nor when there is no variant to choose from, nor when they have no locale.
func (v *variants[T]) choose(locale string) (i int, fellBack bool) {
	if len(v.tmpls) == 1 || locale == "" {
		return 0, false
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return 0, true
	}
	// The matcher follows the locale's chain (pt-BR to pt, de-AT to de, nb-NO and no to nb)
	// and answers its closest tag even when it is no match at all (en for de): only a real
	// match leaves the base.
	if _, i, conf := v.matcher.Match(tag); conf != language.No && i != 0 {
		return i, false
	}
	lang, _ := tag.Base()
	base, _ := v.base.Base()
	return 0, v.base == language.Und || lang != base
}

// loadVariants parses the template file name in fsys and every variant beside it named with a
// language tag. baseTag is the language of the base file, language.Und when unknown.
func loadVariants[T any](fsys fs.FS, name string, baseTag language.Tag, parse func(name, text string) (T, error)) (*variants[T], error) {
	dir, file := path.Split(name)
	ext := path.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	matches, err := fs.Glob(fsys, path.Join(dir, globEscape(stem)+".*"+globEscape(ext)))
	if err != nil {
		return nil, err
	}
	v := &variants[T]{base: baseTag}
	tags := []language.Tag{baseTag}
	add := func(name string) error {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		t, err := parse(path.Base(name), string(b))
		if err != nil {
			return err
		}
		v.files, v.tmpls = append(v.files, name), append(v.tmpls, t)
		return nil
	}
	if err := add(name); err != nil {
		return nil, err
	}
	for _, m := range matches {
		middle := strings.TrimSuffix(strings.TrimPrefix(path.Base(m), stem+"."), ext)
		tag, err := language.Parse(middle)
		if err != nil || middle == "" {
			continue // welcome.old.txt and the like are not variants
		}
		if err := add(m); err != nil {
			return nil, err
		}
		tags = append(tags, tag)
	}
	v.matcher = language.NewMatcher(tags)
	return v, nil
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

func parseText(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(text)
}

func parseHTML(name, text string) (*htmltemplate.Template, error) {
	return htmltemplate.New(name).Option("missingkey=error").Parse(text)
}

// builtinLanguages are the languages of the built-in messages besides English, the language of
// the files beside welcome.txt in templates/ (a test keeps the two in step).
var builtinLanguages = []string{"da", "de", "es", "fi", "fr", "it", "nb", "nl", "pl", "pt", "pt-PT", "sv"}

// templates are the parsed templates of a run.
type templates struct {
	subject   *template.Template // from Options.Subject, or nil
	text      *variants[*template.Template]
	html      *variants[*htmltemplate.Template] // nil: text only
	builtin   *variants[*template.Template]     // the built-in text, for its subjects
	fallbacks FallbackCount                     // the people given the base text for want of a variant
}

// loadTemplates parses the templates that o names, or the built-in ones.
func loadTemplates(o *Options) (*templates, error) {
	ts := &templates{}
	var err error
	if ts.builtin, err = loadVariants(subFS(), builtinText, language.English, parseText); err != nil {
		return nil, fmt.Errorf("built-in templates: %w", err) // a bug: they are tested
	}
	if o.Subject != "" {
		if ts.subject, err = parseText("the subject", o.Subject); err != nil {
			return nil, configf("%s: %v", opt("Subject"), err)
		}
	}
	switch {
	case o.HTMLTemplate != "" && o.Template == "":
		return nil, configf("%s needs %s too: the text part is what mail readers without HTML show", opt("HTMLTemplate"), opt("Template"))
	case o.Template == "":
		ts.text = ts.builtin
		if ts.html, err = loadVariants(subFS(), builtinHTML, language.English, parseHTML); err != nil {
			return nil, fmt.Errorf("built-in templates: %w", err)
		}
		return ts, nil
	}
	if ts.text, err = loadUserVariants(o.Template, opt("Template"), parseText); err != nil {
		return nil, err
	}
	if o.HTMLTemplate != "" {
		if ts.html, err = loadUserVariants(o.HTMLTemplate, opt("HTMLTemplate"), parseHTML); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

func subFS() fs.FS {
	sub, _ := fs.Sub(builtin, "templates")
	return sub
}

func loadUserVariants[T any](file string, option provision.Option, parse func(name, text string) (T, error)) (*variants[T], error) {
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	v, err := loadVariants(os.DirFS(dir), base, language.Und, parse)
	if err != nil {
		return nil, configf("%s: %v", option, err)
	}
	for i := range v.files {
		v.files[i] = filepath.Join(dir, filepath.FromSlash(v.files[i]))
	}
	return v, nil
}

// rendered is one person's message, rendered.
type rendered struct{ subject, text, html string }

// render renders a person's subject and bodies in the variants of their locale.
func (ts *templates) render(f *Fields) (rendered, error) {
	var r rendered
	var b bytes.Buffer
	i, fellBack := ts.text.choose(f.Locale)
	if fellBack {
		ts.fallbacks.Add(f.Locale)
	}
	t := ts.text.tmpls[i]
	if err := t.Execute(&b, f); err != nil {
		return r, err
	}
	r.text = b.String()
	subj := ts.subject
	if subj == nil {
		subj = t.Lookup(SubjectBlock)
	}
	if subj == nil {
		subj = ts.builtin.tmpls[ts.builtin.pick(f.Locale)].Lookup(SubjectBlock)
	}
	b.Reset()
	if err := subj.Execute(&b, f); err != nil {
		return r, err
	}
	// A subject is one header line, whatever a name in it holds.
	r.subject = strings.Join(strings.Fields(b.String()), " ")
	if ts.html != nil {
		b.Reset()
		if err := ts.html.tmpls[ts.html.pick(f.Locale)].Execute(&b, f); err != nil {
			return r, err
		}
		r.html = b.String()
	}
	return r, nil
}

// check renders every variant once for a sample person, so that a template that names a
// field that does not exist, or that never shows the link, is refused before anything is sent.
func (ts *templates) check(link string) error {
	sample := Fields{Email: "sample@example.com", Name: "Sample Person", FirstName: "Sample", Team: "Sample team",
		Locale: "en", LoginURL: "https://sample.invalid/login/session/sample-login-link",
		WidgetURL: "https://sample.invalid/widget/sample-widget-link", Change: "new"}
	sample.Link = sample.LoginURL
	if link == LinkWidget {
		sample.Link = sample.WidgetURL
	}
	var b bytes.Buffer
	// showsLink executes a body and checks that it shows the link.
	showsLink := func(file string, t interface{ Execute(io.Writer, any) error }) error {
		b.Reset()
		if err := t.Execute(&b, &sample); err != nil {
			return templateError(file, err)
		}
		if !strings.Contains(b.String(), sample.Link) {
			return configf("%s never shows the link: put {{.Link}} in it", file)
		}
		return nil
	}
	for i, t := range ts.text.tmpls {
		if err := showsLink(ts.text.files[i], t); err != nil {
			return err
		}
		subj := ts.subject
		if subj == nil {
			subj = t.Lookup(SubjectBlock)
		}
		if subj != nil {
			b.Reset()
			if err := subj.Execute(&b, &sample); err != nil {
				return templateError("the subject of "+ts.text.files[i], err)
			}
			if strings.TrimSpace(b.String()) == "" {
				return configf("the subject of %s is empty", ts.text.files[i])
			}
		}
	}
	if ts.html == nil {
		return nil
	}
	for i, t := range ts.html.tmpls {
		if err := showsLink(ts.html.files[i], t); err != nil {
			return err
		}
	}
	return nil
}

// logFallbacks logs, once a run has rendered its messages, how many people got the base message
// (English, for the built-in ones) because no message matches their locale, and which locales.
func (ts *templates) logFallbacks(log *slog.Logger) {
	n := ts.fallbacks.Total()
	if n == 0 {
		return
	}
	what, file := "the English message", ""
	if ts.text != ts.builtin {
		what, file = "the base template", ts.text.files[0]
	}
	args := []any{"people", n, "locales", ts.fallbacks.String()}
	if file != "" {
		args = append(args, "template", file)
	}
	log.Warn("people got "+what+": no message matches their locale", args...)
}

// FallbackCount counts, by locale, the people given the base message because no message
// matches their locale. Safe for concurrent use; the zero value is ready.
type FallbackCount struct {
	mu       sync.Mutex
	byLocale map[string]int
	total    int
}

// Add counts one person of the locale.
func (c *FallbackCount) Add(locale string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byLocale == nil {
		c.byLocale = make(map[string]int)
	}
	c.byLocale[locale]++
	c.total++
}

// Total is the number of people counted.
func (c *FallbackCount) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// String lists the locales counted, the most frequent first, with their count: "de-CH 3, ja 1".
func (c *FallbackCount) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	locales := make([]string, 0, len(c.byLocale))
	for l := range c.byLocale {
		locales = append(locales, l)
	}
	slices.SortFunc(locales, func(a, b string) int {
		if n := c.byLocale[b] - c.byLocale[a]; n != 0 {
			return n
		}
		return strings.Compare(a, b)
	})
	var sb strings.Builder
	for i, l := range locales {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(l)
		sb.WriteString(" ")
		sb.WriteString(strconv.Itoa(c.byLocale[l]))
	}
	return sb.String()
}

// firstName is the first word of a name.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}
