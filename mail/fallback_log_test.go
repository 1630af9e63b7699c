package mail

import (
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

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
