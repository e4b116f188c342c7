//go:build e2e

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/testcluster"
)

// helmFor returns a Helm action configuration for a store's namespace, as the helm CLI
// builds one.
func helmFor(t *testing.T, kubeconfig, namespace string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &namespace
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, namespace, "secret", func(string, ...any) {}); err != nil {
		t.Fatalf("helm configuration: %v", err)
	}
	return cfg
}

// A store created without waiting is recorded deployed by Helm with no storectl running:
// `helm list` shows it, `helm history` and `helm status` say deployed, Helm upgrades it, and
// storectl judges it by the setup Job of the revision it runs.
func TestCreateWithoutWaitIsDeployedWithNothingWatching(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueStore("e2e-nowait")
	ns := "store-" + name
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })

	// The setup waits for WordPress, which takes 5 seconds to become ready: Helm must not.
	start := time.Now()
	r.must("create", name, "--wait=false", "--set", `wordpress.podAnnotations.sandbox\.storectl\.dev/ready-delay=5s`)
	returned := time.Since(start)
	cfg := helmFor(t, c.Kubeconfig, ns)
	status := func() *helmrelease.Release {
		rel, err := action.NewStatus(cfg).Run(name)
		if err != nil {
			t.Fatalf("helm status %s: %v", name, err)
		}
		return rel
	}
	// storectl has exited; Helm's record is final without it.
	var last helmrelease.Status
	eventually(t, 30*time.Second, "the release to be recorded deployed", func() bool {
		st := status().Info.Status
		if st != last {
			t.Logf("release %s", st)
		}
		last = st
		return last == helmrelease.StatusDeployed
	})
	job := func(rev int) (*batchv1.Job, error) {
		return c.Client.BatchV1().Jobs(ns).Get(context.Background(), fmt.Sprintf("%s-setup-r%d", name, rev), metav1.GetOptions{})
	}
	if j, err := job(1); err != nil {
		t.Fatalf("the setup Job of revision 1: %v", err)
	} else if j.Status.Succeeded > 0 && returned < 5*time.Second {
		t.Errorf("the setup completed before WordPress could be ready")
	}
	list := action.NewList(cfg)
	list.SetStateMask()
	rels, err := list.Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 || rels[0].Name != name {
		t.Errorf("helm list (deployed and failed releases) in %s = %d releases, want %s", ns, len(rels), name)
	}
	hist, err := action.NewHistory(cfg).Run(name)
	if err != nil || len(hist) != 1 || hist[0].Info.Status != helmrelease.StatusDeployed {
		t.Errorf("helm history = %d revisions (%v), want one deployed", len(hist), err)
	}

	// While the setup may still run, the store is not Ready: get says what it waits for.
	got := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout)
	if j, _ := job(1); j != nil && j.Status.Succeeded == 0 && got.Status == "Ready" {
		t.Errorf("get says Ready while the setup Job of revision 1 has not succeeded")
	}
	waited := decode[storeJSON](t, r.must("wait", name, "--timeout", "3m", "-o", "json").stdout)
	if waited.Status != "Ready" || waited.Revision != 1 {
		t.Fatalf("wait returned %+v", waited)
	}
	if j, err := job(1); err != nil || j.Status.Succeeded != 1 {
		t.Fatalf("Ready without a succeeded setup Job of revision 1 (%v)", err)
	}

	// Helm itself upgrades the store (a pending release would be refused): the new
	// revision's setup Job runs, the first one's is deleted, and storectl follows.
	chart, err := charts.Load()
	if err != nil {
		t.Fatal(err)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace, up.ReuseValues = ns, true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := up.RunWithContext(ctx, name, chart, map[string]any{}); err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	if st := status().Info.Status; st != helmrelease.StatusDeployed {
		t.Errorf("after helm upgrade the release is %s, want deployed", st)
	}
	waited = decode[storeJSON](t, r.must("wait", name, "--timeout", "3m", "-o", "json").stdout)
	if waited.Status != "Ready" || waited.Revision != 2 {
		t.Fatalf("wait after the upgrade returned %+v", waited)
	}
	if j, err := job(2); err != nil || j.Status.Succeeded != 1 {
		t.Fatalf("Ready at revision 2 without its setup Job succeeded (%v)", err)
	}
	eventually(t, 30*time.Second, "the first revision's setup Job to go", func() bool {
		_, err := job(1)
		return apierrors.IsNotFound(err)
	})
}

