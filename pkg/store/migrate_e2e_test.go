//go:build e2e

package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/testcluster"
)

// versionLabelledChart is the embedded chart as storectl shipped it before the claim template
// kept only stable labels: helm.sh/chart and app.kubernetes.io/version on it.
func versionLabelledChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := charts.Load()
	if err != nil {
		t.Fatal(err)
	}
	const stable = `include "woocommerce.stableLabels" $component | nindent 10`
	const versioned = `include "woocommerce.componentLabels" $component | nindent 10`
	for _, f := range c.Templates {
		if f.Name == "templates/mariadb-statefulset.yaml" {
			if !strings.Contains(string(f.Data), stable) {
				t.Fatal("the StatefulSet template no longer includes the stable labels as this test expects")
			}
			f.Data = []byte(strings.Replace(string(f.Data), stable, versioned, 1))
		}
	}
	return c
}

func migrateEngine(t *testing.T, cl *kube.Clients, load release.ChartLoader) (*Engine, *release.Helm) {
	t.Helper()
	rel, err := release.NewHelm(release.HelmOptions{Client: cl.Interface, Getter: cl.Getter, Chart: load})
	if err != nil {
		t.Fatal(err)
	}
	ff := FailFast{ImagePullGrace: 5 * time.Second, CrashLoopRestarts: 1, UnschedulableGrace: 8 * time.Second,
		VolumeGrace: 5 * time.Second, ConfigErrorGrace: 5 * time.Second}
	e, err := New(Options{Kube: cl.Interface, Releases: rel, FailFast: &ff, LockLease: 6 * time.Second,
		Settings: Settings{Profile: "local", Domain: "127.0.0.1.nip.io"}})
	if err != nil {
		t.Fatal(err)
	}
	return e, rel
}

// TestMigrateImmutableKeepsClaimAndVolume creates a store with the old claim-template labels,
// upgrades it to a bumped chart after migrateImmutable, and checks on a real API server and
// controller manager that the database's claim and volume are the same objects afterwards and
// that the re-created StatefulSet owns the database pod.
func TestMigrateImmutableKeepsClaimAndVolume(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	cl, err := kube.NewClients(c.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := "migrate-" + rand.String(5)
	ns := Namespace(name)
	oldChart := versionLabelledChart(t)
	oldEngine, _ := migrateEngine(t, cl, func() (*chart.Chart, error) { return oldChart, nil })
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := oldEngine.Delete(ctx, name, DeleteOptions{Wait: true, Timeout: 3 * time.Minute, IgnoreNotFound: true}); err != nil {
			t.Errorf("cleanup delete %s: %v", name, err)
		}
	})
	if _, err := oldEngine.Create(ctx, CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute}); err != nil {
		t.Fatalf("create with the old chart: %v", err)
	}

	k := cl.Interface
	stsName, podName, claimName := name+"-mariadb", name+"-mariadb-0", "data-"+name+"-mariadb-0"
	oldSts, err := k.AppsV1().StatefulSets(ns).Get(ctx, stsName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if oldSts.Spec.VolumeClaimTemplates[0].Labels["helm.sh/chart"] == "" {
		t.Fatalf("the old chart's claim template has no chart label: %v", oldSts.Spec.VolumeClaimTemplates[0].Labels)
	}
	claim, err := k.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claimName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := k.CoreV1().PersistentVolumes().Get(ctx, claim.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the claim's volume %q: %v", claim.Spec.VolumeName, err)
	}

	newEngine, newRel := migrateEngine(t, cl, func() (*chart.Chart, error) { return bumpedChart(t), nil })
	manifest := renderManifest(t, newEngine, bumpedChart(t), name, nil)
	refusedWithoutMigration(ctx, t, k.AppsV1().StatefulSets(ns), oldSts, renderedStatefulSet(t, manifest, name))

	migrated, err := newEngine.migrateImmutable(ctx, name, manifest)
	if err != nil || strings.Join(migrated, ",") != "StatefulSet/"+stsName {
		t.Fatalf("migrateImmutable = %v, %v; want the StatefulSet", migrated, err)
	}
	// The database keeps running without its StatefulSet.
	orphan, err := k.CoreV1().Pods(ns).Get(ctx, podName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the database pod is gone after the orphaning delete: %v", err)
	}
	if ctrl := metav1.GetControllerOf(orphan); ctrl != nil {
		t.Errorf("the database pod is still owned by %s %s", ctrl.Kind, ctrl.UID)
	}

	vals, err := newEngine.values(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newRel.Upgrade(ctx, release.ApplyOptions{Name: name, Namespace: ns, Values: vals, Timeout: 3 * time.Minute}); err != nil {
		t.Fatalf("upgrade to the bumped chart: %v", err)
	}
	newSts := waitAdopted(ctx, t, cl, ns, stsName, podName, oldSts.UID)
	if got := newSts.Labels["helm.sh/chart"]; got != "woocommerce-99.1.0" {
		t.Errorf("re-created StatefulSet has chart label %q", got)
	}

	gotClaim, err := k.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claimName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gotPV, err := k.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the volume is gone: %v", err)
	}
	if gotClaim.UID != claim.UID || gotClaim.Spec.VolumeName != pv.Name || gotClaim.Status.Phase != corev1.ClaimBound {
		t.Errorf("claim after the upgrade: uid %s (was %s), volume %s (was %s), phase %s",
			gotClaim.UID, claim.UID, gotClaim.Spec.VolumeName, pv.Name, gotClaim.Status.Phase)
	}
	if gotPV.UID != pv.UID || gotPV.Status.Phase != corev1.VolumeBound || gotPV.Spec.ClaimRef == nil || gotPV.Spec.ClaimRef.UID != claim.UID {
		t.Errorf("volume after the upgrade: uid %s (was %s), phase %s, claimRef %+v", gotPV.UID, pv.UID, gotPV.Status.Phase, gotPV.Spec.ClaimRef)
	}
	again, err := newEngine.migrateImmutable(ctx, name, manifest)
	if err != nil || len(again) != 0 {
		t.Errorf("after the upgrade migrateImmutable = %v, %v; want nothing to do", again, err)
	}
}

