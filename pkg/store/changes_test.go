package store

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Changes reports what the cluster changed after its first list, not the objects that were
// already there, and ignores namespaces that are not stores.
func TestChangesNotifiesOnStoreChanges(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{}, storeNS("shop"), sts("shop", 0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	notified := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- env.e.Changes(ctx, ChangesOptions{}, func() { notified <- struct{}{} })
	}()
	select {
	case <-notified:
		t.Fatal("notified for objects that existed before the watch")
	case <-time.After(time.Second):
	}
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-web"}}
	if _, err := env.kube.CoreV1().Namespaces().Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notified:
		t.Fatal("notified for a namespace that is not a store")
	case <-time.After(time.Second):
	}
	s := sts("shop", 1)
	if _, err := env.kube.AppsV1().StatefulSets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notified:
	case <-ctx.Done():
		t.Fatal("no notification after a store's statefulset changed")
	}
	if _, err := env.kube.CoreV1().Namespaces().Create(ctx, storeNS("outlet"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notified:
	case <-ctx.Done():
		t.Fatal("no notification after a store appeared")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Changes ended with %v after its context", err)
	}
}

func TestChangesRefusesABadSelector(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{})
	if err := env.e.Changes(context.Background(), ChangesOptions{Selector: "a in (b"}, func() {}); err == nil {
		t.Error("a malformed selector was accepted")
	}
}