// unschedulablePods returns the store's pods the scheduler could not place.
func unschedulablePods(t *testing.T, c *testcluster.Cluster, ns string) []corev1.Pod {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
				out = append(out, p)
			}
		}
	}
	return out
}

// triggeredScaleUp records on pod the event cluster-autoscaler records when it grows a node
// group for the pod.
func triggeredScaleUp(t *testing.T, c *testcluster.Cluster, p corev1.Pod) {
	t.Helper()
	now := metav1.Now()
	_, err := c.Client.CoreV1().Events(p.Namespace).Create(context.Background(), &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: p.Name + "."},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID,
			APIVersion: "v1", ResourceVersion: p.ResourceVersion},
		Reason: "TriggeredScaleUp", Type: corev1.EventTypeNormal,
		Message: "pod triggered scale-up: [{sandbox-pool 3->4 (max: 5)}]",
		Source:  corev1.EventSource{Component: "cluster-autoscaler"}, FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("record TriggeredScaleUp on %s: %v", p.Name, err)
	}
}

// A store whose pods fit no node fails once the unschedulable grace has passed, with the
// scheduler's reason; while the cluster autoscaler says it adds a node, create waits past the
// grace, and the node that joins runs the store.
func TestUnschedulableWaitsForTheAutoscaler(t *testing.T) {
	t.Parallel()
	c := testcluster.Private(t) // it cordons every node and adds one
	r := newRunner(t, c.Kubeconfig)
	ctx := context.Background()
	for _, n := range []string{"sandbox-worker-1", "sandbox-worker-2", "sandbox-worker-3"} {
		c.Kubectl(t, "cordon", n)
	}
	const grace = "4s"

	// No autoscaler word: the create fails soon after the grace and says why.
	fast := uniqueStore("e2e-nofit")
	start := time.Now()
	res := r.run("create", fast, "--unschedulable-grace", grace, "--timeout", "3m")
	if res.code == 0 || time.Since(start) > 90*time.Second {
		t.Fatalf("create of a store that fits no node: exit %d after %s\n%s", res.code, time.Since(start), res.stderr)
	}
	if !strings.Contains(res.stderr, "cannot be scheduled") || !strings.Contains(res.stderr, "unschedulable") {
		t.Errorf("the failure does not say the pod fits no node:\n%s", res.stderr)
	}
	if !strings.Contains(res.stderr, "--unschedulable-grace") {
		t.Errorf("the failure's hint does not name the setting:\n%s", res.stderr)
	}
	t.Logf("a store that fits no node failed after %s (exit %d)", time.Since(start).Round(100*time.Millisecond), res.code)

	// The autoscaler adds a node for the pods: create waits.
	slow := uniqueStore("e2e-scale")
	p := r.start("create", slow, "--unschedulable-grace", grace, "--timeout", "4m")
	ns := "store-" + slow
	seen := map[string]bool{}
	eventually(t, 90*time.Second, "the database and WordPress pods to wait for a node", func() bool {
		for _, pod := range unschedulablePods(t, c, ns) {
			if !seen[pod.Name] {
				seen[pod.Name] = true
				triggeredScaleUp(t, c, pod)
			}
		}
		return len(seen) >= 2
	})
	graceEnd := time.Now().Add(4 * 4 * time.Second)
	for time.Now().Before(graceEnd) {
		select {
		case <-p.done:
			t.Fatalf("create ended (exit %d) while the autoscaler adds a node:\n%s", p.code, p.stderr.String())
		case <-time.After(time.Second):
		}
		for _, pod := range unschedulablePods(t, c, ns) {
			if !seen[pod.Name] {
				seen[pod.Name] = true
				triggeredScaleUp(t, c, pod)
			}
		}
	}

	// The node joins; kwok makes it Ready and the store runs on it.
	_, err := c.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sandbox-worker-4",
		Labels: map[string]string{"kubernetes.io/hostname": "sandbox-worker-4", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"topology.kubernetes.io/zone": "sandbox-d", "node.kubernetes.io/instance-type": "sandbox"},
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("add a node: %v", err)
	}
	added := time.Now()
	select {
	case <-p.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("create did not end after the node joined:\n%s", p.stderr.String())
	}
	if p.code != 0 {
		t.Fatalf("create exit %d after the node joined:\n%s", p.code, p.stderr.String())
	}
	t.Logf("the create waiting for the autoscaler ended Ready %s after the node was added", time.Since(added).Round(100*time.Millisecond))
	got := decode[storeJSON](t, r.must("get", slow, "-o", "json").stdout)
	if got.Status != "Ready" {
		t.Errorf("get after the scale-up: %+v", got)
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName != "sandbox-worker-4" {
			t.Errorf("pod %s runs on %q, want the new node", pod.Name, pod.Spec.NodeName)
		}
	}
}

