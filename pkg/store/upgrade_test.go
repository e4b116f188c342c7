package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storectl/storectl/pkg/release"
)

// rerunSetup plays the setup Job of revision rev: once the release reaches it, the Job of
// the earlier revision is deleted and the revision's own completes, as Helm and the Job
// controller would.
func (env *testEnv) rerunSetup(ctx context.Context, name string, rev int) {
	go func() {
		ns := Namespace(name)
		for ctx.Err() == nil {
			if r, err := env.rel.Get(ctx, ns, name); err == nil && r.Revision >= rev {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		c := context.Background()
		// Helm deletes the earlier revision's Job; the new revision's runs.
		_ = env.kube.BatchV1().Jobs(ns).Delete(c, SetupJobName(name, rev-1), metav1.DeleteOptions{})
		j := jobOf(name, rev, time.Now().Add(time.Second), batchv1.JobComplete, "", "")
		j.UID = types.UID(fmt.Sprintf("setup-%d", rev))
		_, _ = env.kube.BatchV1().Jobs(ns).Create(c, j, metav1.CreateOptions{})
	}()
}

// readyStore creates store name, Ready at revision 1, with values.
func readyStore(t *testing.T, name string, values map[string]any) (*testEnv, context.Context) {
	t.Helper()
	env := newEnv(t, Settings{Domain: "example.test", Profile: "local"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	env.simulate(ctx, name, true, nil)
	if _, err := env.e.Create(ctx, CreateOptions{Name: name, Values: values, Wait: true, Timeout: 20 * time.Second}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return env, ctx
}

func userValues(t *testing.T, env *testEnv, ctx context.Context, name string, rev int) map[string]any {
	t.Helper()
	in, ok, err := env.e.recordedInputs(ctx, name, rev)
	if err != nil || !ok {
		t.Fatalf("recorded inputs of revision %d: %v %v", rev, ok, err)
	}
	return in.Values
}

func TestUpgradeKeepsValuesAndHistoryShowsBoth(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 5}})
	env.rerunSetup(ctx, "shop", 2)
	res, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Timeout: 20 * time.Second,
		Values: map[string]any{"wordpress": map[string]any{"podAnnotations": map[string]any{"team": "blue"}}}})
	if err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	if res.RevisionBefore != 1 || res.RevisionAfter != 2 || res.Store == nil || res.Store.Phase != PhaseReady {
		t.Fatalf("result = %+v", res)
	}
	wp := userValues(t, env, ctx, "shop", 2)["wordpress"].(map[string]any)
	if wp["maxRequestWorkers"] != float64(5) || wp["podAnnotations"].(map[string]any)["team"] != "blue" {
		t.Errorf("revision 2 user values = %v, want the create's value kept and the new one added", wp)
	}
	hist, err := env.e.History(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Operation != OperationInstall || hist[1].Operation != OperationUpgrade ||
		hist[1].Status != release.StatusDeployed || hist[0].Status != release.StatusSuperseded || hist[1].Versions.WordPress == "" {
		t.Errorf("history = %+v", hist)
	}

	// The same upgrade again changes nothing and makes no revision.
	again, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Timeout: 20 * time.Second})
	if err != nil || !again.Unchanged {
		t.Fatalf("second upgrade = %+v, %v; want unchanged", again, err)
	}
	if r, _ := env.rel.Get(ctx, "store-shop", "shop"); r.Revision != 2 {
		t.Errorf("revision %d after an upgrade with nothing to change", r.Revision)
	}
}

func TestUpgradeResetValuesDropsKeptValues(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 5}})
	env.rerunSetup(ctx, "shop", 2)
	if _, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", ResetValues: true, Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if v := userValues(t, env, ctx, "shop", 2); len(v) != 0 {
		t.Errorf("user values after --reset-values = %v", v)
	}
}

