package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision/input"
)

// TestWithFlags checks that an input error, however wrapped, is read with the flags that fix
// it and keeps its chain; other errors pass as they are. The messages of real refusals
// through the command line are checked in TestExportRefused.
func TestWithFlags(t *testing.T) {
	fe := &input.FileError{Given: &input.Setting{Option: "Sheet", Value: "Staf"}, Msg: "no such sheet",
		Fix: []input.Setting{{Option: "Map", Value: "email=COLUMN"}, {Option: "HeaderRow", Value: "N"}}}
	err := withFlags(fmt.Errorf("people.xlsx: %w", fe))
	if want := "people.xlsx: --sheet Staf: no such sheet, or use --map email=COLUMN or --header-row N"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if got, ok := errors.AsType[*input.FileError](err); !ok || got != fe {
		t.Errorf("the input error is lost from the chain of %v", err)
	}
	if exitStatus(err) != exitUsage {
		t.Errorf("exit status %d, want %d", exitStatus(err), exitUsage)
	}
	enc := &input.FileError{Msg: "it looks like windows-1252", Fix: []input.Setting{{Option: "Encoding", Value: "windows-1252"}}}
	if got, want := withFlags(enc).Error(), "it looks like windows-1252. Give --encoding windows-1252"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	other := errors.New("other")
	if withFlags(other) != other || withFlags(nil) != nil {
		t.Error("an error that is not an input error changed")
	}
}
