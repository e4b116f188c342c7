package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/release/releasetest"
)

type testEnv struct {
	t    *testing.T
	kube *fake.Clientset
	rel  *release.Helm
	e    *Engine
}

func newEnv(t *testing.T, s Settings, objs ...runtime.Object) *testEnv {
	t.Helper()
	kc := fake.NewClientset(objs...)
	rel := releasetest.NewMemory(nil, nil)
	e, err := New(Options{Kube: kc, Releases: rel, Settings: s, LockLease: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, kube: kc, rel: rel, e: e}
}

// simulate plays the cluster's controllers for store name: once the release
// exists it creates the workloads, pods, setup Job and Ingress in the state
// podState returns, as a real cluster would after an install.
func (env *testEnv) simulate(ctx context.Context, name string, ready bool, mutate func(*corev1.Pod)) {
	go func() {
		ns := Namespace(name)
		for ctx.Err() == nil {
			if _, err := env.rel.Get(ctx, ns, name); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ctx.Err() != nil {
			return
		}
		var r int32
		if ready {
			r = 1
		}
		c := context.Background()
		db := pod(name, ComponentDatabase, name+"-mariadb-0", ready)
		wp := pod(name, ComponentWordPress, name+"-wordpress-abc", ready)
		db.CreationTimestamp, wp.CreationTimestamp = metav1.Now(), metav1.Now()
		if mutate != nil {
			mutate(wp)
		}
		_, _ = env.kube.CoreV1().Pods(ns).Create(c, db, metav1.CreateOptions{})
		_, _ = env.kube.CoreV1().Pods(ns).Create(c, wp, metav1.CreateOptions{})
		_, _ = env.kube.AppsV1().StatefulSets(ns).Create(c, sts(name, r), metav1.CreateOptions{})
		_, _ = env.kube.AppsV1().Deployments(ns).Create(c, deploy(name, r), metav1.CreateOptions{})
		_, _ = env.kube.NetworkingV1().Ingresses(ns).Create(c, ingress(name), metav1.CreateOptions{})
		if ready {
			_, _ = env.kube.BatchV1().Jobs(ns).Create(c, job(name, time.Now().Add(time.Second), batchv1.JobComplete, "", ""), metav1.CreateOptions{})
		}
	}()
}

func TestCreateConvergesToReady(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{Domain: "example.test", Profile: "local", MaxStores: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.simulate(ctx, "shop", true, nil)

	var mu sync.Mutex
	var progress []Progress
	st, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: 20 * time.Second,
		OnProgress: func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if st.Phase != PhaseReady || st.URL != "http://shop.example.test/" || st.AdminURL != "http://shop.example.test/wp-admin/" || st.ReadyPods != 2 {
		t.Errorf("store = %+v", st)
	}
	if st.Revision != 1 || st.ReleaseStatus != release.StatusDeployed || st.ChartVersion == "" {
		t.Errorf("release fields = rev %d status %q chart %q", st.Revision, st.ReleaseStatus, st.ChartVersion)
	}
	done := map[string]bool{}
	for _, p := range progress {
		if p.State == ProgressDone {
			done[p.Step] = true
		}
	}
	for _, step := range []string{ComponentNamespace, ComponentDatabase, ComponentWordPress, ComponentSetup, ComponentIngress} {
		if !done[step] {
			t.Errorf("no done progress for step %s in %+v", step, progress)
		}
	}

	ns, err := env.kube.CoreV1().Namespaces().Get(ctx, "store-shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{LabelManagedBy: ManagedBy, LabelStore: "shop", LabelType: TypeWooCommerce,
		"pod-security.kubernetes.io/enforce": "restricted"} {
		if ns.Labels[k] != v {
			t.Errorf("namespace label %s = %q, want %q", k, ns.Labels[k], v)
		}
	}
	sec, err := env.kube.CoreV1().Secrets("store-shop").Get(ctx, "shop-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range []string{KeyRootPassword, KeyDBPassword, KeyAdminPassword} {
		p := string(sec.Data[k])
		if len(p) != 24 || seen[p] {
			t.Errorf("password %s has length %d or repeats another", k, len(p))
		}
		seen[p] = true
	}
	creds, err := env.e.Credentials(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if creds.Password != string(sec.Data[KeyAdminPassword]) || creds.User != AdminUser {
		t.Errorf("credentials do not match the secret")
	}
	// The lock is released when Create returns.
	l, err := env.kube.CoordinationV1().Leases("store-shop").Get(ctx, StoreLockName, metav1.GetOptions{})
	if err != nil || ptr.Deref(l.Spec.HolderIdentity, "") != "" {
		t.Errorf("store lock after create = %+v, %v; want released", l, err)
	}

	// A second create of the Ready store changes nothing.
	again, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: 5 * time.Second})
	if !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second Create error = %v, want ErrAlreadyExists", err)
	}
	if again == nil || again.Phase != PhaseReady || again.Revision != 1 {
		t.Errorf("second Create store = %+v, want Ready at revision 1", again)
	}
	sec2, _ := env.kube.CoreV1().Secrets("store-shop").Get(ctx, "shop-credentials", metav1.GetOptions{})
	if string(sec2.Data[KeyAdminPassword]) != string(sec.Data[KeyAdminPassword]) {
		t.Errorf("second create changed the password")
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	other := storeNS("other")
	other.Labels[LabelType] = "shopify"
	now := metav1.Now()
	gone := storeNS("gone")
	gone.DeletionTimestamp = &now
	gone.Status.Phase = corev1.NamespaceTerminating
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "store-foreign"}}

	tests := []struct {
		name     string
		opts     CreateOptions
		want     error
		msg      string
		noAPICal bool
	}{
		{"invalid name", CreateOptions{Name: "Bad_Name"}, ErrInvalidName, "lowercase letters", true},
		{"unknown type", CreateOptions{Name: "shop", Type: "magento"}, ErrUnknownType, "magento", true},
		{"secret in values", CreateOptions{Name: "shop", Values: map[string]any{"mariadb": map[string]any{"rootPassword": "x"}}}, ErrInvalidValues, "mariadb.rootPassword", true},
		{"values outside the chart schema", CreateOptions{Name: "shop", Values: map[string]any{"wordpress": map[string]any{"replicaCount": 2}}}, ErrInvalidValues, "replicaCount", true},
		{"another store's host name", CreateOptions{Name: "shop", Values: map[string]any{"store": map[string]any{"name": "other"}}}, ErrInvalidValues, "store.name", true},
		{"isolation removed", CreateOptions{Name: "shop", Values: map[string]any{"limitRange": map[string]any{"enabled": false}}}, ErrInvalidValues, "limitRange.enabled", true},
		{"a NUL in the title", CreateOptions{Name: "shop", Values: map[string]any{"store": map[string]any{"title": "a\x00b"}}}, ErrInvalidValues, "store.title", true},
		{"type mismatch", CreateOptions{Name: "other"}, ErrTypeMismatch, "shopify", false},
		{"terminating", CreateOptions{Name: "gone"}, ErrTerminating, "still terminating", false},
		{"namespace not ours", CreateOptions{Name: "foreign"}, ErrAlreadyExists, "not created by storectl", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, Settings{}, other.DeepCopy(), gone.DeepCopy(), foreign.DeepCopy())
			env.kube.ClearActions()
			_, err := env.e.Create(context.Background(), CreateOptions{Name: tt.opts.Name, Type: tt.opts.Type, Values: tt.opts.Values, Wait: true, Timeout: 2 * time.Second})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
			if tt.noAPICal && len(env.kube.Actions()) != 0 {
				t.Errorf("%d API calls before refusing: %v", len(env.kube.Actions()), env.kube.Actions())
			}
			for _, a := range env.kube.Actions() {
				if a.GetVerb() == "create" && a.GetResource().Resource == "secrets" {
					t.Errorf("refused create still created a secret")
				}
			}
		})
	}
}

