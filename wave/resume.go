package wave

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/input"
	"github.com/ideanote-provision/ideanote-provision/report"
)

// checkOverwrite refuses to replace, in a run with a state, a report that holds people ok: the
// state remembers them as provisioned, so the new report would not give their links (unchanged
// rows are not sent), and those links would be in no file. With Force every row is sent again.
func checkOverwrite(o *Options) error {
	done, err := report.ReadBack(o.Report, nil)
	if err != nil {
		return configf("%s: %w", opt("Overwrite"), err)
	}
	if len(done) == 0 {
		return nil
	}
	return configf("%s %s with %s: the report holds %d people provisioned ok, whom the state remembers; the new report would not list them and their links would be lost. "+
		"Mail that report and move it away first, finish it with %s, or add %s to send everyone again (new links)",
		opt("Overwrite"), o.Report, opt("State"), len(done), opt("Resume"), opt("Force"))
}

// checkResume refuses to resume a report most of whose ok rows are not in the input: the input
// or its mapping changed, and resuming would send those people again, with new links. The
// input is read a second time for it, before anything is sent; standard input cannot be.
func checkResume(o *Options, done report.DoneSet, log *slog.Logger) error {
	if len(done) == 0 {
		return nil
	}
	if o.Input == "-" {
		log.Warn(o.Names.Name(opt("Resume")) + " from standard input: the input cannot be read twice, so it is not checked against the report first")
		return nil
	}
	r, err := input.Open(o.Input, nil, o.Read)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Input, err)
	}
	defer r.Close()
	err = done.Check(r)
	var me *report.MismatchError
	switch {
	case errors.As(err, &me):
		return configf("%s %s: %w. Give the input and %s of that run, or another %s to send this input as a new run",
			opt("Resume"), o.Report, err, opt("Read.Map"), opt("Report"))
	case err != nil:
		return fmt.Errorf("%w: reading %s: %w", provision.ErrInput, o.Input, err)
	}
	return nil
}
