package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

var opsNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func opsNamespace(name string, created time.Time) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace(name), CreationTimestamp: metav1.NewTime(created),
		Labels: map[string]string{LabelManagedBy: ManagedBy, LabelStore: name, LabelType: TypeWooCommerce}}}
}

func setupJob(store string, created, done time.Time, failed bool) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: store + "-setup", Namespace: Namespace(store), CreationTimestamp: metav1.NewTime(created),
		Labels: map[string]string{LabelStore: store, LabelComponent: ComponentSetup}}}
	if done.IsZero() {
		return j
	}
	if failed {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(done)}}
	} else {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
		j.Status.CompletionTime = &metav1.Time{Time: done}
	}
	return j
}

func TestProvisionings(t *testing.T) {
	t.Parallel()
	t0 := opsNow.Add(-time.Hour)
	objs := []runtime.Object{
		opsNamespace("a", t0), setupJob("a", t0.Add(5*time.Second), t0.Add(90*time.Second), false),
		opsNamespace("b", t0.Add(time.Minute)), setupJob("b", t0.Add(time.Minute), t0.Add(3*time.Minute), true),
		opsNamespace("c", t0.Add(2*time.Minute)), setupJob("c", t0.Add(2*time.Minute), time.Time{}, false),
		opsNamespace("d", t0.Add(3*time.Minute)),
		// Not a store: the labels name another store.
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "store-x", Labels: map[string]string{LabelManagedBy: ManagedBy, LabelStore: "y"}}},
	}
	ps, err := NewOps(fake.NewClientset(objs...), func() time.Time { return opsNow }).Provisionings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Provisioning{
		{Store: "a", CreatedAt: t0, DoneAt: t0.Add(90 * time.Second), Outcome: "succeeded"},
		{Store: "b", CreatedAt: t0.Add(time.Minute), DoneAt: t0.Add(3 * time.Minute), Outcome: "failed", Reason: OutcomeSetupFailed},
		{Store: "c", CreatedAt: t0.Add(2 * time.Minute)},
		{Store: "d", CreatedAt: t0.Add(3 * time.Minute)},
	}
	for i := range ps {
		ps[i].CreatedAt, ps[i].DoneAt = ps[i].CreatedAt.UTC(), ps[i].DoneAt.UTC()
		if ps[i].DoneAt.Equal(time.Time{}.UTC()) {
			ps[i].DoneAt = time.Time{}
		}
	}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("Provisionings:\n got %+v\nwant %+v", ps, want)
	}
	if d := ps[0].Duration(); d != 90*time.Second {
		t.Errorf("duration %s, want 90s", d)
	}
	if d := ps[2].Duration(); d != 0 {
		t.Errorf("duration of a running setup %s, want 0", d)
	}
}

func TestEventsAllTypesOldestFirst(t *testing.T) {
	t.Parallel()
	ev := func(name, typ string, at time.Time) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "store-shop"}, Type: typ, Reason: name,
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "shop-wordpress"}, LastTimestamp: metav1.NewTime(at), Count: 2}
	}
	cs := fake.NewClientset(opsNamespace("shop", opsNow), ev("Late", "Warning", opsNow.Add(time.Minute)), ev("Early", "Normal", opsNow),
		ev("Elsewhere", "Normal", opsNow))
	evs, _, err := NewOps(cs, nil).Events(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Reason != "Early" && evs[0].Reason != "Elsewhere" || evs[2].Reason != "Late" || evs[2].Type != "Warning" {
		t.Errorf("events %+v, want Normal and Warning, oldest first", evs)
	}
	if _, _, err := NewOps(cs, nil).Events(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("events of a missing store: %v", err)
	}
}

func TestLogsSelectComponents(t *testing.T) {
	t.Parallel()
	pod := func(name, comp string, containers ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "store-shop", CreationTimestamp: metav1.NewTime(opsNow),
			Labels: map[string]string{LabelStore: "shop", LabelComponent: comp}}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		}
		return p
	}
	other := pod("other", ComponentWordPress, "x")
	other.Namespace = "store-other" // another store's pod, with the same labels
	// The fake serves "fake logs" for every container.
	cs := fake.NewClientset(opsNamespace("shop", opsNow), pod("shop-wordpress-1", ComponentWordPress, "wordpress"),
		pod("shop-mariadb-0", ComponentDatabase, "mariadb"), other)
	o := NewOps(cs, nil)
	var got []LogLine
	if err := o.Logs(context.Background(), "shop", LogOptions{Component: ComponentWordPress}, func(l LogLine) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Pod != "shop-wordpress-1" || got[0].Container != "wordpress" || got[0].Component != ComponentWordPress ||
		got[0].Text != "fake logs" || got[0].Many {
		t.Errorf("wordpress logs: %+v", got)
	}
	got = nil
	if err := o.Logs(context.Background(), "shop", LogOptions{}, func(l LogLine) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Many {
		t.Errorf("logs of every component: %+v, want two containers marked Many", got)
	}
}