func TestCreateLimit(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{MaxStores: 2}, storeNS("a1"), storeNS("a2"))
	_, err := env.e.Create(context.Background(), CreateOptions{Name: "a3", Wait: false})
	if !errors.Is(err, ErrLimitReached) {
		t.Fatalf("err = %v, want ErrLimitReached", err)
	}
	if !strings.Contains(err.Error(), "maximum is 2") {
		t.Errorf("message %q does not give the limit", err)
	}
	if _, err := env.kube.CoreV1().Namespaces().Get(context.Background(), "store-a3", metav1.GetOptions{}); err == nil {
		t.Errorf("namespace store-a3 was created beyond the limit")
	}
	// A store being deleted does not count.
	now := metav1.Now()
	n, _ := env.kube.CoreV1().Namespaces().Get(context.Background(), "store-a1", metav1.GetOptions{})
	n.DeletionTimestamp = &now
	n.Status.Phase = corev1.NamespaceTerminating
	_, _ = env.kube.CoreV1().Namespaces().Update(context.Background(), n, metav1.UpdateOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := env.e.Create(ctx, CreateOptions{Name: "a3", Wait: false}); err != nil {
		t.Fatalf("create with a terminating store under the limit: %v", err)
	}
}

func TestCreateBusy(t *testing.T) {
	t.Parallel()
	future := metav1.NewMicroTime(time.Now().Add(time.Hour))
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: StoreLockName, Namespace: "store-shop"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("other-host/1/abc"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &future}}
	env := newEnv(t, Settings{}, storeNS("shop"), lease)
	_, err := env.e.Create(context.Background(), CreateOptions{Name: "shop", Wait: true, Timeout: 10 * time.Second})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	var se *Error
	if !strings.Contains(err.Error(), "other-host/1/abc") || !errors.As(err, &se) || se.Reason != ReasonLocked {
		t.Errorf("message %q does not name the holder, or the reason is not %s", err, ReasonLocked)
	}
	if _, err := env.rel.Get(context.Background(), "store-shop", "shop"); !errors.Is(err, release.ErrNotFound) {
		t.Errorf("a busy create touched the release: %v", err)
	}
}

