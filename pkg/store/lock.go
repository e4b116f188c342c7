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
// when another live process holds it.
func (e *Engine) tryLock(ctx context.Context, ns, name string, dur time.Duration) (held *coordinationv1.Lease, holder string, err error) {
	leases := e.kube.CoordinationV1().Leases(ns)
	now := metav1.NewMicroTime(e.now())
	secs := int32(min((dur+time.Second-1)/time.Second, math.MaxInt32)) //nolint:gosec // clamped to MaxInt32
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		nl := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(e.holder), LeaseDurationSeconds: ptr.To(secs),
				AcquireTime: &now, RenewTime: &now},
		}
		created, err := leases.Create(ctx, nl, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil, "", nil
		}
		return created, "", err
	}
	if err != nil {
		return nil, "", err
	}
	if h := ptr.Deref(l.Spec.HolderIdentity, ""); h != e.holder && e.leaseLive(l) {
		return nil, h, nil
	}
	l.Spec.HolderIdentity = ptr.To(e.holder)
	l.Spec.LeaseDurationSeconds = ptr.To(secs)
	l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
	l.Spec.LeaseTransitions = ptr.To(ptr.Deref(l.Spec.LeaseTransitions, 0) + 1)
	updated, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, "", nil
	}
	return updated, "", err
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
func (e *Engine) lock(ctx context.Context, store, ns, name string, dur, wait time.Duration) (*heldLock, error) {
	deadline := time.Now().Add(wait)
	var holder string
	var held *coordinationv1.Lease
	for {
		l, h, err := e.tryLock(ctx, ns, name, dur)
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
		// Jittered so that many contenders do not retry in lockstep.
		select {
		case <-ctx.Done():
			return nil, stopped(ctx, store, "waiting for lock "+ns+"/"+name+" held by "+holder)
		case <-time.After(retryAfter(name)):
		}
	}
	rctx, stop := context.WithCancel(context.Background())
	hl := &heldLock{e: e, ns: ns, name: name, stop: stop, done: make(chan struct{}), holder: e.holder, lease: held}
	go hl.renew(rctx, dur)
	return hl, nil
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
			if l, _, _ := hl.e.tryLock(rctx, hl.ns, hl.name, dur); l != nil {
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
