package wave

import "testing"

func TestColumnList(t *testing.T) {
	t.Parallel()
	got := columnList(map[string]string{"email": "Work Email", "firstname": "First Name", "lastname": "Last Name", "team": "Department"})
	if want := "email=Work Email firstname=First Name lastname=Last Name team=Department"; got != want {
		t.Errorf("columnList = %q, want %q", got, want)
	}
}
