package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/storectl/storectl/pkg/release"
)

// Operations a revision records under InputsKey ("operation"); a revision without one was
// made by create.
const (
	OperationInstall  = "install"
	OperationUpgrade  = "upgrade"
	OperationRollback = "rollback"
)

// UpgradeOptions configures Upgrade.
type UpgradeOptions struct {
	Name string
	// Values are user chart values layered over the ones the store keeps.
	Values map[string]any
	// ResetValues drops the user values given at create and at earlier upgrades.
	ResetValues bool
	// Versions are the component versions to move to; empty ones keep the store's.
	Versions Versions
	// DryRun plans the change and returns it without changing anything.
	DryRun bool
	// Force applies a change the safety rules would refuse (a downgrade, a store not Ready).
	Force bool
	// Timeout bounds the whole upgrade; 0 means DefaultTimeout.
	Timeout    time.Duration
	OnProgress func(Progress)
}

// RollbackOptions configures Rollback.
type RollbackOptions struct {
	Name string
	// Revision is the revision whose values to return to; 0 means the previous one that was
	// deployed.
	Revision   int
	DryRun     bool
	Force      bool
	Timeout    time.Duration
	OnProgress func(Progress)
}

// ChangeResult is what an upgrade or a rollback did, or with DryRun would do.
type ChangeResult struct {
	Name      string `json:"name"`
	Operation string `json:"operation"`
	DryRun    bool   `json:"dryRun,omitempty"`
	// Unchanged says the store already runs what was asked: no revision was made.
	Unchanged      bool     `json:"unchanged,omitempty"`
	RevisionBefore int      `json:"revisionBefore"`
	RevisionAfter  int      `json:"revisionAfter,omitempty"`
	ChartBefore    string   `json:"chartVersionBefore,omitempty"`
	ChartAfter     string   `json:"chartVersionAfter,omitempty"`
	VersionsBefore Versions `json:"versionsBefore"`
	VersionsAfter  Versions `json:"versionsAfter"`
	// Source is, for a rollback, the revision whose values were applied, and SourceChart
	// the chart version that revision was made with (the chart applied is this storectl's).
	Source      int            `json:"source,omitempty"`
	SourceChart string         `json:"sourceChartVersion,omitempty"`
	Changes     []ObjectChange `json:"changes,omitempty"`
	Store       *Store         `json:"store,omitempty"`
}

// Migration prepares a store's existing objects for a revision the cluster could not apply
// over them as they are (a field Kubernetes keeps immutable that the new revision changes).
// Every entry of upgradeMigrations runs, in order, after every check passed and before the
// revision is applied, under the store's lock; one that has nothing to do returns nil.
type Migration func(ctx context.Context, kube kubernetes.Interface, m MigrationInput) error

// MigrationInput is what a Migration decides from: the store, the revision running now and
// the one about to be applied (both with their rendered manifests).
type MigrationInput struct {
	Name, Namespace string
	From, To        *release.Revision
}

// upgradeMigrations are run before every upgrade and rollback applies a revision.
var upgradeMigrations []Migration

// Upgrade moves a store to the chart embedded in this storectl, with the settings it was
// made with, the user values it keeps (none with ResetValues) and opts.Values over them.
// It refuses, before any change and wrapping ErrRefused, to downgrade a component below what
// the store's data has seen, to change a store that is not Ready, and to change a store
// another live process is changing; Force overrides the first two. A revision left pending
// by a dead process is recovered. It watches the new revision to Ready as Create does.
func (e *Engine) Upgrade(ctx context.Context, o UpgradeOptions) (*ChangeResult, error) {
	if err := ValidateName(o.Name); err != nil {
		return nil, err
	}
	if err := CheckValues(o.Name, o.Values, e.settings); err != nil {
		return nil, err
	}
	c := change{name: o.Name, operation: OperationUpgrade, timeout: o.Timeout, on: o.OnProgress, dryRun: o.DryRun, force: o.Force,
		plan: func(ctx context.Context, p *changePlan) error { return e.planUpgrade(ctx, o, p) }}
	return e.change(ctx, c)
}

// Rollback returns a store to the values of an earlier revision by upgrading to them with
// the chart embedded in this storectl, so that the setup Job runs, an interruption is safe
// and a pending revision is recovered as for Upgrade; the same refusals apply.
func (e *Engine) Rollback(ctx context.Context, o RollbackOptions) (*ChangeResult, error) {
	if err := ValidateName(o.Name); err != nil {
		return nil, err
	}
	c := change{name: o.Name, operation: OperationRollback, timeout: o.Timeout, on: o.OnProgress, dryRun: o.DryRun, force: o.Force,
		plan: func(_ context.Context, p *changePlan) error { return planRollback(o.Revision, p) }}
	return e.change(ctx, c)
}

// change is an upgrade or a rollback as it passes through the phases.
type change struct {
	name, operation string
	timeout         time.Duration
	on              func(Progress)
	dryRun, force   bool
	// plan fills the values to apply from what was inspected.
	plan func(ctx context.Context, p *changePlan) error
}

