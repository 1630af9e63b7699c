package mail

import (
	"context"
	"errors"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// writeFiles writes files into a new folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		testfile.Write(t, filepath.Join(dir, name), content)
	}
	return dir
}

func TestTemplatesRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	good := "Hi {{.FirstName}}: {{.Link}}"
	tests := []struct {
		name    string
		files   map[string]string
		text    string // file in files, "" for none
		html    string
		subject string
		want    string
	}{
		{"parse error", map[string]string{"w.txt": "Hi {{.Name}"}, "w.txt", "", "", "w.txt"},
		{"unknown field", map[string]string{"w.txt": "Hi {{.Surname}} {{.Link}}"}, "w.txt", "", "", "there is no field .Surname; a template may use .Email .Name .FirstName"},
		{"unknown field in a variant", map[string]string{"w.txt": good, "w.fr.txt": "Salut {{.Prenom}} {{.Link}}"}, "w.txt", "", "", "w.fr.txt"},
		{"unknown field in a branch", map[string]string{"w.txt": "{{if .Change}}{{.Changes}}{{end}}{{.Link}}"}, "w.txt", "", "", "there is no field .Changes; a template may use .Email .Name .FirstName"},
		{"no link", map[string]string{"w.txt": "Hi {{.Name}}"}, "w.txt", "", "", "never shows the link"},
		{"html without the link", map[string]string{"w.txt": good, "w.html": `<p>Hi {{.Name}}</p>`}, "w.txt", "w.html", "", "w.html never shows the link"},
		{"html unknown field", map[string]string{"w.txt": good, "w.html": `<a href="{{.Link}}">{{.Nom}}</a>`}, "w.txt", "w.html", "", "w.html"},
		{"html without text", map[string]string{"w.html": `<a href="{{.Link}}">x</a>`}, "", "w.html", "", "<HTMLTemplate> needs <Template>"},
		{"subject unknown field", nil, "", "", "Welcome {{.Firstname}}", "there is no field .Firstname; a template may use .Email .Name .FirstName"},
		{"subject block unknown field", map[string]string{"w.txt": `{{define "subject"}}Hi {{.Nme}}{{end}}` + good}, "w.txt", "", "", "there is no field .Nme; a template may use .Email .Name .FirstName"},
		{"empty subject", nil, "", "", "{{.Change | printf \"%.0s\"}}", "subject"},
		{"missing file", nil, "nope.txt", "", "", "<Template>: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer()
			defer srv.Close()
			dir := writeFiles(t, tt.files)
			o, _ := testOptions(t, srv, people)
			if tt.text != "" {
				o.Template = filepath.Join(dir, tt.text)
			}
			if tt.html != "" {
				o.HTMLTemplate = filepath.Join(dir, tt.html)
			}
			o.Subject = tt.subject
			err := Validate(o)
			var ce *provision.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(named(err), tt.want) {
				t.Fatalf("Validate: %v, want a provision.ConfigError saying %q", named(err), tt.want)
			}
			if _, err := Run(context.Background(), o); !errors.As(err, &ce) {
				t.Fatalf("Run: %v, want a provision.ConfigError", err)
			}
			if srv.Connections() != 0 {
				t.Error("the run connected to the server")
			}
			if _, err := os.Stat(DefaultMailReport(o.Report)); err == nil {
				t.Error("the run wrote a mail report")
			}
		})
	}
}

