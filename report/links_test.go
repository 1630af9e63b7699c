package report

import (
	"net/url"
	"testing"
)

func TestLinks(t *testing.T) {
	const tok = "41b0d309e0e4a341eccf611f9a70cbb91a6a_164864564232"
	tests := []struct {
		name                           string
		subdomain, webApp, widget, wid string
		token                          string
		wantWebApp, wantWidget         string
	}{
		{name: "subdomain", subdomain: "mysubdomain", token: tok,
			wantWebApp: "https://mysubdomain.ideanote.io/login/session/" + tok},
		{name: "subdomain given as host", subdomain: "Acme.ideanote.io", token: tok,
			wantWebApp: "https://acme.ideanote.io/login/session/" + tok},
		{name: "custom domain", webApp: "https://ideas.example.com/", token: tok,
			wantWebApp: "https://ideas.example.com/login/session/" + tok},
		{name: "widget id", wid: "df828665bf", token: tok,
			wantWidget: "https://idea-widget.ideanote.io/idea-confirmation?config=df828665bf&auth.sessionToken=" + tok},
		{name: "widget url keeps its parameters in order", widget: "https://idea-widget.ideanote.io/idea-confirmation?config=df828665bf&lang=fr", token: tok,
			wantWidget: "https://idea-widget.ideanote.io/idea-confirmation?config=df828665bf&lang=fr&auth.sessionToken=" + tok},
		{name: "widget url token replaced", widget: "https://w.example/p?auth.sessionToken=OLD&config=x&auth.SessionToken=OLD2", token: tok,
			wantWidget: "https://w.example/p?config=x&auth.sessionToken=" + tok},
		{name: "widget url fragment stays last", widget: "https://w.example/p?config=x#top", token: tok,
			wantWidget: "https://w.example/p?config=x&auth.sessionToken=" + tok + "#top"},
		{name: "both, token needing escapes", subdomain: "acme", wid: "w1", token: "a/b?c#d e+f&g=h",
			wantWebApp: "https://acme.ideanote.io/login/session/a%2Fb%3Fc%23d%20e+f&g=h",
			wantWidget: "https://idea-widget.ideanote.io/idea-confirmation?config=w1&auth.sessionToken=a%2Fb%3Fc%23d+e%2Bf%26g%3Dh"},
		{name: "no token, no link", subdomain: "acme", wid: "w1", token: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLinks(tt.subdomain, tt.webApp, tt.widget, tt.wid)
			if err != nil {
				t.Fatalf("NewLinks: %v", err)
			}
			if got := l.WebApp(tt.token); got != tt.wantWebApp {
				t.Errorf("WebApp = %q\nwant      %q", got, tt.wantWebApp)
			}
			got := l.Widget(tt.token)
			if got != tt.wantWidget {
				t.Errorf("Widget = %q\nwant     %q", got, tt.wantWidget)
			}
			// Whatever the token holds, a browser must get it back exactly.
			if got != "" {
				u, err := url.Parse(got)
				if err != nil || u.Query().Get("auth.sessionToken") != tt.token {
					t.Errorf("widget link %q does not carry the token back (%v)", got, err)
				}
			}
			if w := l.WebApp(tt.token); w != "" {
				u, err := url.Parse(w)
				if err != nil || u.Path != "/login/session/"+tt.token {
					t.Errorf("web-app link %q does not carry the token back (%v)", w, err)
				}
			}
		})
	}
}

func TestLinksErrors(t *testing.T) {
	tests := []struct {
		name                           string
		subdomain, webApp, widget, wid string
	}{
		{name: "subdomain and webapp url", subdomain: "a", webApp: "https://x.example"},
		{name: "widget url and id", widget: "https://w.example/?config=1", wid: "1"},
		{name: "subdomain with a dot", subdomain: "a.b"},
		{name: "relative webapp url", webApp: "/ideas"},
		{name: "javascript widget", widget: "javascript:alert(1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewLinks(tt.subdomain, tt.webApp, tt.widget, tt.wid); err == nil {
				t.Error("NewLinks accepted it")
			}
		})
	}
}