// changePlan is what a change decides from, and what it decides.
type changePlan struct {
	snap    Snapshot
	revs    []release.Revision
	current *release.Revision // the deployed revision, else the latest
	latest  *release.Revision
	values  map[string]any // complete values to apply
	source  *release.Revision
	target  *release.Revision
}

func (e *Engine) change(ctx context.Context, c change) (*ChangeResult, error) {
	op := e.begin(c.operation, c.name, c.timeout, c.on)
	ctx, cancelDeadline := context.WithDeadline(ctx, op.deadline)
	defer cancelDeadline()
	if _, err := e.storeNamespace(ctx, op.name); err != nil {
		return nil, err
	}
	if !c.dryRun {
		lk, err := e.lock(ctx, op.name, op.ns, StoreLockName, e.lockLease, e.lockLease+3*time.Second)
		if err != nil {
			return nil, refusedIfBusy(err)
		}
		defer lk.release()
	}
	w := e.newWatcher(op.name, watchOptions{workloads: true})
	defer w.close()
	p, res, err := e.planChange(ctx, w, c)
	if err != nil || c.dryRun {
		return res, err
	}
	if res.Unchanged {
		return res, e.finishUnchanged(ctx, w, op, p, res)
	}
	// Objects whose immutable fields the new revision changes are re-created first (the
	// database StatefulSet of a store made with an older chart), keeping pods and claims.
	migrated, err := e.migrateImmutable(ctx, op.name, p.target.Manifest)
	if err != nil {
		return res, err
	}
	for _, m := range migrated {
		op.pt.report(ComponentDatabase, ProgressRunning, "re-creating "+m+", keeping its pod and volume claim")
	}
	for _, m := range upgradeMigrations {
		if err := m(ctx, e.kube, MigrationInput{Name: op.name, Namespace: op.ns, From: p.current, To: p.target}); err != nil {
			return res, clusterErr(ctx, op.name, "prepare the store's objects for the new revision", err)
		}
	}
	op.pt.report(ComponentNamespace, ProgressDone, fmt.Sprintf("%s: revision %d, chart %s → %s", c.operation,
		res.RevisionBefore, res.ChartBefore, res.ChartAfter))
	applyCtx, cancelApply := context.WithCancel(ctx)
	defer cancelApply()
	done := e.applyAsync(applyCtx, w, release.ApplyOptions{Name: op.name, Namespace: op.ns, Values: p.values,
		Timeout: op.timeout, RecoverPending: true})
	err = e.watchChange(ctx, w, op, res, watchRun{installDone: done, unstick: true})
	if err != nil {
		cancelApply()
	}
	return res, err
}

// watchChange follows a changed store to Ready into res, recording a failure; run adds to
// the operation's own deadline, timeout and progress.
func (e *Engine) watchChange(ctx context.Context, w *watcher, op *op, res *ChangeResult, run watchRun) error {
	run.deadline, run.timeout, run.since, run.pt, run.holdsLock = op.deadline, op.timeout, op.start, op.pt, true
	st, err := e.watchReady(ctx, w, op.name, run)
	res.Store = st
	if st != nil {
		res.RevisionAfter = st.Revision
	}
	if err != nil {
		e.recordFailure(op.name, st, err)
	}
	return err
}

// refusedIfBusy turns "another live process holds the store" into a refusal.
func refusedIfBusy(err error) error {
	var se *Error
	if errors.As(err, &se) && errors.Is(se.Err, ErrBusy) {
		return &Error{Err: ErrRefused, Store: se.Store, Reason: se.Reason, Message: se.Message, Cause: ErrBusy}
	}
	return err
}

// planChange inspects the store once, reads its history, lets the operation choose the
// values, renders them with this storectl's chart and judges the change by the safety rules.
func (e *Engine) planChange(ctx context.Context, w *watcher, c change) (*changePlan, *ChangeResult, error) {
	snap, err := e.inspect(ctx, w)
	if err != nil {
		return nil, nil, err
	}
	if snap.Release == nil {
		return nil, nil, &Error{Err: ErrRefused, Store: c.name, Reason: ReasonNotReady, Message: "the store has no release revision yet"}
	}
	cr, err := e.changeReleases(c.name)
	if err != nil {
		return nil, nil, err
	}
	revs, err := cr.Revisions(ctx, Namespace(c.name), c.name)
	if err != nil {
		return nil, nil, clusterErr(ctx, c.name, "read the release history", err)
	}
	p := &changePlan{snap: snap, revs: revs, latest: &revs[len(revs)-1], current: deployedRevision(revs)}
	if err := c.plan(ctx, p); err != nil {
		return p, nil, err
	}
	source := 0
	if p.source != nil {
		source = p.source.Revision
	}
	if p.values, err = stampOperation(p.values, c.operation, source); err != nil {
		return p, nil, err
	}
	if p.target, err = cr.Plan(ctx, release.ApplyOptions{Name: c.name, Namespace: Namespace(c.name), Values: p.values}); err != nil {
		return p, nil, applyErr(ctx, c.name, err)
	}
	res := newChangeResult(c, p)
	res.Changes = diffManifests(p.current.Manifest, p.target.Manifest)
	res.Unchanged = !c.force && p.latest.Status == release.StatusDeployed && len(res.Changes) == 0 &&
		p.latest.ChartVersion == p.target.ChartVersion && sameValues(p.latest.Values, p.values)
	if err := e.checkChange(c, p, res.Unchanged); err != nil {
		return p, res, err
	}
	return p, res, nil
}

