package mail

import (
	"reflect"
	"regexp"
	"strings"
)

// templateFields is the list of the fields a template may use, as a template names them:
// ".Email .Name …".
var templateFields = func() string {
	t := reflect.TypeFor[Fields]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = "." + t.Field(i).Name
	}
	return strings.Join(names, " ")
}()

// unknownField finds the field named in text/template's "… at <.Nmae>: can't evaluate field Nmae
// in type *mail.Fields", and the line before it.
var unknownField = regexp.MustCompile(`^template: [^:]*:(\d+):\d+: .*can't evaluate field (\w+) in type`)

// templateError is the error of a template, in file, that failed to render: an unknown field is
// named with the fields a template may use, not as Go's "… in type *mail.Fields".
func templateError(file string, err error) error {
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return configf("%s, line %s: there is no field .%s; a template may use %s", file, m[1], m[2], templateFields)
	}
	return configf("%s: %v (a template may use %s)", file, err, templateFields)
}
