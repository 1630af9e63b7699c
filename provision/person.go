package provision

import (
	"fmt"
	"strings"
	"time"
)

// User is one person, with the fields of the session endpoint under the endpoint's own JSON
// names. Empty fields are left out of a request, so that an upsert never blanks a field that the
// workspace already holds.
type User struct {
	Email     string `json:"email"`
	Sub       string `json:"sub,omitempty"`
	Name      string `json:"name,omitempty"`
	AvatarURL string `json:"avatarUrl,omitempty"`
	Team      string `json:"team,omitempty"`
	Locale    string `json:"locale,omitempty"`
}

// Field is one field of a User: the name of its column and where a User holds it.
type Field struct {
	Name string // column name in the input (before aliases) and in the report
	Of   func(*User) *string
}

// Fields lists the fields of a User once, in column order, for every format that reads or
// writes them: the input's columns, the state's fingerprint, the report.
var Fields = [...]Field{
	{"email", func(u *User) *string { return &u.Email }},
	{"sub", func(u *User) *string { return &u.Sub }},
	{"name", func(u *User) *string { return &u.Name }},
	{"team", func(u *User) *string { return &u.Team }},
	{"locale", func(u *User) *string { return &u.Locale }},
	{"avatar", func(u *User) *string { return &u.AvatarURL }},
}

// FieldIndex returns the index in Fields of the field called name, or -1.
func FieldIndex(name string) int {
	for i, f := range Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// FieldNames returns the names of Fields, in order.
func FieldNames() []string {
	names := make([]string, len(Fields))
	for i, f := range Fields {
		names[i] = f.Name
	}
	return names
}

// EmailKey is the form in which emails are compared: lower case.
func EmailKey(email string) string { return strings.ToLower(email) }

// Key is how the session endpoint finds an existing user: by sub when there is one, else by
// email, compared without case. Two rows with the same Key upsert the same person.
func (u User) Key() string {
	if u.Sub != "" {
		return "sub:" + u.Sub
	}
	return "email:" + EmailKey(u.Email)
}

// Row is one data row of the input: where it stood, what it holds, and why it cannot be sent.
type Row struct {
	Line int   // line number of the row in the input file (the header is line 1)
	User User  // trimmed, with defaults applied and the locale in canonical form
	Err  error // validation error; nil when the row can be sent
}

// Status is the outcome of one row, as written in the report's status column.
type Status string

// The statuses a row can end with.
const (
	StatusOK           Status = "ok"            // upserted, session token issued
	StatusFailed       Status = "failed"        // sent, and the API or the network refused it
	StatusInvalid      Status = "invalid"       // never sent: the row itself is wrong
	StatusSkipped      Status = "skipped"       // already ok in the report being resumed
	StatusNotAttempted Status = "not_attempted" // never sent: the run stopped before it
	StatusValid        Status = "valid"         // dry run: it would have been sent
	StatusUnchanged    Status = "unchanged"     // same data as last provisioned (--state)
)

// Statuses is every status a row can end with, in the order above: for those that must list
// each of them, zeros included (the metrics file). Do not modify it.
var Statuses = []Status{StatusOK, StatusFailed, StatusInvalid, StatusSkipped, StatusNotAttempted, StatusValid, StatusUnchanged}

// Success reports whether the status counts as success for the exit status.
func (s Status) Success() bool {
	switch s {
	case StatusOK, StatusSkipped, StatusValid, StatusUnchanged:
		return true
	}
	return false
}

// Result is what happened to one row. A failure is data carried in Err, never a returned error.
type Result struct {
	Row        Row
	Status     Status
	UserID     string
	Token      string // session token: a credential
	Attempts   int    // requests sent for this row
	HTTPStatus int    // status of the last response, 0 when none arrived
	Err        error  // why the row is not ok; never holds a token
	Finished   time.Time
	// Change says how the row compares with what was last provisioned (--state): new,
	// changed, unchanged or refreshed; empty without a state.
	Change string
}

// RowError is a validation error that names the row and the field.
type RowError struct {
	Line  int
	Field string // canonical column name, empty for the whole row
	Msg   string
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("row %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("row %d: %s: %s", e.Line, e.Field, e.Msg)
}
