// Package srcconst reads the string constants of a type from a Go source file, so that a test can
// check that a hand-kept list (every status of a command) names every constant, in order.
package srcconst

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
)

// Strings returns the values of the constants of the named type declared in file, in source
// order. A constant of that type whose value is not a string literal is an error.
func Strings(file, typeName string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		return nil, err
	}
	var values []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return nil, fmt.Errorf("%s: a %s constant is not a string literal", file, typeName)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, err
				}
				values = append(values, s)
			}
		}
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: no %s constants", file, typeName)
	}
	return values, nil
}

// CheckList returns an error unless listed holds the values of the constants of the named type
// declared in file, in their order.
func CheckList[S ~string](file, typeName string, listed []S) error {
	declared, err := Strings(file, typeName)
	if err != nil {
		return err
	}
	got := make([]string, len(listed))
	for i, s := range listed {
		got[i] = string(s)
	}
	if !slices.Equal(got, declared) {
		return fmt.Errorf("the list holds %v, want the constants in their order: %v", got, declared)
	}
	return nil
}
