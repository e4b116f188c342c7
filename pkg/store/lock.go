package store

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
)

// Locks are coordination.k8s.io Leases, so every storectl process on every
// machine sees them, and a holder that dies (SIGKILL, lost laptop) stops
// renewing and loses its lock when the lease runs out.
const (
	// CreateLockName is the Lease serialising store creation cluster-wide,
	// so that counting stores against the limit and creating the namespace
	// happen atomically.
	CreateLockName = "storectl-create"
	// StoreLockName is the per-store Lease, in the store namespace, held for
	// the whole of a create.
	StoreLockName = "storectl-lock"
	// DefaultLockLease is how long a lock outlives its holder's last renewal.
	DefaultLockLease = 15 * time.Second
	// createLockLease is short: the create lock is held for two API calls.
	createLockLease = 10 * time.Second
)

type heldLock struct {
	e      *Engine
	ns     string
	name   string
	stop   context.CancelFunc
	done   chan struct{}
	holder string
	// lease is the Lease as this process last wrote it; only renew writes it, and release
	// reads it once renew has stopped.
	lease *coordinationv1.Lease
}

func (e *Engine) leaseLive(l *coordinationv1.Lease) bool {
	h := ptr.Deref(l.Spec.HolderIdentity, "")
	if h == "" || l.Spec.RenewTime == nil {
		return false
	}
	d := time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 0)) * time.Second
	return e.now().Before(l.Spec.RenewTime.Add(d))
}

// tryLock makes one attempt; ok=false with holder set means another live
// process holds it, with holder empty means a lost race (retry).
// tryLock takes or renews the Lease and returns it as written; nil and the holder's name
// when another live process holds it. cur, when not nil, is the Lease as a watch last
// delivered it: tryLock then judges it without reading it again, and sends a request only
// when it looks free. seen is the Lease as judged, for waitLease to watch from.
func (e *Engine) tryLock(ctx context.Context, ns, name string, dur time.Duration, cur *coordinationv1.Lease) (held *coordinationv1.Lease, holder string, seen *coordinationv1.Lease, err error) {
	leases := e.kube.CoordinationV1().Leases(ns)
	now := metav1.NewMicroTime(e.now())
	secs := int32(min((dur+time.Second-1)/time.Second, math.MaxInt32)) //nolint:gosec // clamped to MaxInt32
	l := cur.DeepCopy()
	if l == nil {
		l, err = leases.Get(ctx, name, metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		nl := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(e.holder), LeaseDurationSeconds: ptr.To(secs),
				AcquireTime: &now, RenewTime: &now},
		}
		created, err := leases.Create(ctx, nl, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil, "", nil, nil
		}
		return created, "", nil, err
	}
	if err != nil {
		return nil, "", nil, err
	}
	if h := ptr.Deref(l.Spec.HolderIdentity, ""); h != e.holder && e.leaseLive(l) {
		return nil, h, l, nil
	}
	seen = l.DeepCopy()
	l.Spec.HolderIdentity = ptr.To(e.holder)
	l.Spec.LeaseDurationSeconds = ptr.To(secs)
	l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
	l.Spec.LeaseTransitions = ptr.To(ptr.Deref(l.Spec.LeaseTransitions, 0) + 1)
	updated, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, "", seen, nil
	}
	return updated, "", nil, err
}

// retryAfter is how long a process waits before it tries a held lease again, jittered so
// that many contenders do not retry in lockstep. The create lease is held for a handful of
// requests, so that parallel creates pass it one after another without waiting out pauses
// longer than the holds; a store's lease is held for a whole operation.
func retryAfter(lease string) time.Duration {
	if lease == CreateLockName {
		return time.Duration(10+mrand.IntN(40)) * time.Millisecond //nolint:gosec // jitter, not a secret
	}
	return time.Duration(50+mrand.IntN(200)) * time.Millisecond //nolint:gosec // jitter, not a secret
}

