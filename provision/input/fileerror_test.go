package input

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFileErrorText checks that Error names the options in words and Text as its caller
// spells them, in the same sentence.
func TestFileErrorText(t *testing.T) {
	flag := func(option string) string { return "--" + strings.ToLower(option) }
	tests := []struct {
		err         FileError
		words, flag string
	}{
		{FileError{Msg: "the input is empty"}, "the input is empty", "the input is empty"},
		{FileError{Msg: "it looks like windows-1252", Fix: []Setting{{"Encoding", "windows-1252"}}},
			"it looks like windows-1252. Give the encoding windows-1252", "it looks like windows-1252. Give --encoding windows-1252"},
		{FileError{Msg: "no email column: name it email", Fix: []Setting{{"Map", "email=COLUMN"}, {"HeaderRow", "N"}}},
			"no email column: name it email, or use the column mapping email=COLUMN or the header row N",
			"no email column: name it email, or use --map email=COLUMN or --headerrow N"},
		{FileError{Given: &Setting{"Sheet", "Staf"}, Msg: "no such sheet"}, "the sheet Staf: no such sheet", "--sheet Staf: no such sheet"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.words {
			t.Errorf("Error() = %q, want %q", got, tt.words)
		}
		if got := tt.err.Text(flag); got != tt.flag {
			t.Errorf("Text(flag) = %q, want %q", got, tt.flag)
		}
	}
}

// TestMessagesNameNoFlag checks that no string of the package spells a command-line flag: the
// package says what is wrong with the input, and the command line which of its flags fixes it
// (FileError.Text). The refusals themselves are checked for it in TestReaderHeaderErrors and
// TestXLSXOpen.
func TestMessagesNameNoFlag(t *testing.T) {
	flagLike := regexp.MustCompile(`(^|[^-\w])--[a-z]`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && flagLike.MatchString(s) {
					t.Errorf("%s: %q spells a flag", fset.Position(lit.Pos()), s)
				}
			}
			return true
		})
	}
}
