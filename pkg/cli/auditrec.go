package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// identityTimeout bounds the SelfSubjectReview made for an audit record.
const identityTimeout = 3 * time.Second

// interruptedIdentityWait is how long an interrupted command still waits for the identity:
// Ctrl-C must stop storectl within moments, not after another API round trip.
const interruptedIdentityWait = 300 * time.Millisecond

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

// auditTrail records one mutating action. It is begun when the action starts, so that the
// Kubernetes identity is looked up while the action runs rather than after it.
type auditTrail struct {
	f        *Factory
	action   string
	store    string
	started  time.Time
	cluster  *Cluster
	identity chan string
	artifact *audit.Artifact
}

func beginAudit(ctx context.Context, f *Factory, action, name string) *auditTrail {
	a := &auditTrail{f: f, action: action, store: name, started: f.Now(), identity: make(chan string, 1)}
	if c, err := f.Cluster(); err == nil && c != nil {
		a.cluster = c
	}
	if a.cluster == nil || a.cluster.Identity == nil {
		a.identity <- ""
		return a
	}
	go func() {
		// Detached from the command's context: an interrupted command still deserves
		// its actor in the record.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), identityTimeout)
		defer cancel()
		a.identity <- a.cluster.Identity(ictx)
	}()
	return a
}

// end appends the record. A failure to record is a warning: the cluster already changed,
// and the command's own outcome is what the user needs.
func (a *auditTrail) end(ctx context.Context, chartVersion string, err error) {
	f := a.f
	rec := audit.Record{
		Time:         f.Now(),
		Action:       a.action,
		Store:        a.store,
		Outcome:      outcomeOf(ctx, err),
		Duration:     f.Now().Sub(a.started),
		ChartVersion: chartVersion,
		Artifact:     a.artifact,
	}
	if err != nil {
		rec.Error = err.Error()
	}
	if a.cluster != nil {
		rec.Server, rec.Context = a.cluster.Server, a.cluster.Context
	}
	wait := identityTimeout
	if rec.Outcome == audit.OutcomeInterrupted || ExitCode(err) == ExitUnreachable {
		wait = interruptedIdentityWait
	}
	select {
	case rec.Actor = <-a.identity:
	case <-time.After(wait):
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
			st.Warn.Render("Warning:"), a.action, a.store, aerr)
	}
}