// hookChart writes a copy of the chart as it was before the setup Job became an ordinary
// resource: chart 0.1.0, whose setup Job was a post-install and post-upgrade hook named
// <store>-setup for every revision.
func hookChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "woocommerce")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "charts", "woocommerce"))); err != nil {
		t.Fatal(err)
	}
	edit := func(file string, pairs ...string) {
		t.Helper()
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("%s has no %q to replace", file, pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("Chart.yaml", "\nversion: 0.2.0\n", "\nversion: 0.1.0\n")
	edit(filepath.Join("templates", "setup-job.yaml"),
		`name: {{ include "woocommerce.setupJob" . }}`, `name: {{ include "woocommerce.fullname" . }}-setup`,
		"    storectl.dev/revision: {{ .Release.Revision | quote }}\n", "",
		"  annotations:\n", "  annotations:\n    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-weight: \"0\"\n    helm.sh/hook-delete-policy: before-hook-creation\n")
	return dir
}

// A store made when the setup Job was a Helm hook is judged by that Job, and an upgrade
// moves it to the per-revision Job: the new revision's setup runs and the hook Job goes.
func TestHookStoreMigratesOnUpgrade(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueStore("e2e-hook")
	ns := "store-" + name
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	old := &chartRunner{storectlRunner: r, chart: hookChart(t)}
	old.must("create", name)
	ctx := context.Background()
	hook, err := c.Client.BatchV1().Jobs(ns).Get(ctx, name+"-setup", metav1.GetOptions{})
	if err != nil || hook.Annotations["helm.sh/hook"] == "" {
		t.Fatalf("the 0.1.0 store has no setup hook Job (%v)", err)
	}
	if got := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout); got.Status != "Ready" {
		t.Fatalf("this storectl judges the 0.1.0 store %s, want Ready", got.Status)
	}

	res := r.run("upgrade", name, "--no-backup", "-o", "json")
	if res.code != 0 {
		t.Fatalf("upgrade to chart 0.2.0: exit %d\n%s", res.code, res.stderr)
	}
	got := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout)
	if got.Status != "Ready" || got.Revision != 2 {
		t.Fatalf("after the upgrade: %+v", got)
	}
	j, err := c.Client.BatchV1().Jobs(ns).Get(ctx, name+"-setup-r2", metav1.GetOptions{})
	if err != nil || j.Status.Succeeded != 1 {
		t.Fatalf("the upgrade's setup Job did not succeed (%v)", err)
	}
	eventually(t, 30*time.Second, "the hook Job to go", func() bool {
		_, err := c.Client.BatchV1().Jobs(ns).Get(ctx, name+"-setup", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if st := releaseStatuses(t, c, name); len(st) != 2 || st[0] != "superseded" || st[1] != "deployed" {
		t.Errorf("release history %v, want superseded, deployed", st)
	}
}
