package cli

import (
	"context"
	"fmt"

	"github.com/storectl/storectl/pkg/audit"
)

// auditTrail records one mutating command through the audit Recorder, which a server shares;
// the command only adds what it knows (the chart version) and says when recording failed.
type auditTrail struct {
	f      *Factory
	action string
	store  string
	op     *audit.Operation
	// artifact is the file a backup wrote or a restore read, when there is one.
	artifact *audit.Artifact
}

// recorder returns the audit Recorder of the factory's cluster and audit log.
func (f *Factory) recorder() *audit.Recorder {
	r := &audit.Recorder{Now: f.Now, Open: func() (audit.Appender, error) { return f.Audit() }}
	if c, err := f.Cluster(); err == nil && c != nil {
		r.Server, r.Context, r.Identity = c.Server, c.Context, c.Identity
	}
	return r
}

func beginAudit(ctx context.Context, f *Factory, action, name string) *auditTrail {
	return &auditTrail{f: f, action: action, store: name, op: f.recorder().Begin(ctx, action, name)}
}

// end appends the record. A failure to record is a warning: the cluster already changed,
// and the command's own outcome is what the user needs.
func (a *auditTrail) end(ctx context.Context, chartVersion string, err error) {
	aerr := a.op.End(ctx, err, func(r *audit.Record) {
		r.ChartVersion, r.Artifact = chartVersion, a.artifact
	})
	if aerr != nil {
		st := a.f.IOStreams.StderrStyles()
		fmt.Fprintf(a.f.IOStreams.ErrOut, "%s could not record %s of store %q in the audit log: %v\n",
			st.Warn.Render("Warning:"), a.action, a.store, aerr)
	}
}
