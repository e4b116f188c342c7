package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// identityTimeout bounds the SelfSubjectReview made for an audit record; the record must not
// hold up the end of a command.
const identityTimeout = 3 * time.Second

// outcomeOf classifies how a mutating command ended.
func outcomeOf(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return audit.OutcomeSucceeded
	case errors.Is(err, store.ErrInterrupted), errors.Is(err, context.Canceled), ctx.Err() == context.Canceled:
		return audit.OutcomeInterrupted
	default:
		return audit.OutcomeFailed
	}
}

// recordAudit appends one record for a mutating command. A failure to record is a warning:
// the cluster already changed, and the command's own outcome is what the user needs.
func recordAudit(ctx context.Context, f *Factory, action, name string, started time.Time, chartVersion string, err error) {
	rec := audit.Record{
		Time:         f.Now(),
		Action:       action,
		Store:        name,
		Outcome:      outcomeOf(ctx, err),
		Duration:     f.Now().Sub(started),
		ChartVersion: chartVersion,
	}
	if err != nil {
		rec.Error = err.Error()
	}
	if c, cerr := f.Cluster(); cerr == nil && c != nil {
		rec.Server, rec.Context = c.Server, c.Context
		if c.Identity != nil && ExitCode(err) != ExitUnreachable {
			// The command's context may be cancelled already; the identity lookup still
			// deserves its short chance.
			ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), identityTimeout)
			rec.Actor = c.Identity(ictx)
			cancel()
		}
	}
	if rec.Actor == "" {
		rec.Actor = audit.OSUser()
	}
	log, aerr := f.Audit()
	if aerr == nil {
		aerr = log.Append(rec)
	}
	if aerr != nil {
		st := f.IOStreams.StderrStyles()
		fmt.Fprintf(f.IOStreams.ErrOut, "%s could not record %s of store %q in the audit log: %v\n",
			st.Warn.Render("Warning:"), action, name, aerr)
	}
}
