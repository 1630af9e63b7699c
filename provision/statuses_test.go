package provision_test

import (
	"slices"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/srcconst"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// TestStatusesListsEveryStatus reads the Status constants from the source, so that a status
// added without being added to Statuses fails here rather than going missing from the
// metrics file's zeros.
func TestStatusesListsEveryStatus(t *testing.T) {
	t.Parallel()
	declared, err := srcconst.Strings("person.go", "Status")
	if err != nil {
		t.Fatal(err)
	}
	listed := make([]string, len(provision.Statuses))
	for i, s := range provision.Statuses {
		listed[i] = string(s)
	}
	if !slices.Equal(declared, listed) {
		t.Errorf("Statuses = %v, want the constants in their order: %v", listed, declared)
	}
}
