package input

import (
	"errors"
	"testing"
)

func TestCanonicalLocale(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"fr-FR", "fr-FR"},
		{"EN_us", "en-US"},
		{"fr_FR", "fr-FR"},
		{"de_DE.UTF-8", "de-DE"},
		{"sr_RS@latin", "sr-Latn-RS"},
		{"zh-hant-tw", "zh-Hant-TW"},
		{"French", "fr"},
		{"Français", "fr"},
		{"Norwegian", "no"},
		{"Norsk", "no"},
		{"francais", "fr"},
		{"Anglais", "en"},
		{"Deutsch", "de"},
		{"Englisch", "en"},
		{"Inglés", "en"},
		{"  english ", "en"},
		{"Español", "es"},
		{"Italiano", "it"},
		{"Japanese", "ja"},
		{"日本語", "ja"},
		{"Portuguese", "pt"},
		{"Brazilian Portuguese", "pt-BR"},
		{"English (United States)", "en-US"},
		{"Français (Canada)", "fr-CA"},
		{"", ""},
		{"english please", ""},
		{"en-US-x", ""},
		{"C", ""},
		{"Klingonese", ""},
		{"English (Atlantis)", ""},
	}
	for _, tt := range tests {
		got, err := CanonicalLocale(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrLocale) {
				t.Errorf("CanonicalLocale(%q) = %q, %v; want ErrLocale", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CanonicalLocale(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func BenchmarkLocaleNameTables(b *testing.B) {
	for b.Loop() {
		buildNameTables()
	}
	b.ReportMetric(float64(len(languageNames)), "names")
}
