package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storectl/storectl/pkg/release"
)

// watchRun parameterises watchReady.
type watchRun struct {
	deadline time.Time
	timeout  time.Duration
	since    time.Time
	pt       *progressTracker
	// installDone delivers the release manager's result when this process
	// is applying the chart; nil when it only watches.
	installDone chan error
	// holdsLock says this process holds the store lock, so it may finalize
	// a release whose applier died.
	holdsLock bool
	// unstick replaces database pods stuck at an earlier revision (see
	// unstickStatefulSet); set when this process applies a new revision.
	unstick bool
}

// tick re-judges time-based thresholds (image pull backoff, ...) between
// events. It reads only the informer caches, never the API server.
const tick = time.Second

// watchReady follows a store until it is Ready, certainly failed, the
// deadline passes or ctx ends.
func (e *Engine) watchReady(ctx context.Context, w *watcher, name string, r watchRun) (*Store, error) {
	if !w.synced(ctx) {
		return nil, interrupted(name, "waiting for the store", "")
	}
	timer := time.NewTimer(time.Until(r.deadline))
	defer timer.Stop()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()

	installDone := r.installDone
	installing := installDone != nil
	var last Status
	var lastSnap Snapshot
	var nextFinalize time.Time
	deleted := map[types.UID]bool{}
	for {
		snap := w.snapshot(r.since)
		st := Compute(snap, e.ff)
		last, lastSnap = st, snap
		r.pt.components(st.Components)
		if r.unstick {
			e.unstickStatefulSet(ctx, snap, deleted, r.pt)
		}
		switch {
		case snap.Namespace == nil:
			return nil, notFound(name)
		case st.Phase == PhaseDeleting:
			return e.storeFrom(snap, st), terminatingErr(name)
		case st.Failure != nil && st.Failure.Component != "release":
			f := st.Failure
			return e.storeFrom(snap, st), &Error{Err: ErrFailed, Store: name, Component: f.Component, Reason: f.Reason,
				Message: f.Message, Next: f.Next, Components: st.Components}
		case !installing && st.Phase == PhaseFailed:
			return e.storeFrom(snap, st), &Error{Err: ErrFailed, Store: name, Component: "release", Reason: st.Reason,
				Message: st.Message, Next: fmt.Sprintf(retryNext, name, name), Components: st.Components}
		case !installing && st.Phase == PhaseReady:
			return e.storeFrom(snap, st), nil
		case !installing && time.Now().After(nextFinalize) && snap.Release != nil && snap.Release.Pending() && allReady(st.Components):
			// Every resource and the hook are complete but the process that
			// applied the revision died before recording it: record it now,
			// if no live process holds the store (else retry later).
			nextFinalize = time.Now().Add(e.lockLease / 2)
			if rel := e.finalize(ctx, name, r.holdsLock); rel != nil {
				w.setRelease(rel)
			}
		}
		select {
		case <-ctx.Done():
			return e.storeFrom(lastSnap, last), interrupted(name, "waiting for the store", "")
		case <-timer.C:
			return e.storeFrom(lastSnap, last), &Error{Err: ErrTimeout, Store: name, Reason: "Timeout",
				Message:    fmt.Sprintf("not Ready after %s; last state: %s", r.timeout, describe(last)),
				Next:       fmt.Sprintf("keep waiting with 'storectl wait %s --for ready', inspect with 'storectl get %s', or retry with a longer --timeout", name, name),
				Components: last.Components}
		case err := <-installDone:
			installing, installDone = false, nil
			if err != nil {
				return e.storeFrom(lastSnap, last), installErr(ctx, name, err)
			}
			w.refreshRelease(ctx)
		case <-w.changed:
		case <-ticker.C:
		}
	}
}