func TestCreateTakesOverExpiredLock(t *testing.T) {
	t.Parallel()
	past := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: StoreLockName, Namespace: "store-shop"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("dead/1/abc"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &past}}
	env := newEnv(t, Settings{}, storeNS("shop"), lease)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	env.simulate(ctx, "shop", true, nil)
	st, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: 15 * time.Second})
	if err != nil {
		t.Fatalf("resume after a dead holder: %v", err)
	}
	if st.Phase != PhaseReady {
		t.Errorf("phase = %s", st.Phase)
	}
}

func TestCreateFailsFast(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.simulate(ctx, "shop", false, func(p *corev1.Pod) { waiting(p, "CrashLoopBackOff", 4) })
	start := time.Now()
	_, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: 20 * time.Second})
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("failure took %s, want it within seconds", time.Since(start))
	}
	var se *Error
	if !errors.As(err, &se) || se.Component != ComponentWordPress || se.Reason != "CrashLoopBackOff" || se.Pod == "" || se.Container == "" {
		t.Fatalf("error details = %+v", se)
	}
}

func TestCreateTimeoutReportsLastState(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.simulate(ctx, "shop", false, nil)
	_, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: 4 * time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	var se *Error
	if !errors.As(err, &se) || len(se.Components) != 5 {
		t.Fatalf("timeout error carries no component states: %+v", se)
	}
	if !strings.Contains(se.Message, "database progressing") {
		t.Errorf("timeout message %q lacks the last state of the database", se.Message)
	}
}