type statefulSets interface {
	Update(ctx context.Context, s *appsv1.StatefulSet, o metav1.UpdateOptions) (*appsv1.StatefulSet, error)
}

// refusedWithoutMigration asks the API server, in a dry run, to take the new claim template
// over the old StatefulSet, and checks that it refuses: what an upgrade without the migration
// would meet.
func refusedWithoutMigration(ctx context.Context, t *testing.T, c statefulSets, live, rendered *appsv1.StatefulSet) {
	t.Helper()
	next := live.DeepCopy()
	next.Spec.VolumeClaimTemplates = rendered.Spec.VolumeClaimTemplates
	_, err := c.Update(ctx, next, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "volumeClaimTemplates") {
		t.Fatalf("dry-run update with the new claim template: %v, want it refused as invalid", err)
	}
}

// waitAdopted waits until a StatefulSet other than the old one exists and controls the pod.
func waitAdopted(ctx context.Context, t *testing.T, cl *kube.Clients, ns, stsName, podName string, oldUID types.UID) *appsv1.StatefulSet {
	t.Helper()
	var sts *appsv1.StatefulSet
	var last string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		s, err := cl.Interface.AppsV1().StatefulSets(ns).Get(ctx, stsName, metav1.GetOptions{})
		if err != nil || s.UID == oldUID {
			last = "no new StatefulSet yet"
			return false, nil
		}
		p, err := cl.Interface.CoreV1().Pods(ns).Get(ctx, podName, metav1.GetOptions{})
		if err != nil {
			last = "no database pod: " + err.Error()
			return false, nil
		}
		ctrl := metav1.GetControllerOf(p)
		if ctrl == nil || ctrl.UID != s.UID {
			last = "the database pod is not owned by the new StatefulSet"
			return false, nil
		}
		sts = s
		return true, nil
	})
	if err != nil {
		t.Fatalf("waiting for the new StatefulSet to own %s: %v (%s)", podName, err, last)
	}
	return sts
}