// lock acquires a lease, retrying for up to wait, and keeps renewing it
// until release. A holder that is still alive after wait means ErrBusy.
//
// A process that finds the lease held watches it rather than polling: it learns of the
// release as soon as the API server records it, and judges the holder's renewals without a
// request, so that twenty processes waiting for the create lease do not flood the API
// server with reads while one of them creates its namespace.
func (e *Engine) lock(ctx context.Context, store, ns, name string, dur, wait time.Duration) (*heldLock, error) {
	deadline := time.Now().Add(wait)
	w := &leaseWatch{e: e, ns: ns, name: name}
	defer w.stop()
	var holder string
	var held, cur *coordinationv1.Lease
	for {
		l, h, seen, err := e.tryLock(ctx, ns, name, dur, cur)
		if err != nil {
			return nil, clusterErr(ctx, store, "acquire lock "+ns+"/"+name, err)
		}
		if l != nil {
			held = l
			break
		}
		if h != "" {
			holder = h
		}
		if time.Now().After(deadline) {
			return nil, &Error{Err: ErrBusy, Store: store, Reason: ReasonLocked,
				Message: fmt.Sprintf("lease %s/%s is held by %s", ns, name, holder)}
		}
		if cur = w.next(ctx, seen, deadline); ctx.Err() != nil {
			return nil, stopped(ctx, store, "waiting for lock "+ns+"/"+name+" held by "+holder)
		}
	}
	rctx, stop := context.WithCancel(context.Background())
	hl := &heldLock{e: e, ns: ns, name: name, stop: stop, done: make(chan struct{}), holder: e.holder, lease: held}
	go hl.renew(rctx, dur)
	return hl, nil
}

// leaseWatch is a waiter's watch on one Lease, opened at the first wait.
type leaseWatch struct {
	e        *Engine
	ns, name string
	w        watch.Interface
	failed   bool // the watch could not be opened or ended: poll instead
}

// next waits until the Lease changes, or until it would expire, and returns it as the
// watch delivered it; nil means read it again. Without a watch (none allowed, or none yet
// possible because no version of the Lease was seen) it waits a jittered pause.
func (lw *leaseWatch) next(ctx context.Context, seen *coordinationv1.Lease, deadline time.Time) *coordinationv1.Lease {
	if lw.w == nil && !lw.failed && seen != nil && seen.ResourceVersion != "" {
		w, err := lw.e.kube.CoordinationV1().Leases(lw.ns).Watch(ctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", lw.name).String(),
			ResourceVersion: seen.ResourceVersion,
		})
		if err != nil {
			lw.failed = true
		} else {
			lw.w = w
		}
	}
	if lw.w == nil {
		pause(ctx, retryAfter(lw.name))
		return nil
	}
	// Woken by a change, or when the lease as last seen would run out (a holder that died
	// writes nothing), or at the deadline.
	wake := time.Until(deadline)
	if seen != nil && seen.Spec.RenewTime != nil {
		d := time.Duration(ptr.Deref(seen.Spec.LeaseDurationSeconds, 0)) * time.Second
		wake = min(wake, seen.Spec.RenewTime.Add(d).Sub(lw.e.now())+10*time.Millisecond)
	}
	t := time.NewTimer(max(wake, time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-t.C:
		return seen
	case ev, ok := <-lw.w.ResultChan():
		l, live := lw.latest(ev, ok)
		if !live {
			lw.stop()
			lw.failed = true
		}
		return l
	}
}

// latest returns the newest Lease among ev and the events already queued behind it, so
// that a waiter that fell behind tries the current state once, not each past one. live is
// false when the watch ended.
func (lw *leaseWatch) latest(ev watch.Event, ok bool) (*coordinationv1.Lease, bool) {
	var last *coordinationv1.Lease
	for {
		if !ok || ev.Type == watch.Error {
			return nil, false
		}
		switch l, _ := ev.Object.(*coordinationv1.Lease); {
		case l == nil || l.Name != lw.name:
			// Not this Lease (a client that does not filter by name).
		case ev.Type == watch.Deleted:
			last = nil // read again: the Lease is to be created
		default:
			last = l
		}
		select {
		case ev, ok = <-lw.w.ResultChan():
		default:
			return last, true
		}
	}
}

func (lw *leaseWatch) stop() {
	if lw.w != nil {
		lw.w.Stop()
		lw.w = nil
	}
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (hl *heldLock) renew(ctx context.Context, dur time.Duration) {
	defer close(hl.done)
	t := time.NewTicker(dur / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, dur/3)
			if l, _, _, _ := hl.e.tryLock(rctx, hl.ns, hl.name, dur, nil); l != nil {
				hl.lease = l
			}
			cancel()
		}
	}
}

// release stops renewing and frees the lease if still ours, so the next
// process need not wait for it to expire. It is one request: an update of the Lease as this
// process last wrote it, which the API server refuses (a conflict) if anyone wrote it since.
func (hl *heldLock) release() {
	if hl == nil {
		return
	}
	hl.stop()
	<-hl.done
	// Bounded tightly: an interrupted command must exit within seconds, and
	// an unreleased lease expires on its own.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l := hl.lease.DeepCopy()
	l.Spec.HolderIdentity = nil
	l.Spec.RenewTime = nil
	_, _ = hl.e.kube.CoordinationV1().Leases(hl.ns).Update(ctx, l, metav1.UpdateOptions{})
}
