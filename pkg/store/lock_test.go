package store

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/release/releasetest"
)

var leasesResource = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

// leaseEnv is an engine over a fake cluster whose create Lease another process holds. The
// other process writes through the tracker, so that the actions recorded are the engine's.
type leaseEnv struct {
	kc *fake.Clientset
	e  *Engine
}

func newLeaseEnv(t *testing.T, watchErr error) *leaseEnv {
	t.Helper()
	now := metav1.NewMicroTime(time.Now())
	held := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: CreateLockName, Namespace: "default", ResourceVersion: "1"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("other/1/abc"), LeaseDurationSeconds: ptr.To[int32](15),
			AcquireTime: &now, RenewTime: &now},
	}
	kc := fake.NewClientset(held)
	if watchErr != nil {
		kc.PrependWatchReactor("leases", func(k8stesting.Action) (bool, watch.Interface, error) {
			return true, nil, watchErr
		})
	}
	e, err := New(Options{Kube: kc, Releases: releasetest.NewMemory(nil, nil), LockNamespace: "default", Holder: "me/2/def"})
	if err != nil {
		t.Fatal(err)
	}
	return &leaseEnv{kc: kc, e: e}
}

// other writes the Lease as its holder would: renewed, or released (no holder).
func (l *leaseEnv) other(t *testing.T, rv string, release bool) {
	t.Helper()
	obj, err := l.kc.Tracker().Get(leasesResource, "default", CreateLockName)
	if err != nil {
		t.Fatal(err)
	}
	lease := obj.(*coordinationv1.Lease).DeepCopy()
	now := metav1.NewMicroTime(time.Now())
	lease.ResourceVersion = rv
	lease.Spec.RenewTime = &now
	if release {
		lease.Spec.HolderIdentity, lease.Spec.RenewTime = nil, nil
	}
	if err := l.kc.Tracker().Update(leasesResource, lease, "default"); err != nil {
		t.Fatal(err)
	}
}

func (l *leaseEnv) count() map[string]int {
	n := map[string]int{}
	for _, a := range l.kc.Actions() {
		if a.GetResource().Resource == "leases" {
			n[a.GetVerb()]++
		}
	}
	return n
}

// lockAsync takes the create lock in the background.
func (l *leaseEnv) lockAsync(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		hl, err := l.e.lock(ctx, "shop", "default", CreateLockName, createLockLease, 10*time.Second)
		if err == nil {
			hl.release()
		}
		done <- err
	}()
	return done
}

// A process waiting for a held lease watches it: the holder's renewals cost it no request,
// and it takes the lease as soon as the holder lets go.
func TestLockWaitsByWatchingTheLease(t *testing.T) {
	t.Parallel()
	l := newLeaseEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := l.lockAsync(ctx)
	waitFor(t, ctx, "the waiter to watch the lease", func() bool { return l.count()["watch"] == 1 })
	for i := range 5 {
		l.other(t, []string{"2", "3", "4", "5", "6"}[i], false)
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("the lock was taken while its holder renewed it: %v", err)
	default:
	}
	l.other(t, "7", true)
	if err := <-done; err != nil {
		t.Fatalf("lock after the holder released it: %v", err)
	}
	n := l.count()
	if n["get"] != 1 || n["watch"] != 1 {
		t.Errorf("the waiter sent %d gets and %d watches; want the first read and one watch, whatever the renewals", n["get"], n["watch"])
	}
	// One update takes the lease, one releases it.
	if n["update"] != 2 {
		t.Errorf("the waiter sent %d updates, want 2 (take, release)", n["update"])
	}
}

// Without the right to watch (an older RBAC policy) the waiter reads the lease again and
// again, and still takes it once it is free.
func TestLockPollsWhenItCannotWatch(t *testing.T) {
	t.Parallel()
	l := newLeaseEnv(t, apierrors.NewForbidden(leasesResource.GroupResource(), CreateLockName, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := l.lockAsync(ctx)
	waitFor(t, ctx, "the waiter to read the lease again", func() bool { return l.count()["get"] >= 3 })
	l.other(t, "2", true)
	if err := <-done; err != nil {
		t.Fatalf("lock after the holder released it: %v", err)
	}
	if n := l.count(); n["watch"] != 1 {
		t.Errorf("the waiter tried %d watches, want 1 (refused, then polling)", n["watch"])
	}
}

// A holder that dies writes nothing more: the waiter takes the lease once it expires,
// without an event to wake it.
func TestLockTakesAnExpiredLeaseWhileWatching(t *testing.T) {
	t.Parallel()
	l := newLeaseEnv(t, nil)
	obj, _ := l.kc.Tracker().Get(leasesResource, "default", CreateLockName)
	lease := obj.(*coordinationv1.Lease).DeepCopy()
	lease.Spec.LeaseDurationSeconds = ptr.To[int32](1)
	if err := l.kc.Tracker().Update(leasesResource, lease, "default"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := <-l.lockAsync(ctx); err != nil {
		t.Fatalf("lock after the holder's lease ran out: %v", err)
	}
	if n := l.count(); n["watch"] != 1 || n["get"] != 1 {
		t.Errorf("the waiter sent %d gets and %d watches, want 1 and 1", n["get"], n["watch"])
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