func newChangeResult(c change, p *changePlan) *ChangeResult {
	res := &ChangeResult{Name: c.name, Operation: c.operation, DryRun: c.dryRun, RevisionBefore: p.latest.Revision,
		ChartBefore: p.current.ChartVersion, ChartAfter: p.target.ChartVersion,
		VersionsBefore: versionsOf(p.current), VersionsAfter: versionsOf(p.target)}
	if p.source != nil {
		res.Source, res.SourceChart = p.source.Revision, p.source.ChartVersion
	}
	return res
}

// checkChange applies the safety rules to a planned change. An unchanged one asks for the
// latest revision again, which is not a change to refuse but one to see through.
func (e *Engine) checkChange(c change, p *changePlan, unchanged bool) error {
	st := Compute(p.snap, e.ff)
	if st.Phase == PhaseDeleting {
		return terminatingErr(c.name)
	}
	if c.force {
		return nil
	}
	seen := seenVersions(p.revs)
	if comp, from, to, found := downgrade(seen, versionsOf(p.target)); found {
		return &Error{Err: ErrRefused, Store: c.name, Component: comp, Reason: ReasonDowngrade,
			Message: fmt.Sprintf("%s %s is older than %s, which the store's data has run; its database schema only moves forward", comp, to, from)}
	}
	// A revision left pending or failed is an earlier change to finish; a settled revision
	// that does not work would hide whether this change works.
	if p.latest.Status == release.StatusDeployed && st.Phase != PhaseReady && !unchanged {
		return &Error{Err: ErrRefused, Store: c.name, Reason: ReasonNotReady,
			Message: fmt.Sprintf("the store is %s (%s)", st.Phase, orDefault(st.Message, st.Reason)), Components: st.Components}
	}
	return nil
}

// deployedRevision returns the revision deployed now, else the latest.
func deployedRevision(revs []release.Revision) *release.Revision {
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].Status == release.StatusDeployed {
			return &revs[i]
		}
	}
	return &revs[len(revs)-1]
}

// planUpgrade chooses an upgrade's values: the settings the latest revision recorded, its
// user values unless ResetValues, then the requested versions, then the new values.
func (e *Engine) planUpgrade(_ context.Context, o UpgradeOptions, p *changePlan) error {
	over, err := versionValues(o.Versions, p.current)
	if err != nil {
		return err
	}
	merge(over, o.Values)
	in, ok, err := inputsOf(p.latest.Values)
	if err != nil {
		return err
	}
	if !ok {
		// Made before revisions recorded their Inputs: keep its values, today's settings over them.
		vals, err := jsonCopy(p.latest.Values)
		if err != nil {
			return err
		}
		if o.ResetValues {
			vals = map[string]any{}
		}
		merge(vals, settingsValues(o.Name, e.settings))
		merge(vals, over)
		p.values = vals
		return nil
	}
	if o.ResetValues {
		in.Values = nil
	}
	user, err := jsonCopy(in.Values)
	if err != nil {
		return err
	}
	merge(user, over)
	in.Values = user
	p.values, err = e.render(o.Name, in)
	return err
}

// stampOperation records in the values which operation made the revision, and for a
// rollback which revision it returned to.
func stampOperation(values map[string]any, operation string, source int) (map[string]any, error) {
	out, err := jsonCopy(values)
	if err != nil {
		return nil, err
	}
	rec, _ := out[InputsKey].(map[string]any)
	if rec == nil {
		rec = map[string]any{}
	}
	rec["operation"] = operation
	delete(rec, "source")
	if source > 0 {
		rec["source"] = source
	}
	out[InputsKey] = rec
	return out, nil
}

// sameValues compares two revisions' values but for the operation that made them.
func sameValues(a, b map[string]any) bool {
	x, errA := stampOperation(a, "", 0)
	y, errB := stampOperation(b, "", 0)
	return errA == nil && errB == nil && reflect.DeepEqual(x, y)
}

// jsonCopy deep-copies JSON-shaped values, numbers as float64 the way stored values read.
func jsonCopy(v map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if v == nil {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return out, json.Unmarshal(b, &out)
}

// finishUnchanged sees through a change whose revision is already the latest: nothing when
// its store is Ready; else (the process that made the revision ended before the store was
// Ready, now that Helm records a revision deployed once it is applied) it watches the store
// to Ready, as the change would have.
func (e *Engine) finishUnchanged(ctx context.Context, w *watcher, op *op, p *changePlan, res *ChangeResult) error {
	if Compute(p.snap, e.ff).Phase == PhaseReady {
		return nil
	}
	return e.watchChange(ctx, w, op, res, watchRun{})
}
