package provision

import (
	"fmt"
	"time"
)

// User is one person as sent to the session endpoint. Empty fields are left out of the request.
type User struct {
	Email     string
	Sub       string
	Name      string
	Team      string
	Locale    string
	AvatarURL string
}

// Row is one data row of the input: where it stood, what it holds, and why it cannot be sent.
type Row struct {
	Line int   // line number of the row in the input file (the header is line 1)
	User User  // trimmed, with defaults applied and the locale in canonical form
	Err  error // validation error; nil when the row can be sent
}

// Status is the outcome of one row, as written in the report's status column.
type Status string

// The statuses of SPEC.md.
const (
	StatusOK           Status = "ok"            // upserted, session token issued
	StatusFailed       Status = "failed"        // sent, and the API or the network refused it
	StatusInvalid      Status = "invalid"       // never sent: the row itself is wrong
	StatusSkipped      Status = "skipped"       // already ok in the report being resumed
	StatusNotAttempted Status = "not_attempted" // never sent: the run stopped before it
	StatusValid        Status = "valid"         // dry run: it would have been sent
	StatusUnchanged    Status = "unchanged"     // same data as last provisioned (--state)
)

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
