package testcluster_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/storectl/storectl/pkg/testcluster"
)

// A client watching across an API server restart must see what happens
// after it, and the controllers must carry on: what storectl's create relies
// on when the control plane restarts under it.
func TestAPIServerRestart(t *testing.T) {
	t.Parallel()
	c := testcluster.Private(t)
	ctx := testContext(t, 3*time.Minute)
	ns := c.NewNamespace(t, "restart", nil)

	// An informer (here through UntilWithSync) lists again when its watch
	// cannot resume: after a restart the API server's watch cache starts
	// afresh and refuses older resource versions as Expired (410), which
	// ends a bare RetryWatcher.
	lw := cache.NewListWatchFromClient(c.Client.CoreV1().RESTClient(), "configmaps", ns, fields.Everything())
	watching := make(chan error, 1)
	go func() {
		_, err := watchtools.UntilWithSync(ctx, lw, &corev1.ConfigMap{}, nil, func(ev watch.Event) (bool, error) {
			cm, ok := ev.Object.(*corev1.ConfigMap)
			return ok && ev.Type != watch.Deleted && cm.Name == "after", nil
		})
		watching <- err
	}()
	// Let the informer list and start watching before the restart.
	time.Sleep(time.Second)

	c.StopAPIServer(t)
	if _, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
		t.Fatal("the API server still answers after it was stopped")
	}
	c.StartAPIServer(t)

	if _, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create after the restart: %v", err)
	}
	if err := <-watching; err != nil {
		t.Fatalf("the watch did not see the ConfigMap created after the restart: %v", err)
	}

	// The controllers and the simulated nodes are still at work.
	if _, err := c.Client.AppsV1().Deployments(ns).Create(ctx, deployment("web", 1, podTemplate(nil, nil)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "the Deployment to become Available after the restart", func(ctx context.Context) (bool, error) {
		d, err := c.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}
