package provision_test

import (
	"testing"

	"github.com/ideanote-provision/ideanote-provision/internal/srcconst"
	"github.com/ideanote-provision/ideanote-provision/provision"
)

// TestStatusesListsEveryStatus reads the Status constants from the source, so that a status
// added without being added to Statuses fails here rather than going missing from the
// metrics file's zeros.
func TestStatusesListsEveryStatus(t *testing.T) {
	t.Parallel()
	if err := srcconst.CheckList("person.go", "Status", provision.Statuses); err != nil {
		t.Error(err)
	}
}