func describe(st Status) string {
	var parts []string
	for _, c := range st.Components {
		p := c.Name + " " + c.State
		if c.Reason != "" {
			p += " " + c.Reason
		}
		if c.Message != "" {
			p += " (" + c.Message + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// finalize records a dead process's pending revision as deployed.
func (e *Engine) finalize(ctx context.Context, name string, holdsLock bool) *release.Release {
	ns := Namespace(name)
	if !holdsLock {
		lk, err := e.lock(ctx, name, ns, StoreLockName, e.lockLease, 0)
		if err != nil {
			return nil
		}
		defer lk.release()
	}
	r, err := e.rel.Finalize(ctx, ns, name, "Install complete (recorded by storectl after its applier stopped)")
	if err != nil {
		return nil
	}
	return r
}

// Wait waits until the store is Ready (For "ready", the default) or gone
// (For "deleted").
func (e *Engine) Wait(ctx context.Context, name string, o WaitOptions) (*Store, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.Now().Add(timeout)
	pt := newProgressTracker(o.OnProgress, e.now)
	switch o.For {
	case "", "ready":
		if _, err := e.storeNamespace(ctx, name); err != nil {
			return nil, err
		}
		w := e.newWatcher(name, watchOptions{workloads: true})
		defer w.close()
		w.refreshRelease(ctx)
		since := time.Time{}
		if r := w.snapshot(time.Time{}).Release; r != nil {
			since = r.LastDeployed
		}
		return e.watchReady(ctx, w, name, watchRun{deadline: deadline, timeout: timeout, since: since, pt: pt})
	case "deleted", "delete":
		return nil, e.waitDeleted(ctx, name, deadline, timeout, pt)
	}
	return nil, fmt.Errorf("%w: --for must be ready or deleted, not %q", ErrInvalidValues, o.For)
}

// Delete uninstalls the store's release and deletes its namespace; with
// Wait it returns when the namespace and its volumes are gone. A delete
// that was interrupted is finished by the next call.
func (e *Engine) Delete(ctx context.Context, name string, o DeleteOptions) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.Now().Add(timeout)
	pt := newProgressTracker(o.OnProgress, e.now)
	ns := Namespace(name)
	n, err := e.storeNamespace(ctx, name)
	if errors.Is(err, ErrNotFound) {
		if o.IgnoreNotFound {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	resume := "run 'storectl delete " + name + " --yes' again to finish"
	if n.DeletionTimestamp == nil {
		if err := e.ensureAccess(ctx, name); err != nil {
			return err
		}
		pt.report(StepUninstall, ProgressRunning, "uninstalling release "+name)
		uctx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		err := e.rel.Uninstall(uctx, ns, name, timeout)
		cancel()
		switch {
		case ctx.Err() != nil:
			return interrupted(name, "uninstall", resume)
		case err == nil || errors.Is(err, release.ErrNotFound):
			pt.report(StepUninstall, ProgressDone, "")
		default:
			// Deleting the namespace removes whatever the uninstall left.
			pt.report(StepUninstall, ProgressDone, "uninstall incomplete ("+err.Error()+"); the namespace deletion removes the rest")
		}
		pt.report(StepNamespaceDeletion, ProgressRunning, "deleting namespace "+ns)
		policy := metav1.DeletePropagationBackground
		err = e.kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			if ctx.Err() != nil {
				return interrupted(name, "namespace deletion", resume)
			}
			return clusterErr(ctx, name, "delete namespace "+ns, err)
		}
	}
	if !o.Wait {
		return nil
	}
	return e.waitDeleted(ctx, name, deadline, timeout, pt)
}

// waitDeleted follows the namespace and the store's PersistentVolumes until
// all are gone, reporting what is still terminating.
func (e *Engine) waitDeleted(ctx context.Context, name string, deadline time.Time, timeout time.Duration, pt *progressTracker) error {
	w := e.newWatcher(name, watchOptions{volumes: true})
	defer w.close()
	resume := fmt.Sprintf("run 'storectl wait %s --for deleted' to keep waiting", name)
	if !w.synced(ctx) {
		return interrupted(name, "namespace deletion", resume)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		remaining := w.remaining()
		if len(remaining) == 0 {
			pt.report(StepNamespaceDeletion, ProgressDone, Namespace(name)+" and its volumes are gone")
			return nil
		}
		msg := "still terminating: " + strings.Join(remaining, ", ")
		pt.report(StepNamespaceDeletion, ProgressRunning, msg)
		select {
		case <-ctx.Done():
			return interrupted(name, "namespace deletion", resume)
		case <-timer.C:
			return &Error{Err: ErrTimeout, Store: name, Reason: "Timeout",
				Message: fmt.Sprintf("not deleted after %s; %s", timeout, msg), Next: resume}
		case <-w.changed:
		}
	}
}

// remaining lists what of a deleted store still exists.
func (w *watcher) remaining() []string {
	var out []string
	if n := w.namespace(); n != nil {
		out = append(out, "namespace "+n.Name)
		// What the namespace still holds, while it exists.
		if p := len(w.pods.GetStore().List()); p > 0 {
			out = append(out, fmt.Sprintf("%d pod(s)", p))
		}
		if c := len(w.pvcs.GetStore().List()); c > 0 {
			out = append(out, fmt.Sprintf("%d volume claim(s)", c))
		}
	}
	var pvs []string
	for _, pv := range w.volumes() {
		pvs = append(pvs, pv.Name)
	}
	sort.Strings(pvs)
	if len(pvs) > 0 {
		out = append(out, "volume(s) "+strings.Join(pvs, ", "))
	}
	return out
}

// unstickStatefulSet deletes database pods that belong to an earlier
// StatefulSet revision and are not Ready. A StatefulSet rolling update waits
// for each pod to be Running and Ready before replacing it, so a pod broken by
// the previous values (crash-looping, image not pullable) would block the
// fixed revision forever; deleting it lets the controller recreate it at the
// new revision. Only pods that existed before this apply are touched, once.
func (e *Engine) unstickStatefulSet(ctx context.Context, s Snapshot, deleted map[types.UID]bool, pt *progressTracker) {
	var upd string
	for _, st := range s.StatefulSets {
		if componentOf(st.Labels) == ComponentDatabase || st.Name == s.Name+"-mariadb" {
			upd = st.Status.UpdateRevision
		}
	}
	if upd == "" {
		return
	}
	for _, p := range s.Pods {
		rev := p.Labels["controller-revision-hash"]
		if componentOf(p.Labels) != ComponentDatabase || !s.StalePods[p.UID] || deleted[p.UID] ||
			p.DeletionTimestamp != nil || rev == "" || rev == upd || podReady(&p) {
			continue
		}
		deleted[p.UID] = true
		uid := p.UID
		err := e.kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err == nil || apierrors.IsNotFound(err) {
			pt.report(ComponentDatabase, ProgressRunning, "replacing pod "+p.Name+", stuck at the previous revision")
		}
	}
}
