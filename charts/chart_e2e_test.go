//go:build e2e

package charts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/storectl/storectl/pkg/testcluster"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Run(m)) }

// randomHex returns n random bytes as hex.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// helmConfig returns a Helm configuration for namespace on the test cluster, storing releases
// in Secrets as storectl does.
func helmConfig(t *testing.T, kubeconfig, namespace string) (*action.Configuration, genericclioptions.RESTClientGetter) {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	flags.Namespace = &namespace
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, namespace, "secret", func(format string, v ...any) { t.Logf("helm: "+format, v...) }); err != nil {
		t.Fatalf("helm configuration: %v", err)
	}
	return cfg, flags
}

// TestChartOnTheTestCluster installs the chart with each preset into a namespace that enforces
// Pod Security "restricted", checks every object is there and the store comes up, upgrades it
// (the setup Job of the new revision runs), uninstalls it and deletes the namespace, and checks nothing is left.
func TestChartOnTheTestCluster(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			t.Parallel()
			testChartLifecycle(t, c, preset)
		})
	}
}

func testChartLifecycle(t *testing.T, c *testcluster.Cluster, presetName string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	name := "chart-" + randomHex(t, 3)
	ns := "store-" + name
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns,
		Labels: map[string]string{
			"app.kubernetes.io/managed-by":               "storectl",
			"storectl.dev/store":                         name,
			"storectl.dev/type":                          "woocommerce",
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/warn":            "restricted",
			"pod-security.kubernetes.io/audit":           "restricted",
		},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		// Best effort when the test stopped early; the main path checks deletion itself.
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})

	// The namespace really enforces restricted: a root pod is refused.
	_, err = c.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "root"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.37"}}},
	}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "restricted") {
		t.Fatalf("a non-compliant pod was not refused by Pod Security admission: %v", err)
	}

	// The credentials Secret, as storectl creates it before installing.
	_, err = c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials"},
		StringData: map[string]string{
			"mariadb-root-password":    randomHex(t, 16),
			"mariadb-password":         randomHex(t, 16),
			"wordpress-admin-password": randomHex(t, 16),
			"wordpress-admin-user":     "admin",
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create credentials Secret: %v", err)
	}

	chrt, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	preset, err := Preset(presetName)
	if err != nil {
		t.Fatal(err)
	}
	values := mergeValues(preset, map[string]any{
		"store":     map[string]any{"name": name, "domain": "shops.example.com"},
		"wordpress": map[string]any{"podAnnotations": map[string]any{"sandbox.storectl.dev/ready-delay": "2s"}},
	})

	cfg, getter := helmConfig(t, c.Kubeconfig, ns)
	inst := action.NewInstall(cfg)
	inst.ReleaseName = name
	inst.Namespace = ns
	inst.Wait = true
	// The setup Job is an ordinary resource: Helm waits for it only when told to.
	inst.WaitForJobs = true
	inst.Timeout = 5 * time.Minute
	rel, err := inst.RunWithContext(ctx, chrt, values)
	if err != nil {
		dumpNamespace(t, c.Client, ns)
		t.Fatalf("install: %v", err)
	}
	if rel.Info.Status != "deployed" {
		t.Fatalf("release status %s", rel.Info.Status)
	}

	// Every object Helm rendered exists, as rendered, in the namespace.
	mapper, err := getter.ToRESTMapper()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, rel)
	if len(objs) < 16 {
		t.Fatalf("only %d objects rendered", len(objs))
	}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Errorf("%s: %v", gvk, err)
			continue
		}
		got, err := dyn.Resource(m.Resource).Namespace(ns).Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s %s was not created: %v", o.GetKind(), o.GetName(), err)
			continue
		}
		if got.GetLabels()["storectl.dev/store"] != name {
			t.Errorf("%s %s lacks the store label: %v", o.GetKind(), o.GetName(), got.GetLabels())
		}
	}

	// Pods are Ready, the setup Job completed, and the volumes are bound.
	checkStoreUp(ctx, t, c.Client, ns, name, 1)

	// An upgrade runs the setup again under the new revision's name, and Helm deletes the
	// first revision's Job with the rest of what the new revision no longer renders.
	firstJob, err := c.Client.BatchV1().Jobs(ns).Get(ctx, name+"-setup-r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = ns
	up.Wait = true
	up.WaitForJobs = true
	up.Timeout = 5 * time.Minute
	up.ResetValues = true
	if _, err := up.RunWithContext(ctx, name, chrt, values); err != nil {
		dumpNamespace(t, c.Client, ns)
		t.Fatalf("upgrade: %v", err)
	}
	secondJob, err := c.Client.BatchV1().Jobs(ns).Get(ctx, name+"-setup-r2", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the upgrade did not run the setup again: %v", err)
	}
	if secondJob.UID == firstJob.UID {
		t.Error("the upgrade did not run the setup again")
	}
	if j, err := c.Client.BatchV1().Jobs(ns).Get(ctx, firstJob.Name, metav1.GetOptions{}); err == nil && j.DeletionTimestamp == nil {
		t.Errorf("the first revision's Job %s is still there after the upgrade", firstJob.Name)
	}
	checkStoreUp(ctx, t, c.Client, ns, name, 2)

	// Uninstall keeps the two volumes (documented: the StatefulSet's claim is never Helm's, and
	// the WordPress claim is kept with it); deleting the namespace removes everything.
	if _, err := action.NewUninstall(cfg).Run(name); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	pvcs, err := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, p := range pvcs.Items {
		kept = append(kept, p.Name)
	}
	sort.Strings(kept)
	want := []string{"data-" + name + "-mariadb-0", name + "-wordpress"}
	sort.Strings(want)
	if strings.Join(kept, " ") != strings.Join(want, " ") {
		t.Errorf("claims after uninstall = %v, want %v", kept, want)
	}
	var pvNames []string
	pvs, err := c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
			pvNames = append(pvNames, pv.Name)
		}
	}
	if len(pvNames) != 2 {
		t.Errorf("volumes bound in %s before deletion: %v, want 2", ns, pvNames)
	}

	if err := c.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete namespace: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("namespace %s was not deleted: %v", ns, err)
	}
	err = wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, n := range pvNames {
			_, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, n, metav1.GetOptions{})
			if err == nil {
				return false, nil
			}
			if !apierrors.IsNotFound(err) {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("volumes %v outlived the namespace: %v", pvNames, err)
	}
	pvs, err = c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
			t.Errorf("volume %s of %s is left behind", pv.Name, ns)
		}
	}
}