func TestUpgradeRefusesDowngradeBeforeAnyChange(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", nil)
	for _, tt := range []struct {
		name string
		want Versions
		comp string
	}{
		{"mariadb", Versions{MariaDB: "10.11"}, VersionMariaDB},
		{"wordpress", Versions{WordPress: "6.8"}, VersionWordPress},
		{"woocommerce", Versions{WooCommerce: "9.0.0"}, VersionWooCommerce},
	} {
		_, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Versions: tt.want, Timeout: 10 * time.Second})
		var se *Error
		if !errors.Is(err, ErrRefused) || !errors.As(err, &se) || se.Reason != ReasonDowngrade || se.Component != tt.comp {
			t.Errorf("%s: err = %v, want a refused downgrade of %s", tt.name, err, tt.comp)
		}
		if r, _ := env.rel.Get(ctx, "store-shop", "shop"); r.Revision != 1 {
			t.Errorf("%s: a refused upgrade made revision %d", tt.name, r.Revision)
		}
	}
	env.rerunSetup(ctx, "shop", 2)
	res, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Versions: Versions{MariaDB: "10.11"}, Force: true, Timeout: 20 * time.Second})
	if err != nil || res.VersionsAfter.MariaDB != "10.11" || res.VersionsBefore.MariaDB != "11.8" {
		t.Errorf("forced downgrade = %+v, %v", res, err)
	}
}

func TestUpgradeRefusesStoreNotReady(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", nil)
	p, err := env.kube.CoreV1().Pods("store-shop").Get(ctx, "shop-wordpress-abc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Conditions[1].Status = "False"
	p.Status.ContainerStatuses[0].Ready = false
	if _, err := env.kube.CoreV1().Pods("store-shop").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.kube.AppsV1().Deployments("store-shop").UpdateStatus(ctx, deploy("shop", 0), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Values: map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 4}}, Timeout: 10 * time.Second})
	var se *Error
	if !errors.Is(err, ErrRefused) || !errors.As(err, &se) || se.Reason != ReasonNotReady {
		t.Fatalf("err = %v, want a refusal of a store that is not Ready", err)
	}
	if r, _ := env.rel.Get(ctx, "store-shop", "shop"); r.Revision != 1 {
		t.Errorf("a refused upgrade made revision %d", r.Revision)
	}
}

// An upgrade asking for what the latest, deployed revision already is, on a store not Ready
// yet (the process that made the revision ended before the store was), is not refused: it
// watches the store to Ready and makes no revision.
func TestUnchangedUpgradeFinishesAStoreNotReady(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", nil)
	pods := env.kube.CoreV1().Pods("store-shop")
	p, err := pods.Get(ctx, "shop-wordpress-abc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := p.DeepCopy()
	p.Status.Conditions[1].Status = "False"
	p.Status.ContainerStatuses[0].Ready = false
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.kube.AppsV1().Deployments("store-shop").UpdateStatus(ctx, deploy("shop", 0), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(500*time.Millisecond, func() {
		cur, err := pods.Get(context.Background(), "shop-wordpress-abc", metav1.GetOptions{})
		if err != nil {
			return
		}
		cur.Status = ready.Status
		_, _ = pods.UpdateStatus(context.Background(), cur, metav1.UpdateOptions{})
		_, _ = env.kube.AppsV1().Deployments("store-shop").UpdateStatus(context.Background(), deploy("shop", 1), metav1.UpdateOptions{})
	})
	res, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Upgrade: %v, want it to wait for the store", err)
	}
	if !res.Unchanged || res.Store == nil || res.Store.Phase != PhaseReady {
		t.Errorf("result %+v, want unchanged and the store Ready", res)
	}
	if r, _ := env.rel.Get(ctx, "store-shop", "shop"); r.Revision != 1 {
		t.Errorf("an unchanged upgrade made revision %d", r.Revision)
	}
}

func TestUpgradeDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", nil)
	res, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", DryRun: true, Versions: Versions{WordPress: "7.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.VersionsBefore.WordPress != "7.1" || res.VersionsAfter.WordPress != "7.2" {
		t.Errorf("versions %+v → %+v", res.VersionsBefore, res.VersionsAfter)
	}
	var dep *ObjectChange
	for i := range res.Changes {
		if res.Changes[i].Object == "Deployment/shop-wordpress" {
			dep = &res.Changes[i]
		}
	}
	if dep == nil || !strings.Contains(dep.Diff, "+ ") || !strings.Contains(dep.Diff, "7.2-php8.3-apache") {
		t.Errorf("changes = %+v, want the WordPress Deployment's image changed", res.Changes)
	}
	if r, _ := env.rel.Get(ctx, "store-shop", "shop"); r.Revision != 1 {
		t.Errorf("a dry run made revision %d", r.Revision)
	}
}