func TestCreateInterruptedPromptly(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{})
	ctx, cancel := context.WithCancel(context.Background())
	env.simulate(ctx, "shop", false, nil)
	go func() { time.Sleep(500 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: time.Minute})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("returned %s after start, want within 2s of the cancel", d)
	}
	if se := (*Error)(nil); !errors.As(err, &se) || se.Reason != ReasonInterrupted || se.Store != "shop" {
		t.Errorf("error %q lacks the store and the reason %s", err, ReasonInterrupted)
	}
}

// helmRecord is a Secret labelled as Helm's secret driver labels a release
// record, whose payload is not a release: List must not need to decode it.
func helmRecord(ns, name string, version int, status string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version), Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": name, "version": fmt.Sprint(version), "status": status}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte("not a release record")},
	}
}

// List reads a fixed set of resources however many stores exist, and takes
// the release revision and status from the records' labels: it decodes no
// record and reads no Secret (the records here would not decode), nor any
// record outside the store namespaces.
func TestListCallsDoNotGrowWithStores(t *testing.T) {
	t.Parallel()
	calls := func(n int) int {
		objs := []runtime.Object{helmRecord("other", "x", 1, "deployed")}
		for i := range n {
			name := "s" + string(rune('a'+i))
			d := deploy(name, 1)
			d.Labels["helm.sh/chart"], d.Labels["app.kubernetes.io/version"] = "woocommerce-0.4.1", "6.8"
			objs = append(objs, storeNS(name), sts(name, 1), d, pod(name, ComponentDatabase, name+"-mariadb-0", true),
				pod(name, ComponentWordPress, name+"-wordpress-x", true), jobOf(name, 2, t0, batchv1.JobComplete, "", ""),
				helmRecord(Namespace(name), name, 1, "superseded"), helmRecord(Namespace(name), name, 2, "deployed"))
		}
		kc := fake.NewClientset(objs...)
		scheme := metadatafake.NewTestScheme()
		if err := metav1.AddMetaToScheme(scheme); err != nil {
			t.Fatal(err)
		}
		var metas []runtime.Object
		for _, o := range objs {
			if sec, ok := o.(*corev1.Secret); ok {
				metas = append(metas, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: sec.ObjectMeta})
			}
		}
		mc := metadatafake.NewSimpleMetadataClient(scheme, metas...)
		rel, err := release.NewHelm(release.HelmOptions{Client: kc, Metadata: mc,
			Getter: kube.NewGetter(&rest.Config{Host: "https://127.0.0.1:1"}, nil)})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Options{Kube: kc, Releases: rel})
		if err != nil {
			t.Fatal(err)
		}
		kc.ClearActions()
		list, err := e.List(context.Background(), ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n {
			t.Fatalf("listed %d stores, want %d", len(list), n)
		}
		for _, s := range list {
			if s.TotalPods != 2 || s.ReadyPods != 2 || s.Phase != PhaseReady {
				t.Errorf("store %s %s pods %d/%d, want Ready 2/2", s.Name, s.Phase, s.ReadyPods, s.TotalPods)
			}
			if s.Revision != 2 || s.ReleaseStatus != release.StatusDeployed || s.Chart != "woocommerce" || s.ChartVersion != "0.4.1" || s.AppVersion != "6.8" {
				t.Errorf("store %s release %d %s chart %s %s %s, want revision 2 deployed of woocommerce 0.4.1 (6.8)",
					s.Name, s.Revision, s.ReleaseStatus, s.Chart, s.ChartVersion, s.AppVersion)
			}
		}
		for _, a := range kc.Actions() {
			if a.GetResource().Resource == "secrets" {
				t.Errorf("List read Secrets: %v", a)
			}
		}
		for _, a := range mc.Actions() {
			if a.GetNamespace() != metav1.NamespaceAll {
				t.Errorf("List read release labels per namespace: %v", a)
			}
		}
		return len(kc.Actions()) + len(mc.Actions())
	}
	one, twenty := calls(1), calls(20)
	if one != twenty {
		t.Errorf("List made %d API calls for 1 store and %d for 20", one, twenty)
	}
	if one > 8 {
		t.Errorf("List made %d API calls, want a small fixed number", one)
	}
}

