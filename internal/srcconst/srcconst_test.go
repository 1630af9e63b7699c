package srcconst

import (
	"slices"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/testfile"
)

func TestStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
		err       string
	}{
		{"in order, other types left out", `package p
type Color string
type Size string
const (
	Red Color = "red"
	Big Size = "big"
	Blue Color = "blue"
)
const Green Color = "green"`, []string{"red", "blue", "green"}, ""},
		{"not a literal", "package p\ntype Color string\nconst Red Color = Color(\"red\")", nil, "not a string literal"},
		{"none", "package p\nconst x = 1", nil, "no Color constants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := testfile.Temp(t, "p.go", tt.src)
			got, err := Strings(file, "Color")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Strings = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
