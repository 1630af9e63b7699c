package wave

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// TestOptionErrors checks that an option refused names the option: in words without a
// command line, by its Options field for a caller that names it otherwise.
func TestOptionErrors(t *testing.T) {
	t.Parallel()
	valid := Options{DryRun: true, Rate: 1, Burst: 1, Concurrency: 4, Timeout: time.Second, MaxAttempts: 1, MaxWait: time.Minute,
		BaseURL: "https://api.example.com"}
	for _, tt := range []struct {
		change      func(*Options)
		words, text string
	}{
		{func(o *Options) { o.Rate = -1 }, "the rate must be 0 (no limit)", "<Rate> must be 0 (no limit)"},
		{func(o *Options) { o.Force = true }, "forcing, the refresh age and only changes need a state file",
			"<Force>, <RefreshAfter> and <OnlyChanges> need <State>"},
		{func(o *Options) { o.Read.HeaderRow = -1 }, "the header row -1: give", "<Read.HeaderRow> -1: give"},
		{func(o *Options) { o.DryRun = false }, "no workspace: set the space id", "no workspace: set <SpaceID>"},
	} {
		o := valid
		tt.change(&o)
		err := o.check()
		ce, ok := errors.AsType[*provision.ConfigError](err)
		if !ok {
			t.Errorf("%v: not a *provision.ConfigError", err)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.words) {
			t.Errorf("Error() = %q, want it to start with %q", err, tt.words)
		}
		if got := ce.Text(func(o provision.Option) string { return "<" + o.Field + ">" }); !strings.HasPrefix(got, tt.text) {
			t.Errorf("Text = %q, want it to start with %q", got, tt.text)
		}
	}
	if err := valid.check(); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}

// TestOptionWordsAreFields checks that each option named in words is a field of Options, as
// a caller that names it by its flag reads it.
func TestOptionWordsAreFields(t *testing.T) {
	t.Parallel()
	for field := range optionWords {
		typ := reflect.TypeFor[Options]()
		for name := range strings.SplitSeq(field, ".") {
			f, ok := typ.FieldByName(name)
			if !ok {
				t.Errorf("%s is not a field of Options", field)
				break
			}
			typ = f.Type
		}
	}
}