func TestGetAndDelete(t *testing.T) {
	t.Parallel()
	name := "shop"
	ev := warning(name, "Pod", "shop-wordpress-abc", "BackOff", "Back-off restarting failed container", time.Now())
	env := newEnv(t, Settings{Domain: "example.test", TLSClusterIssuer: "letsencrypt"}, storeNS(name), sts(name, 1), deploy(name, 0), ev,
		pod(name, ComponentDatabase, "shop-mariadb-0", true), pod(name, ComponentWordPress, "shop-wordpress-abc", false))
	ctx := context.Background()
	st, err := env.e.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != PhaseProvisioning || st.URL != "https://shop.example.test/" || len(st.Events) != 1 || st.Events[0].Reason != "BackOff" {
		t.Errorf("Get = %+v", st)
	}
	if _, err := env.e.Get(ctx, "nothere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing = %v, want ErrNotFound", err)
	}

	var steps []string
	waiting := 0
	err = env.e.Delete(ctx, name, DeleteOptions{Wait: true, Timeout: 10 * time.Second, OnProgress: func(p Progress) { steps = append(steps, p.Step+":"+p.State) },
		OnWaiting: func() {
			waiting++
			// Only the wait is left: the release is uninstalled and the namespace deletion requested.
			if !slices.Contains(steps, StepUninstall+":"+ProgressDone) || !deleteRequested(env.kube, "store-shop") {
				t.Errorf("OnWaiting before the uninstall and the namespace deletion (steps %v)", steps)
			}
		}})
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if waiting != 1 {
		t.Errorf("OnWaiting called %d times, want once", waiting)
	}
	if _, err := env.kube.CoreV1().Namespaces().Get(ctx, "store-shop", metav1.GetOptions{}); err == nil {
		t.Errorf("namespace still exists after delete")
	}
	if !strings.Contains(strings.Join(steps, " "), "namespace-deletion:done") {
		t.Errorf("progress %v lacks namespace-deletion done", steps)
	}
	if err := env.e.Delete(ctx, name, DeleteOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if err := env.e.Delete(ctx, name, DeleteOptions{IgnoreNotFound: true}); err != nil {
		t.Errorf("delete --ignore-not-found = %v", err)
	}
}