// checkStoreUp asserts the store's pods are Ready, its setup Job succeeded and both claims are bound.
func checkStoreUp(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string, revision int) {
	t.Helper()
	for _, component := range []string{"database", "wordpress"} {
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
			LabelSelector: "app.kubernetes.io/instance=" + name + ",app.kubernetes.io/component=" + component,
		})
		if err != nil {
			t.Fatal(err)
		}
		var ready int
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && podReady(&p) {
				ready++
			}
		}
		if ready != 1 {
			t.Errorf("%d ready %s pods, want 1", ready, component)
		}
	}
	job, err := client.BatchV1().Jobs(ns).Get(ctx, fmt.Sprintf("%s-setup-r%d", name, revision), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("setup Job: %v", err)
	}
	if job.Status.Succeeded != 1 {
		t.Errorf("setup Job succeeded %d times, failed %d times; want one success", job.Status.Succeeded, job.Status.Failed)
	}
	// The Job ran beside WordPress, as its affinity demands.
	jobPods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job.Name})
	if err != nil {
		t.Fatal(err)
	}
	wpPods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + name + ",app.kubernetes.io/component=wordpress"})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobPods.Items) == 0 || len(wpPods.Items) == 0 || jobPods.Items[0].Spec.NodeName != wpPods.Items[0].Spec.NodeName {
		t.Errorf("the setup Job did not run on the WordPress pod's node")
	}
	for _, claim := range []string{"data-" + name + "-mariadb-0", name + "-wordpress"} {
		pvc, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			t.Errorf("claim %s: %v", claim, err)
			continue
		}
		if pvc.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim %s is %s, want Bound", claim, pvc.Status.Phase)
		}
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// dumpNamespace logs what the namespace holds, to explain a failed install.
func dumpNamespace(t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	if pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s: %s on %q", p.Name, p.Status.Phase, p.Spec.NodeName)
			for _, c := range p.Status.Conditions {
				t.Logf("  %s=%s %s", c.Type, c.Status, c.Message)
			}
		}
	}
	if events, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range events.Items {
			if e.Type != corev1.EventTypeNormal {
				t.Logf("event %s %s: %s", e.InvolvedObject.Name, e.Reason, e.Message)
			}
		}
	}
}
