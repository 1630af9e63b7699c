package mail_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail"
)

// TestStatusesListsEveryStatus reads the Status constants from the source, so that a status
// added without being added to Statuses fails here rather than going missing from the
// metrics file's zeros.
func TestStatusesListsEveryStatus(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "plan.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []mail.Status
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Status" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("a Status constant is not a string literal: %T", v)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, mail.Status(s))
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("found no Status constants in plan.go")
	}
	if !slices.Equal(declared, mail.Statuses) {
		t.Errorf("Statuses = %v, want the constants in their order: %v", mail.Statuses, declared)
	}
}