func TestLocaleVariants(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"welcome.txt":       `{{define "subject"}}Welcome {{.FirstName}}{{end}}EN {{.Link}}`,
		"welcome.fr.txt":    `{{define "subject"}}Bienvenue {{.FirstName}}{{end}}FR {{.Link}}`,
		"welcome.pt-BR.txt": `PT {{.Link}}`,  // no subject of its own: the built-in one
		"welcome.old.txt":   `OLD {{.Link}}`, // "old" is a language (Old English): a variant too
		"welcome.v2.txt":    `V2 {{.Bogus}}`, // not a language tag: not a variant, not parsed
		"welcome.html":      `<p>EN <a href="{{.Link}}">go</a></p>`,
		"welcome.fr.html":   `<p>FR <a href="{{.Link}}">go</a></p>`,
	})
	ps := []person{
		{row: 2, email: "en@example.com", name: "Eve En", locale: "en-GB", status: "ok", token: "t1"},
		{row: 3, email: "fr@example.com", name: "Fifi Fr", locale: "fr-CA", status: "ok", token: "t2"},
		{row: 4, email: "de@example.com", name: "Dieter", locale: "de", status: "ok", token: "t3"},
		{row: 5, email: "pt@example.com", name: "Paulo", locale: "pt-PT", status: "ok", token: "t4"},
		{row: 6, email: "none@example.com", name: "Nadia", locale: "", status: "ok", token: "t5"},
	}
	want := map[string][3]string{ // text, html, subject
		"en@example.com":   {"EN ", "<p>EN ", "Welcome Eve"},
		"fr@example.com":   {"FR ", "<p>FR ", "Bienvenue Fifi"},
		"de@example.com":   {"EN ", "<p>EN ", "Welcome Dieter"},
		"pt@example.com":   {"PT ", "<p>EN ", "O seu link de acesso ao Ideanote"},
		"none@example.com": {"EN ", "<p>EN ", "Welcome Nadia"},
	}
	srv := mailtest.NewServer()
	defer srv.Close()
	o, _ := testOptions(t, srv, ps)
	o.Template, o.HTMLTemplate = filepath.Join(dir, "welcome.txt"), filepath.Join(dir, "welcome.html")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages()) != len(ps) {
		t.Fatalf("%d messages, want %d", len(srv.Messages()), len(ps))
	}
	for _, m := range srv.Messages() {
		p := parseMessage(t, m.Data)
		w := want[m.To[0]]
		subject, _ := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
		if !strings.HasPrefix(p.text, w[0]) || !strings.HasPrefix(p.html, w[1]) || subject != w[2] {
			t.Errorf("%s: text %q, html %q, subject %q; want %q, %q, %q", m.To[0], p.text, p.html, subject, w[0], w[1], w[2])
		}
	}
}

func TestBuiltinTemplates(t *testing.T) {
	t.Parallel()
	for _, link := range []string{LinkLogin, LinkWidget} {
		o := Options{Link: link}
		ts, err := loadTemplates(&o)
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.check(link); err != nil {
			t.Errorf("--link %s: %v", link, err)
		}
	}
	o := Options{}
	ts, _ := loadTemplates(&o)
	tests := []struct{ locale, hello, subject string }{
		{"en", "Hello Zoë,", "Your Ideanote login link"},
		{"fr", "Bonjour Zoë,", "Votre lien de connexion à Ideanote"},
		{"fr-CA", "Bonjour Zoë,", "Votre lien de connexion à Ideanote"},
		{"es", "Hola, Zoë:", "Su enlace de acceso a Ideanote"},
		{"ja", "Hello Zoë,", "Your Ideanote login link"},
	}
	for _, tt := range tests {
		f := Fields{Name: "Zoë Ñúñez", FirstName: "Zoë", Locale: tt.locale, Link: "https://x.invalid/l?a=1&b=2"}
		r, err := ts.render(&f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.text, tt.hello) || r.subject != tt.subject {
			t.Errorf("%s: text %q, subject %q", tt.locale, r.text, r.subject)
		}
		if !strings.Contains(r.html, `href="https://x.invalid/l?a=1&amp;b=2"`) {
			t.Errorf("%s: the HTML link is not escaped as an attribute: %s", tt.locale, r.html)
		}
	}
}

func TestNoNameNoTeam(t *testing.T) {
	t.Parallel()
	o := Options{}
	ts, _ := loadTemplates(&o)
	r, err := ts.render(&Fields{Link: "https://x.invalid/l"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.text, "Hello,\n") || strings.Contains(r.text, "in the team") {
		t.Errorf("text = %q", r.text)
	}
}

func TestSubjectOption(t *testing.T) {
	t.Parallel()
	o := Options{Subject: "Your link, {{.FirstName}}\n(team {{.Team}})"}
	ts, err := loadTemplates(&o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ts.render(&Fields{FirstName: "Ana", Team: "R&D", Locale: "fr", Link: "https://x.invalid/l"})
	if err != nil {
		t.Fatal(err)
	}
	if r.subject != "Your link, Ana (team R&D)" { // one line, and the option beats the locale
		t.Errorf("subject = %q", r.subject)
	}
}
