package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storectl/storectl/pkg/kube"
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
	installDone <-chan error
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
//
//nolint:funlen // one loop over the watch, its deadline and the apply; to be split with the upgrade watch
func (e *Engine) watchReady(ctx context.Context, w *watcher, name string, r watchRun) (*Store, error) {
	if err := w.sync(ctx, "waiting for the store"); err != nil {
		return nil, err
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
	nodes := nodeReader{e: e}
	// timedOut reports the deadline, unless the API server cannot be reached
	// any more: then the last state seen is stale, and that is the news.
	timedOut := func() (*Store, error) {
		st := e.storeFrom(lastSnap, last)
		if _, err := w.probe(ctx); err != nil && !cancelled(ctx) && kube.Classify(err) != kube.KindOther {
			ue := unreachableErr(name, "waiting for the store", err)
			ue.Components = last.Components
			return st, ue
		}
		return st, &Error{Err: ErrTimeout, Store: name, Reason: ReasonTimeout,
			Message:    fmt.Sprintf("not Ready after %s; last state: %s", r.timeout, describe(last)),
			Components: last.Components}
	}
	for {
		w.refreshIfChanged(ctx)
		snap := w.snapshot(r.since)
		snap.Nodes = nodes.read(ctx, snap)
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
			return e.storeFrom(snap, st), failureErr(name, st)
		case !installing && st.Phase == PhaseFailed:
			return e.storeFrom(snap, st), &Error{Err: ErrFailed, Store: name, Component: "release", Reason: st.Reason,
				Message: st.Message, Components: st.Components}
		case !installing && st.Phase == PhaseReady:
			if r.holdsLock {
				e.removeStaleSetupJobs(ctx, snap)
			}
			return e.storeFrom(snap, st), nil
		case !installing && time.Now().After(nextFinalize) && snap.Release != nil && snap.Release.Pending() && allReady(st.Components):
			// Every resource and the setup are complete but the process that
			// applied the revision died before recording it: record it now,
			// if no live process holds the store (else retry later).
			nextFinalize = time.Now().Add(e.lockLease / 2)
			if rel := e.finalize(ctx, name, r.holdsLock); rel != nil {
				w.setRelease(rel)
			}
		}
		select {
		case <-ctx.Done():
			if cancelled(ctx) {
				return e.storeFrom(lastSnap, last), interrupted(name, "waiting for the store")
			}
			return timedOut()
		case <-timer.C:
			return timedOut()
		case err := <-installDone:
			installing, installDone = false, nil
			if err != nil {
				if ctx.Err() != nil && !cancelled(ctx) {
					return timedOut() // the install was cut off by the deadline
				}
				// Helm reports a failed apply (or, for a chart 0.1.0 store, a failed setup
				// hook) as soon as it sees it; the watcher may see the failed pod or Job a
				// moment later. Its diagnosis names the component and the cause, so it is
				// given that moment before Helm's error is used.
				if snap, st, ok := e.settleFailure(ctx, w, r.since); ok {
					return e.storeFrom(snap, st), failureErr(name, st)
				}
				return e.storeFrom(lastSnap, last), applyErr(ctx, name, err)
			}
			// The apply has set the revision it recorded on the watcher: nothing to re-read.
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

// recordWaitFailure records the revision a wait saw certainly fail as failed, as the
// process that applied it would have had it watched, unless a live process holds the store.
func (e *Engine) recordWaitFailure(name string, st *Store, err error) {
	var se *Error
	if !errors.As(err, &se) || !errors.Is(se.Err, ErrFailed) || se.Component == "" || se.Component == "release" || st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lk, lerr := e.lock(ctx, name, Namespace(name), StoreLockName, e.lockLease, 0)
	if lerr != nil {
		return
	}
	defer lk.release()
	e.recordFailure(name, st, err)
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
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	pt := newProgressTracker(o.OnProgress, e.now)
	switch o.For {
	case "", "ready":
		// One full read first: a deployed release whose objects are gone or
		// changed never becomes Ready by waiting.
		st, err := e.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		if st.Reason == ReasonDrift || st.Reason == ReasonCredentialsMissing {
			comp := "release"
			if st.Reason == ReasonCredentialsMissing {
				comp = ComponentCredentials
			}
			return st, &Error{Err: ErrFailed, Store: name, Component: comp, Reason: st.Reason, Message: st.Message, Components: st.Components}
		}
		w := e.newWatcher(name, watchOptions{workloads: true})
		defer w.close()
		w.refreshRelease(ctx)
		since := time.Time{}
		if r := w.snapshot(time.Time{}).Release; r != nil {
			since = r.LastDeployed
		}
		st, err = e.watchReady(ctx, w, name, watchRun{deadline: deadline, timeout: timeout, since: since, pt: pt})
		e.recordWaitFailure(name, st, err)
		return st, err
	case "deleted", "delete":
		return nil, e.waitDeleted(ctx, name, deleteWait{timeout: timeout, pt: pt, onRetained: o.OnRetained})
	}
	return nil, fmt.Errorf("%w: a wait is for ready or deleted, not %q", ErrInvalidValues, o.For)
}

// Delete uninstalls the store's release and deletes its namespace; with
// Wait it returns when the namespace and its volumes are gone, except
// volumes whose reclaim policy is Retain: those stay by design, are reported
// through DeleteOptions.OnRetained and do not hold the delete up. A delete
// that was interrupted is finished by the next call. A namespace that fails
// IsStore is never touched (ErrNotFound).
func (e *Engine) Delete(ctx context.Context, name string, o DeleteOptions) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pt := newProgressTracker(o.OnProgress, e.now)
	ns := Namespace(name)
	n, err := e.storeNamespace(ctx, name)
	if errors.Is(err, ErrNotFound) {
		var se *Error
		if o.IgnoreNotFound && (!errors.As(err, &se) || se.Reason != "NotAStore") {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	claims := e.storeClaims(ctx, ns)
	if n.DeletionTimestamp == nil {
		if err := e.ensureAccess(ctx, name); err != nil {
			return err
		}
		pt.report(StepUninstall, ProgressRunning, "uninstalling release "+name)
		err := e.rel.Uninstall(ctx, ns, name, timeout)
		switch {
		case ctx.Err() != nil:
			return stopped(ctx, name, "uninstalling the release")
		case err == nil || errors.Is(err, release.ErrNotFound):
			pt.report(StepUninstall, ProgressDone, "")
		default:
			// Deleting the namespace removes whatever the uninstall left.
			pt.report(StepUninstall, ProgressDone, "uninstall incomplete ("+err.Error()+"); the namespace deletion removes the rest")
		}
		pt.report(StepNamespaceDeletion, ProgressRunning, "deleting namespace "+ns)
		policy := metav1.DeletePropagationBackground
		// The precondition makes sure the namespace deleted is the one
		// judged a store above, not one recreated in between.
		uid := n.UID
		err = e.kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &policy,
			Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			if ctx.Err() != nil {
				return stopped(ctx, name, "deleting namespace "+ns)
			}
			return clusterErr(ctx, name, "delete namespace "+ns, err)
		}
	}
	if !o.Wait {
		return nil
	}
	if o.OnWaiting != nil {
		o.OnWaiting()
	}
	return e.waitDeleted(ctx, name, deleteWait{timeout: timeout, pt: pt, claims: claims, created: n.CreationTimestamp.Time, onRetained: o.OnRetained})
}

// storeClaims returns the UIDs of the volume claims in ns, so that volumes of an earlier
// store of the same name are not taken for this one's; none when they cannot be read.
func (e *Engine) storeClaims(ctx context.Context, ns string) map[types.UID]bool {
	claims := map[types.UID]bool{}
	if pvcs, err := e.kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, c := range pvcs.Items {
			claims[c.UID] = true
		}
	}
	return claims
}

// deleteWait parameterises waitDeleted.
type deleteWait struct {
	timeout time.Duration
	pt      *progressTracker
	// claims and created identify the store's own volumes, when known: bound
	// to one of its claims, or created after its namespace.
	claims     map[types.UID]bool
	created    time.Time
	onRetained func([]RetainedVolume)
}

// waitDeleted follows the namespace and the store's PersistentVolumes until
// all are gone, reporting what is still terminating. Volumes whose reclaim
// policy is Retain are reported, never waited for. ctx carries the deadline;
// before reporting a timeout the caches are checked against the cluster.
//
//nolint:funlen // one loop over the deletion watch and its deadline
func (e *Engine) waitDeleted(ctx context.Context, name string, d deleteWait) error {
	w := e.newWatcher(name, watchOptions{volumes: true})
	defer w.close()
	if d.claims == nil {
		d.claims = map[types.UID]bool{}
	}
	if err := w.sync(ctx, "waiting for the namespace deletion"); err != nil {
		return err
	}
	done := func(retained []RetainedVolume) error {
		msg := Namespace(name) + " and its volumes are gone"
		if len(retained) > 0 {
			msg = fmt.Sprintf("%s is gone; %d volume(s) retained by their reclaim policy", Namespace(name), len(retained))
			if d.onRetained != nil {
				d.onRetained(retained)
			}
		}
		d.pt.report(StepNamespaceDeletion, ProgressDone, msg)
		return nil
	}
	for _, n := range listOf[corev1.Namespace](w.nsInf) {
		if n.Name == w.ns && !IsStore(&n, name) {
			// Not a store: there is none of that name to wait for, and
			// neither the namespace nor its volumes are storectl's.
			return done(nil)
		}
	}
	for {
		n := w.namespace()
		if n != nil {
			if d.created.IsZero() {
				d.created = n.CreationTimestamp.Time
			}
			for _, c := range listOf[corev1.PersistentVolumeClaim](w.pvcs) {
				d.claims[c.UID] = true
			}
		}
		waiting, retained := storeVolumes(listOf[corev1.PersistentVolume](w.pvs), Namespace(name), d.claims, d.created)
		remaining := w.remaining(n, waiting)
		if len(remaining) == 0 {
			return done(retained)
		}
		msg := "still terminating: " + strings.Join(remaining, ", ")
		d.pt.report(StepNamespaceDeletion, ProgressRunning, msg)
		select {
		case <-ctx.Done():
			if cancelled(ctx) {
				return interrupted(name, "namespace deletion")
			}
			// The caches go stale without a word when the connection drops:
			// read the cluster itself before deciding.
			n, pvs, err := e.reread(ctx, w)
			if err != nil {
				if kube.Classify(err) == kube.KindOther {
					return clusterErr(ctx, name, "read the namespace deletion", err)
				}
				return unreachableErr(name, "waiting for the namespace deletion (last seen: "+msg+")", err)
			}
			waiting, retained := storeVolumes(pvs, Namespace(name), d.claims, d.created)
			remaining := w.remaining(n, waiting)
			if len(remaining) == 0 {
				return done(retained)
			}
			return &Error{Err: ErrTimeout, Store: name, Reason: ReasonTimeout,
				Message: fmt.Sprintf("not deleted after %s; still terminating: %s", d.timeout, strings.Join(remaining, ", "))}
		case <-w.changed:
		}
	}
}

// reread reads the namespace and the PersistentVolumes straight from the
// API server, within probeGrace.
func (e *Engine) reread(ctx context.Context, w *watcher) (*corev1.Namespace, []corev1.PersistentVolume, error) {
	n, err := w.probe(ctx)
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := probeContext(ctx)
	defer cancel()
	pvs, err := e.kube.CoreV1().PersistentVolumes().List(pctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	return n, pvs.Items, nil
}

// storeVolumes sorts the PersistentVolumes of a deleted store namespace ns
// into those still to be waited for and those retained by their reclaim
// policy. A volume is the store's when it was bound to one of its claims, or
// was created after its namespace; with neither known, a volume still bound
// to a claim in ns counts only when it is being reclaimed (policy Delete),
// since a retained one may be an earlier store's.
func storeVolumes(pvs []corev1.PersistentVolume, ns string, claims map[types.UID]bool, created time.Time) (waiting []string, retained []RetainedVolume) {
	for _, pv := range pvs {
		ref := pv.Spec.ClaimRef
		if ref == nil || ref.Namespace != ns {
			continue
		}
		retain := pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain
		known := len(claims) > 0 || !created.IsZero()
		ours := claims[ref.UID] || (!created.IsZero() && !pv.CreationTimestamp.Time.Before(created.Truncate(time.Second)))
		switch {
		case ours && retain:
			retained = append(retained, RetainedVolume{Name: pv.Name, Claim: ref.Name, StorageClass: pv.Spec.StorageClassName, Phase: string(pv.Status.Phase)})
		case ours, !known && !retain:
			waiting = append(waiting, pv.Name)
		}
	}
	sort.Strings(waiting)
	sort.Slice(retained, func(i, j int) bool { return retained[i].Name < retained[j].Name })
	return waiting, retained
}

// remaining lists what of a deleted store still exists: its namespace n (nil
// when gone), what the namespace still holds, and the volumes waited for.
func (w *watcher) remaining(n *corev1.Namespace, volumes []string) []string {
	var out []string
	if n != nil {
		out = append(out, "namespace "+n.Name)
		if p := len(w.pods.GetStore().List()); p > 0 {
			out = append(out, fmt.Sprintf("%d pod(s)", p))
		}
		if c := len(w.pvcs.GetStore().List()); c > 0 {
			out = append(out, fmt.Sprintf("%d volume claim(s)", c))
		}
	}
	if len(volumes) > 0 {
		out = append(out, "volume(s) "+strings.Join(volumes, ", "))
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

// failureSettle bounds how long a failed install waits for the watcher's diagnosis.
const failureSettle = 2 * time.Second

// settleFailure waits up to failureSettle for the watcher to show a component failure,
// and returns it.
func (e *Engine) settleFailure(ctx context.Context, w *watcher, since time.Time) (Snapshot, Status, bool) {
	timer := time.NewTimer(failureSettle)
	defer timer.Stop()
	for {
		snap := w.snapshot(since)
		if st := Compute(snap, e.ff); st.Failure != nil && st.Failure.Component != "release" {
			return snap, st, true
		}
		select {
		case <-w.changed:
		case <-timer.C:
			return Snapshot{}, Status{}, false
		case <-ctx.Done():
			return Snapshot{}, Status{}, false
		}
	}
}
