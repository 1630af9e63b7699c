package state

import (
	"sync"
	"time"

	"github.com/ideanote-provision/ideanote-provision/provision"
)

// The changes of the report's change column: how a row compares with what was last provisioned.
const (
	New       = "new"       // never provisioned ok
	Changed   = "changed"   // provisioned ok, with other data
	Unchanged = "unchanged" // provisioned ok with the same data: not sent
	Refreshed = "refreshed" // same data, sent again (Plan.Force, or Plan.RefreshAfter elapsed)
)

// Plan decides row by row what a scheduled run sends, and records in Store what went through.
// Skip is called by the reading goroutine, Settle, Reports and Record by the emitting one: they
// may run at once. A nil *Plan is a run without a state: it skips nothing it is not told to,
// reports everything and records nothing.
type Plan struct {
	Store        *Store        // nil: nothing was provisioned yet, every row is new
	Force        bool          // send every row, refreshing the store
	RefreshAfter time.Duration // send rows last provisioned this long ago or more; 0 never
	OnlyChanges  bool          // leave unchanged rows out of the report
	Now          time.Time     // the start of the run, against which RefreshAfter counts

	mu      sync.Mutex
	pending map[int]string // change of the rows let through, by input line, until they settle
	changes map[string]int // reported rows by change; used by the emitting goroutine only
	failed  bool           // Record has returned an error once
}

// Skipper returns the Job's Skip for a run with this plan. Rows already ok in the report being
// resumed (resumed, when not nil) come first: they were sent in this wave and keep the change
// they had, unless the store holds other data for them. The report does not show every field
// (not the avatar), so such a row may have changed since its line: it is sent, as changed,
// rather than recorded as sent. Then rows unchanged since their last ok are skipped.
func (p *Plan) Skipper(resumed func(provision.Row) (provision.Result, bool)) func(provision.Row) (provision.Result, bool) {
	if p == nil {
		return resumed
	}
	if resumed == nil {
		return p.Skip
	}
	return func(row provision.Row) (provision.Result, bool) {
		change, e, send := p.Decide(row.User)
		if res, ok := resumed(row); ok && change != Changed {
			return res, true
		}
		return p.skip(row, change, e, send)
	}
}

// Decide returns how u compares with what was last provisioned and whether it is to be sent.
func (p *Plan) Decide(u provision.User) (change string, e Entry, send bool) {
	var found bool
	if p.Store != nil {
		e, found = p.Store.Get(Key(u))
	}
	switch {
	case !found:
		return New, e, true
	case e.Fingerprint != Fingerprint(u):
		return Changed, e, true
	case p.Force, p.RefreshAfter > 0 && p.Now.Sub(e.At) >= p.RefreshAfter:
		return Refreshed, e, true
	}
	return Unchanged, e, false
}

// Skip is for provision.Job.Skip: it returns the unchanged result of a row not to be sent, and
// remembers the change of the others for Settle.
func (p *Plan) Skip(row provision.Row) (provision.Result, bool) {
	change, e, send := p.Decide(row.User)
	return p.skip(row, change, e, send)
}

// skip is Skip once the row is decided.
func (p *Plan) skip(row provision.Row, change string, e Entry, send bool) (provision.Result, bool) {
	if !send {
		return provision.Result{Row: row, Status: provision.StatusUnchanged, Change: change, UserID: e.UserID}, true
	}
	p.mu.Lock()
	if p.pending == nil {
		p.pending = make(map[int]string)
	}
	p.pending[row.Line] = change
	p.mu.Unlock()
	return provision.Result{}, false
}

// Settle sets the change of a result whose row Skip let through, before it is reported, and
// counts the result's change for Changes.
func (p *Plan) Settle(res *provision.Result) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.pending[res.Row.Line]; ok {
		delete(p.pending, res.Row.Line)
		if res.Change == "" {
			res.Change = c
		}
	}
	if res.Change != "" {
		if p.changes == nil {
			p.changes = make(map[string]int)
		}
		p.changes[res.Change]++
	}
}

// Reports says whether a settled result has a line in the report: with OnlyChanges, unchanged
// rows have none, so that the report lists exactly the people to mail.
func (p *Plan) Reports(res provision.Result) bool {
	return p == nil || !(p.OnlyChanges && res.Change == Unchanged)
}

// Changes returns the number of settled results of each change, every change present; nil for
// a nil Plan.
func (p *Plan) Changes() map[string]int {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return map[string]int{New: p.changes[New], Changed: p.changes[Changed], Unchanged: p.changes[Unchanged], Refreshed: p.changes[Refreshed]}
}

// Record remembers a row that went through ok, once it is reported (a row recorded but not
// reported would never be mailed its link). A row skipped because an interrupted run had
// already done it (its report line shows the data of the row: report.DoneSet.Skip) is recorded
// too when the store lacks it: that run's last batch was lost. One the store holds with other
// data was sent again (Skipper), as a field the report does not show may have changed.
// A store that cannot be written does not stop the run, whose report matters more: the next run
// sends again what was not recorded. The error is returned once, the first time, to be told.
func (p *Plan) Record(res provision.Result) error {
	if p == nil || p.Store == nil || !p.Store.writable() || p.failed {
		return nil
	}
	err := p.record(res)
	if err != nil {
		p.failed = true
	}
	return err
}

func (p *Plan) record(res provision.Result) error {
	key := Key(res.Row.User)
	switch res.Status {
	case provision.StatusOK:
	case provision.StatusSkipped:
		if _, found := p.Store.Get(key); found {
			return nil
		}
	default:
		return nil
	}
	at := res.Finished
	if at.IsZero() {
		at = time.Now()
	}
	return p.Store.Record(key, Entry{Fingerprint: Fingerprint(res.Row.User), UserID: res.UserID, Email: res.Row.User.Email, At: at})
}