func TestValuesLayering(t *testing.T) {
	t.Parallel()
	e, err := New(Options{Kube: fake.NewClientset(), Releases: releasetest.NewMemory(nil, nil),
		Settings: Settings{Domain: "d.test", IngressClass: "traefik", StorageClass: "fast", ImagePullPolicy: "Always", Profile: "prod",
			TLSClusterIssuer: "le", IngressControllerNamespace: "kube-system", IngressControllerPodLabels: map[string]string{"app": "traefik"}},
		Preset: func(string) (map[string]any, error) {
			return map[string]any{"ingress": map[string]any{"className": "preset", "annotations": map[string]any{"a": "b"}}, "image": map[string]any{"pullPolicy": "Never"}}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.values("shop", map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 4}})
	if err != nil {
		t.Fatal(err)
	}
	ing := v["ingress"].(map[string]any)
	if ing["className"] != "traefik" || ing["annotations"].(map[string]any)["a"] != "b" {
		t.Errorf("ingress = %v: settings must override the preset and keep its other keys", ing)
	}
	if v["wordpress"].(map[string]any)["maxRequestWorkers"] != 4 {
		t.Errorf("user values must win over the preset: %v", v["wordpress"])
	}
	if v["image"].(map[string]any)["pullPolicy"] != "Always" {
		t.Errorf("the pull policy setting must win over the preset: %v", v["image"])
	}
	// What the settings decide is not the user's to change: it is refused, never dropped.
	for _, user := range []map[string]any{
		{"image": map[string]any{"pullPolicy": "IfNotPresent"}},
		{"store": map[string]any{"name": "other"}},
		{"credentials": map[string]any{"existingSecret": "other-credentials"}},
		{"quota": map[string]any{"enabled": false}},
	} {
		if _, err := e.values("shop", user); !errors.Is(err, ErrInvalidValues) {
			t.Errorf("values(%v) = %v, want ErrInvalidValues", user, err)
		}
	}
	// An operator's opt-in opens an isolation value, and only that one.
	e.settings.TenantIsolationOverrides = []string{"quota"}
	v, err = e.values("shop", map[string]any{"quota": map[string]any{"enabled": false}})
	if err != nil || v["quota"].(map[string]any)["enabled"] != false {
		t.Errorf("quota opened by the operator: %v, %v", err, v["quota"])
	}
	if _, err := e.values("shop", map[string]any{"limitRange": map[string]any{"enabled": false}}); !errors.Is(err, ErrInvalidValues) {
		t.Errorf("limitRange was not opened, got %v", err)
	}
	if v["credentials"].(map[string]any)["existingSecret"] != "shop-credentials" || v["store"].(map[string]any)["domain"] != "d.test" {
		t.Errorf("settings values missing: %v", v)
	}
	if ing["tls"].(map[string]any)["clusterIssuer"] != "le" || ing["controller"].(map[string]any)["namespace"] != "kube-system" {
		t.Errorf("tls/controller values missing: %v", ing)
	}
}

// pendingManager reports a release left pending-install by a dead process
// until Finalize records it.
type pendingManager struct {
	Releases
	mu        sync.Mutex
	finalized bool
}

func (m *pendingManager) Get(context.Context, string, string) (*release.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := release.StatusPendingInstall
	if m.finalized {
		st = release.StatusDeployed
	}
	return &release.Release{Name: "shop", Namespace: "store-shop", Revision: 1, Status: st, LastDeployed: t0}, nil
}

func (m *pendingManager) Finalize(context.Context, string, string, string) (*release.Release, error) {
	m.mu.Lock()
	m.finalized = true
	m.mu.Unlock()
	return m.Get(context.Background(), "", "")
}

func TestWaitFinalizesReleaseOfDeadProcess(t *testing.T) {
	t.Parallel()
	name := "shop"
	kc := fake.NewClientset(storeNS(name), sts(name, 1), deploy(name, 1), job(name, t0.Add(time.Minute), batchv1.JobComplete, "", ""),
		pod(name, ComponentDatabase, "shop-mariadb-0", true), pod(name, ComponentWordPress, "shop-wordpress-x", true), ingress(name))
	m := &pendingManager{}
	e, err := New(Options{Kube: kc, Releases: m, LockLease: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before, err := e.Get(ctx, name)
	// The store works, so Get reads it Ready, while saying that its release
	// record is still pending.
	if err != nil || before.Phase != PhaseReady || before.ReleaseStatus != release.StatusPendingInstall ||
		!strings.Contains(before.Message, "still recorded as pending-install") {
		t.Fatalf("get before = %+v, %v; want Ready with the release still pending-install", before, err)
	}
	st, err := e.Wait(ctx, name, WaitOptions{For: "ready", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if st.Phase != PhaseReady || st.ReleaseStatus != release.StatusDeployed || !m.finalized {
		t.Errorf("after wait = %+v (finalized %v)", st, m.finalized)
	}
}

func TestWaitRefusesFinalizeWhileHolderLives(t *testing.T) {
	t.Parallel()
	name := "shop"
	future := metav1.NewMicroTime(time.Now().Add(time.Hour))
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: StoreLockName, Namespace: "store-shop"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("alive/1/x"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &future}}
	kc := fake.NewClientset(storeNS(name), lease, sts(name, 1), deploy(name, 1), job(name, t0.Add(time.Minute), batchv1.JobComplete, "", ""),
		pod(name, ComponentDatabase, "shop-mariadb-0", true), pod(name, ComponentWordPress, "shop-wordpress-x", true), ingress(name))
	m := &pendingManager{}
	e, _ := New(Options{Kube: kc, Releases: m, LockLease: time.Second})
	_, err := e.Wait(context.Background(), name, WaitOptions{For: "ready", Timeout: 2 * time.Second})
	if !errors.Is(err, ErrTimeout) || m.finalized {
		t.Errorf("Wait with a live holder = %v (finalized %v); want a timeout and no finalize", err, m.finalized)
	}
}

func TestUnreachableCluster(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/config"
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cl, err := kube.NewClients(path, "")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := release.NewHelm(release.HelmOptions{Client: cl.Interface, Getter: cl.Getter})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Kube: cl.Interface, Releases: rel})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	for _, op := range []struct {
		name string
		fn   func() error
	}{
		{"create", func() error { _, err := e.Create(ctx, CreateOptions{Name: "shop", Wait: true}); return err }},
		{"list", func() error { _, err := e.List(ctx, ListOptions{}); return err }},
		{"get", func() error { _, err := e.Get(ctx, "shop"); return err }},
		{"delete", func() error { return e.Delete(ctx, "shop", DeleteOptions{}) }},
	} {
		err := op.fn()
		if !errors.Is(err, ErrUnreachable) {
			t.Errorf("%s = %v, want ErrUnreachable", op.name, err)
		} else if !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("%s message %q does not name the server", op.name, err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("unreachable cluster took %s to report", d)
	}
}

func TestUnstickStatefulSetDeletesOnlyBrokenOldPods(t *testing.T) {
	t.Parallel()
	name := "shop"
	set := sts(name, 0)
	set.Status.UpdateRevision = "shop-mariadb-new"
	broken := waiting(pod(name, ComponentDatabase, "shop-mariadb-0", false), "CrashLoopBackOff", 4)
	broken.UID, broken.Labels["controller-revision-hash"] = "broken", "shop-mariadb-old"
	healthyOld := pod(name, ComponentDatabase, "shop-mariadb-1", true)
	healthyOld.UID, healthyOld.Labels["controller-revision-hash"] = "healthy", "shop-mariadb-old"
	fresh := waiting(pod(name, ComponentDatabase, "shop-mariadb-2", false), "CrashLoopBackOff", 4)
	fresh.UID, fresh.Labels["controller-revision-hash"] = "fresh", "shop-mariadb-old"
	env := newEnv(t, Settings{}, broken, healthyOld, fresh)
	snap := Snapshot{Name: name, StatefulSets: []appsv1.StatefulSet{*set}, Pods: []corev1.Pod{*broken, *healthyOld, *fresh},
		StalePods: map[types.UID]bool{"broken": true, "healthy": true}}
	var msgs []string
	pt := newProgressTracker(func(p Progress) { msgs = append(msgs, p.Message) }, time.Now)
	env.e.unstickStatefulSet(context.Background(), snap, map[types.UID]bool{}, pt)
	left, _ := env.kube.CoreV1().Pods("store-shop").List(context.Background(), metav1.ListOptions{})
	names := map[string]bool{}
	for _, p := range left.Items {
		names[p.Name] = true
	}
	if names["shop-mariadb-0"] || !names["shop-mariadb-1"] || !names["shop-mariadb-2"] {
		t.Errorf("pods left = %v; want only the broken pod of the old revision deleted", names)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "shop-mariadb-0") {
		t.Errorf("progress = %v", msgs)
	}
}

// values is what a create renders for user values: checked, then layered.
func (e *Engine) values(name string, user map[string]any) (map[string]any, error) {
	if err := CheckValues(name, user, e.settings); err != nil {
		return nil, err
	}
	return e.render(name, Inputs{Settings: recordable(e.settings), Values: user})
}

// deleteRequested tells whether a delete of namespace ns reached the client.
func deleteRequested(c *fake.Clientset, ns string) bool {
	for _, a := range c.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource().Resource == "namespaces" && d.GetName() == ns {
			return true
		}
	}
	return false
}
