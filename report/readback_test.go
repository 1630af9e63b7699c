package report

import (
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

func TestDoneSetMatch(t *testing.T) {
	t.Parallel()
	done := DoneSet{"ana@x.com": {User: provision.User{Email: "ana@x.com", Sub: "E1"}, Token: "t1"}, "bob@x.com": {Token: "t2"}}
	tests := []struct {
		name string
		user provision.User
		want string // token of the row matched, "" for none
	}{
		{"email and sub", provision.User{Email: "Ana@X.com", Sub: "E1"}, "t1"},
		{"the input lost the sub", provision.User{Email: "ana@x.com"}, "t1"},
		{"the report has no sub", provision.User{Email: "bob@x.com", Sub: "E2"}, "t2"},
		{"another sub", provision.User{Email: "ana@x.com", Sub: "E9"}, ""},
		{"another email", provision.User{Email: "ann@x.com", Sub: "E1"}, ""},
	}
	for _, tt := range tests {
		d, ok := done.match(tt.user)
		if got := d.Token; ok != (tt.want != "") || got != tt.want {
			t.Errorf("%s: matched %v with token %q, want %q", tt.name, ok, got, tt.want)
		}
	}
}

// rows is a provision.Source over users, counting the rows read.
type rows struct {
	users []provision.User
	read  int
}

func (r *rows) Read() (provision.Row, error) {
	if r.read == len(r.users) {
		return provision.Row{}, io.EOF
	}
	r.read++
	return provision.Row{Line: r.read + 1, User: r.users[r.read-1]}, nil
}

func TestDoneSetCheck(t *testing.T) {
	t.Parallel()
	done := DoneSet{}
	var same, lostSub, other []provision.User
	for _, e := range []string{"a", "b", "c", "d"} {
		done[e+"@x.com"] = Done{User: provision.User{Sub: "S-" + e}, Token: "t"}
		same = append(same, provision.User{Email: e + "@x.com", Sub: "S-" + e})
		lostSub = append(lostSub, provision.User{Email: e + "@x.com"})
		other = append(other, provision.User{Email: e + "@x.com", Sub: "M-" + e}) // another column as sub
	}
	tests := []struct {
		name     string
		input    []provision.User
		mismatch bool
		read     int // rows read before deciding
	}{
		{"the same input stops at half", slices.Concat(same, other), false, 2},
		{"the sub column was dropped", lostSub, false, 2},
		{"the sub column changed", other, true, 4},
		{"half is enough", slices.Concat(other[:2], same[2:]), false, 4},
		{"one of four is not", slices.Concat(other[:3], same[3:]), true, 4},
		{"ok rows further down", slices.Concat(other[:2], lostSub[:1], other[3:], same[1:]), false, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &rows{users: tt.input}
			err := done.Check(src)
			var me *MismatchError
			if tt.mismatch != errors.As(err, &me) || (!tt.mismatch && err != nil) {
				t.Fatalf("err = %v, want a mismatch: %v", err, tt.mismatch)
			}
			if src.read != tt.read {
				t.Errorf("read %d rows, want %d", src.read, tt.read)
			}
		})
	}
	if err := (DoneSet{}).Check(&rows{}); err != nil {
		t.Errorf("an empty set: %v", err)
	}
}

// A person ok in the report is skipped only with the data their line shows: a row whose data
// changed since is sent again, so that the change reaches Ideanote.
func TestDoneSetSkipsOnlySameData(t *testing.T) {
	t.Parallel()
	ana := provision.User{Email: "ana@x.com", Sub: "E1", Name: "Ana", Team: "Sales", Locale: "es-ES"}
	done := DoneSet{"ana@x.com": {Row: 2, User: ana, Token: "t1"}}
	for _, same := range []func(*provision.User){
		func(*provision.User) {},
		func(u *provision.User) { u.Email = "Ana@x.com" }, // the same person: match
		func(u *provision.User) { u.Sub = "" },
	} {
		u := ana
		same(&u)
		if _, ok := done.Skip(provision.Row{Line: 5, User: u}); !ok {
			t.Errorf("%+v: the same data, not skipped", u)
		}
	}
	for _, change := range []func(*provision.User){
		func(u *provision.User) { u.Team = "Marketing" },
		func(u *provision.User) { u.Name = "Ana María" },
		func(u *provision.User) { u.Locale = "en-GB" },
	} {
		u := ana
		change(&u)
		if res, ok := done.Skip(provision.Row{Line: 2, User: u}); ok {
			t.Errorf("%+v skipped as %+v: the change would never be sent", u, res.Row.User)
		}
	}
}
