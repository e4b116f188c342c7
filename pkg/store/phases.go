package store

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/release"
)

// An operation on a store passes through the same phases, each a function here or next to
// the operation that needs it:
//
//	validate  no API call: name, type, values, the chart's schema (validateCreate)
//	claim     the store's Lease, and the create Lease where the store count matters
//	inspect   one snapshot of namespace, release, workloads, pods, claims, events,
//	          ingresses, credentials and drift (inspect, read); status, the decision what
//	          to apply and the watch all start from it
//	apply     a Helm install, upgrade or rollback, in the background (applyAsync)
//	watch     to a target: Ready at this revision (watchReady) or gone (waitDeleted)
//	record    the outcome on the release (recordFailure) and in the audit log (Recorder)

// op is one operation on one store as it passes through the phases.
type op struct {
	name, ns string
	action   string
	timeout  time.Duration
	// deadline is on the wall clock: it bounds contexts. start is on the engine's clock:
	// it dates what the operation judges (events since it began).
	deadline time.Time
	start    time.Time
	pt       *progressTracker
}

// begin starts an operation: its timeout (DefaultTimeout when zero), deadline and progress.
func (e *Engine) begin(action, name string, timeout time.Duration, on func(Progress)) *op {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &op{name: name, ns: Namespace(name), action: action, timeout: timeout,
		deadline: time.Now().Add(timeout), start: e.now(), pt: newProgressTracker(on, e.now)}
}

// inspect reads the store once through the watcher that will follow it: the informers list
// each kind once and the snapshot is taken from their caches, then the latest release
// revision, whether the credentials Secret exists and, for a deployed revision, the drift of
// its objects are read. The watcher goes on from the same caches and the same release.
func (e *Engine) inspect(ctx context.Context, w *watcher) (Snapshot, error) {
	var (
		rel     *release.Release
		missing bool
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.sync(gctx, "reading the store") })
	g.Go(func() (err error) { rel, err = e.latest(gctx, w.name); return err })
	g.Go(func() (err error) { missing, err = e.credentialsMissing(gctx, w.name); return err })
	if err := g.Wait(); err != nil {
		return Snapshot{}, err
	}
	w.setRelease(rel)
	snap := w.snapshot(time.Time{})
	if rel != nil {
		snap.Since = rel.LastDeployed
	}
	snap.CredentialsMissing = missing
	if err := e.readDrift(ctx, &snap, w.sts != nil); err != nil {
		return Snapshot{}, err
	}
	snap.ReadOnly = true
	return snap, nil
}

// latest returns the store's latest release revision, nil when it has none.
func (e *Engine) latest(ctx context.Context, name string) (*release.Release, error) {
	rel, err := e.rel.Get(ctx, Namespace(name), name)
	if errors.Is(err, release.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, clusterErr(ctx, name, "read release", err)
	}
	return rel, nil
}

// credentialsMissing reports whether the store's credentials Secret does not exist.
func (e *Engine) credentialsMissing(ctx context.Context, name string) (bool, error) {
	_, err := e.kube.CoreV1().Secrets(Namespace(name)).Get(ctx, credentialsSecret(name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, clusterErr(ctx, name, "read credentials secret", err)
	}
	return false, nil
}

// readDrift fills s.Drift for a deployed revision of a store that is not being deleted.
// It is best effort: a store whose drift cannot be read is judged by the rest. listed says
// that s holds complete lists of the namespace's workloads, claims and ingresses, which the
// drift check then reuses instead of reading those objects again.
func (e *Engine) readDrift(ctx context.Context, s *Snapshot, listed bool) error {
	if s.Release == nil || s.Release.Status != release.StatusDeployed || s.Namespace == nil || s.Namespace.DeletionTimestamp != nil {
		return nil
	}
	var live release.Live
	if listed {
		live = s.live
	}
	d, err := e.rel.DriftOf(ctx, s.Release, live)
	switch {
	case err == nil:
		s.Drift = d
	case cancelled(ctx):
		return interrupted(s.Name, "reading the store")
	}
	return nil
}

// applyAsync applies a revision in the background; its result arrives on the channel.
// The watcher must be synced: what exists now belongs to the earlier revision.
func (e *Engine) applyAsync(ctx context.Context, w *watcher, ao release.ApplyOptions) <-chan error {
	w.markJobsStale()
	done := make(chan error, 1)
	go func() {
		r, err := e.rel.Apply(ctx, ao)
		if err == nil && r != nil {
			w.setRelease(r)
		}
		done <- err
	}()
	return done
}
