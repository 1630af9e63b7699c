package mail

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"rate below one a minute", func(o *Options) { o.Rate = 0.00001 }, "--rate must be 0 (no limit) or at least 0.0167"},
		{"rate NaN", func(o *Options) { o.Rate = math.NaN() }, "--rate"},
		{"rate infinite", func(o *Options) { o.Rate = math.Inf(1) }, "--rate"},
		{"rate negative", func(o *Options) { o.Rate = -1 }, "--rate"},
		{"dry run into a folder", func(o *Options) { o.DryRun, o.OutDir = true, "dd" }, "give --dry-run or --out-dir, not both"},
		{"resume and overwrite", func(o *Options) { o.Resume, o.Overwrite = true, true }, "not both"},
		{"sender", func(o *Options) { o.From = "not an address" }, "--from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _ := testOptions(t, nil, people)
			o.SMTPURL = "smtp://127.0.0.1:1" // never dialed: refused before
			tt.change(&o)
			err := Validate(o)
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want a ConfigError saying %q", err, tt.want)
			}
		})
	}
	t.Run("one a minute is taken", func(t *testing.T) {
		t.Parallel()
		o, _ := testOptions(t, nil, people)
		o.SMTPURL, o.Rate = "smtp://127.0.0.1:1", 1.0/60
		if err := Validate(o); err != nil {
			t.Error(err)
		}
	})
}
