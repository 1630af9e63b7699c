package mail

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"rate below one a minute", func(o *Options) { o.Rate = 0.00001 }, "<Rate> must be 0 (no limit) or at least 0.0167"},
		{"rate NaN", func(o *Options) { o.Rate = math.NaN() }, "<Rate>"},
		{"rate infinite", func(o *Options) { o.Rate = math.Inf(1) }, "<Rate>"},
		{"rate negative", func(o *Options) { o.Rate = -1 }, "<Rate>"},
		{"dry run into a folder", func(o *Options) { o.DryRun, o.OutDir = true, "dd" }, "give <DryRun> or <OutDir>, not both"},
		{"resume and overwrite", func(o *Options) { o.Resume, o.Overwrite = true, true }, "not both"},
		{"sender", func(o *Options) { o.From = "not an address" }, "<From>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _ := testOptions(t, nil, people)
			o.SMTPURL = "smtp://127.0.0.1:1" // never dialed: refused before
			tt.change(&o)
			err := Validate(o)
			var ce *provision.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(named(err), tt.want) {
				t.Errorf("Validate = %v, want a provision.ConfigError saying %q", named(err), tt.want)
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

// named is err's message with each option it names as <Field>, where a command line names its
// flag: a *provision.ConfigError's Text, any other error's message.
func named(err error) string {
	if ce, ok := errors.AsType[*provision.ConfigError](err); ok {
		return ce.Text(func(o provision.Option) string { return "<" + o.Field + ">" })
	}
	return fmt.Sprint(err)
}

// TestOptionsInWords checks that an option error read without a command line names the
// option in words.
func TestOptionsInWords(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t, nil, people)
	o.SMTPURL, o.Concurrency = "smtp://127.0.0.1:1", 100
	if err, want := Validate(o), "the concurrency must be between 1 and 64 connections"; fmt.Sprint(err) != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
}

// TestOptionWordsAreFields checks that each option named in words is a field of Options, as
// a caller that names it by its flag reads it.
func TestOptionWordsAreFields(t *testing.T) {
	t.Parallel()
	for field := range optionWords {
		if _, ok := reflect.TypeFor[Options]().FieldByName(field); !ok {
			t.Errorf("%s is not a field of Options", field)
		}
	}
}

// TestErrorsKeepTheirCause checks that the errors of a run wrap what caused them, for a
// caller to tell with errors.Is.
func TestErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	file := testfile.Temp(t, "a-file", "")
	tests := []struct {
		name   string
		change func(*Options)
		cause  error
	}{
		{"report missing", func(o *Options) { o.Report = file + ".missing"; o.DryRun = true }, os.ErrNotExist},
		{"out-dir under a file", func(o *Options) { o.OutDir = filepath.Join(file, "eml") }, syscall.ENOTDIR},
		{"mail report under a file", func(o *Options) { o.MailReport = filepath.Join(file, "r.mail.csv"); o.OutDir = file + ".eml" }, syscall.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _ := testOptions(t, nil, people)
			tt.change(&o)
			_, err := Run(context.Background(), o)
			var ce *provision.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, tt.cause) {
				t.Errorf("err = %v, want a provision.ConfigError wrapping %v", err, tt.cause)
			}
		})
	}
}