func TestRollbackReturnsValuesAndRefusesDowngrade(t *testing.T) {
	t.Parallel()
	env, ctx := readyStore(t, "shop", map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 5}})
	env.rerunSetup(ctx, "shop", 2)
	if _, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Timeout: 20 * time.Second,
		Values: map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 7}}}); err != nil {
		t.Fatal(err)
	}
	env.rerunSetup(ctx, "shop", 3)
	res, err := env.e.Rollback(ctx, RollbackOptions{Name: "shop", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if res.Source != 1 || res.RevisionAfter != 3 {
		t.Errorf("rollback result = %+v", res)
	}
	if wp := userValues(t, env, ctx, "shop", 3)["wordpress"].(map[string]any); wp["maxRequestWorkers"] != float64(5) {
		t.Errorf("values after rollback = %v, want revision 1's", wp)
	}
	hist, _ := env.e.History(ctx, "shop")
	if last := hist[len(hist)-1]; last.Operation != OperationRollback || last.Source != 1 {
		t.Errorf("history's last entry = %+v", last)
	}

	// Moving WooCommerce forward, then rolling back to before it, is refused.
	env.rerunSetup(ctx, "shop", 4)
	if _, err := env.e.Upgrade(ctx, UpgradeOptions{Name: "shop", Versions: Versions{WooCommerce: "99.0.0"}, Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	_, err = env.e.Rollback(ctx, RollbackOptions{Name: "shop", Timeout: 10 * time.Second})
	var se *Error
	if !errors.Is(err, ErrRefused) || !errors.As(err, &se) || se.Reason != ReasonDowngrade || se.Component != VersionWooCommerce {
		t.Errorf("rollback below WooCommerce 99.0.0: %v", err)
	}
	if _, err := env.e.Rollback(ctx, RollbackOptions{Name: "shop", Revision: 42}); !errors.Is(err, ErrNotFound) {
		t.Errorf("rollback to a revision not kept: %v", err)
	}
}

func TestVersionsAndDiff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		cmp  int
		ok   bool
	}{{"11.8", "11.8.0", 0, true}, {"7.1", "7.10", -1, true}, {"10.11", "11.8", -1, true}, {"latest", "11.8", 0, false}} {
		if c, ok := compareVersions(tt.a, tt.b); c != tt.cmp || ok != tt.ok {
			t.Errorf("compare(%s, %s) = %d %v", tt.a, tt.b, c, ok)
		}
	}
	if tagVersion("7.1-php8.3-apache") != "7.1" || tagVersion("latest") != "" {
		t.Error("tagVersion")
	}
	ch := diffManifests("kind: A\nmetadata:\n  name: x\nspec: 1\n---\nkind: B\nmetadata:\n  name: y\n",
		"kind: A\nmetadata:\n  name: x\nspec: 2\n---\nkind: C\nmetadata:\n  name: z\n")
	if len(ch) != 3 || ch[0].Object != "A/x" || ch[0].Change != ChangeChanged || !strings.Contains(ch[0].Diff, "- spec: 1\n+ spec: 2") ||
		ch[1].Change != ChangeRemoved || ch[2].Change != ChangeAdded {
		t.Errorf("diff = %+v", ch)
	}
}
