package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/docs"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// releases answers ListLatest from a fixed list; nothing else is called by doctor.
type releases struct {
	release.Manager
	list []release.Release
}

func (r releases) ListLatest(_ context.Context, namespaces []string) ([]release.Release, error) {
	var out []release.Release
	for _, rel := range r.list {
		if slices.Contains(namespaces, rel.Namespace) {
			out = append(out, rel)
		}
	}
	return out, nil
}

func storeNamespace(name string, age time.Duration, enforce string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: store.Namespace(name), CreationTimestamp: metav1.NewTime(now.Add(-age)),
		Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: name, labelEnforce: enforce},
	}}
}

func node(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		}}
}

// sandbox is a fake cluster set up as the sandbox is: a default StorageClass, the nginx
// IngressClass, its controller's namespace with a ready controller pod, three nodes.
func sandbox() []runtime.Object {
	return []runtime.Object{
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{defaultStorageClassAnnotation: "true"}},
			Provisioner: "example.com/disk", VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer), AllowVolumeExpansion: ptr.To(true)},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "controller", Namespace: "ingress-nginx", Labels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "calico-node-x", Namespace: "kube-system"}},
		node("n1"), node("n2"), node("n3"),
	}
}

// fakeCluster returns a clientset over objs that grants every permission but those in deny
// (access strings, "verb resource.group") and refuses invalid Pod Security levels.
func fakeCluster(objs []runtime.Object, deny ...string) *fake.Clientset {
	cs := fake.NewClientset(objs...)
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		rev := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		ra := rev.Spec.ResourceAttributes
		acc := access{verb: ra.Verb, group: ra.Group, resource: ra.Resource, subresource: ra.Subresource, name: ra.Name}
		rev.Status.Allowed = !slices.Contains(deny, acc.String())
		return true, rev, nil
	})
	cs.PrependReactor("create", "selfsubjectreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{
			UserInfo: authenticationv1.UserInfo{Username: "alice"}}}, nil
	})
	cs.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := a.(k8stesting.CreateAction).GetObject().(*corev1.Namespace)
		if n.Labels[labelEnforce] == probeLevel {
			return true, nil, apierrors.NewInvalid(schema.GroupKind{Kind: "Namespace"}, n.Name, field.ErrorList{
				field.NotSupported(field.NewPath("metadata", "labels").Key(labelEnforce), probeLevel, []string{"privileged", "baseline", "restricted"}),
			})
		}
		return false, nil, nil
	})
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.37.2"}
	return cs
}

func options(cs *fake.Clientset) Options {
	return Options{
		Kube: cs, Releases: releases{}, RBAC: docs.RBAC, Now: func() time.Time { return now },
		Settings: store.Settings{IngressClass: "nginx", IngressControllerNamespace: "ingress-nginx",
			IngressControllerPodLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, MaxStores: 10},
		StoreRequests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("650m"), corev1.ResourceMemory: resource.MustParse("1408Mi")},
		ChartVersion:  "0.2.0", KubeVersion: ">=1.27.0-0",
		AuditPath: "",
	}
}

func results(rep Report) map[string]Check {
	out := map[string]Check{}
	for _, c := range rep.Checks {
		out[c.ID] = c
	}
	return out
}

func want(t *testing.T, rep Report, id string, result Result, subs ...string) {
	t.Helper()
	c, found := results(rep)[id]
	if !found {
		t.Fatalf("no check %s in %+v", id, rep.Checks)
	}
	if c.Result != result {
		t.Errorf("%s: %s (%s), want %s", id, c.Result, c.Message, result)
	}
	for _, s := range subs {
		if !strings.Contains(c.Message, s) {
			t.Errorf("%s message %q lacks %q", id, c.Message, s)
		}
	}
}

func TestSandboxPasses(t *testing.T) {
	t.Parallel()
	rep := Run(context.Background(), options(fakeCluster(sandbox())))
	if rep.Failed() {
		t.Fatalf("checks failed on a healthy cluster: %+v", rep.Checks)
	}
	want(t, rep, IDClusterReachable, ResultOK, "v1.37.2")
	want(t, rep, IDClusterCredentials, ResultOK, "alice")
	want(t, rep, IDClusterVersion, ResultOK)
	want(t, rep, IDPermissionsOperator, ResultOK, "all")
	want(t, rep, IDStorageClass, ResultOK, "standard", "WaitForFirstConsumer")
	want(t, rep, IDIngressClass, ResultOK, "nginx")
	want(t, rep, IDIngressController, ResultOK, "1 of 1")
	want(t, rep, IDIngressClusterIssuer, ResultSkipped)
	want(t, rep, IDPolicyPodSecurity, ResultOK)
	want(t, rep, IDPolicyNetworkPolicy, ResultOK, "Calico")
	// 12 CPU / 650m = 18 stores, 48Gi / 1408Mi = 34: 18 fit, 10 are allowed.
	want(t, rep, IDCapacityNodes, ResultOK, "room for 18 more stores")
	want(t, rep, IDLocalAuditLog, ResultSkipped)
	if got, wantIDs := len(rep.Checks), len(IDs()); got != wantIDs {
		t.Errorf("%d checks reported, want all %d", got, wantIDs)
	}
}

func TestBrokenPreconditions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		objs   func([]runtime.Object) []runtime.Object
		deny   []string
		set    func(*Options)
		id     string
		result Result
		subs   []string
	}{
		{name: "missing IngressClass", set: func(o *Options) { o.Settings.IngressClass = "traefik" },
			id: IDIngressClass, result: ResultFailed, subs: []string{`"traefik"`, "does not exist"}},
		{name: "no default StorageClass", objs: func(objs []runtime.Object) []runtime.Object {
			sc := objs[0].(*storagev1.StorageClass)
			sc.Annotations = nil
			return objs
		}, id: IDStorageClass, result: ResultFailed, subs: []string{"no StorageClass is the cluster default"}},
		{name: "missing configured StorageClass", set: func(o *Options) { o.Settings.StorageClass = "fast" },
			id: IDStorageClass, result: ResultFailed, subs: []string{`"fast"`}},
		{name: "one verb missing", deny: []string{"watch jobs.batch"},
			id: IDPermissionsOperator, result: ResultFailed, subs: []string{"1 of", "missing: watch jobs.batch"}},
		{name: "a named permission missing", deny: []string{"bind clusterroles.rbac.authorization.k8s.io storectl-store"},
			id: IDPermissionsOperator, result: ResultFailed, subs: []string{"bind clusterroles.rbac.authorization.k8s.io storectl-store"}},
		{name: "create lock", deny: []string{"update leases.coordination.k8s.io storectl-create"},
			id: IDPermissionsCreateLock, result: ResultFailed, subs: []string{"update leases.coordination.k8s.io storectl-create", "namespace default"}},
		{name: "no controller namespace", set: func(o *Options) { o.Settings.IngressControllerNamespace = "traefik-system" },
			id: IDIngressController, result: ResultFailed, subs: []string{"traefik-system does not exist"}},
		{name: "no controller pods", set: func(o *Options) { o.Settings.IngressControllerPodLabels = map[string]string{"app": "traefik"} },
			id: IDIngressController, result: ResultWarning, subs: []string{"no pod labelled app=traefik"}},
		{name: "no expansion", objs: func(objs []runtime.Object) []runtime.Object {
			objs[0].(*storagev1.StorageClass).AllowVolumeExpansion = nil
			return objs
		}, id: IDStorageExpansion, result: ResultWarning},
		{name: "old Kubernetes", set: func(o *Options) { o.KubeVersion = ">=1.38.0-0" },
			id: IDClusterVersion, result: ResultFailed, subs: []string{"outside"}},
		{name: "no room", set: func(o *Options) { o.StoreRequests[corev1.ResourceCPU] = resource.MustParse("13") },
			id: IDCapacityNodes, result: ResultFailed, subs: []string{"not one more store fits"}},
		{name: "less room than max-stores", set: func(o *Options) { o.StoreRequests[corev1.ResourceCPU] = resource.MustParse("2") },
			id: IDCapacityNodes, result: ResultWarning, subs: []string{"room for 6 more stores, fewer than the 10"}},
		{name: "flannel", objs: func(objs []runtime.Object) []runtime.Object {
			objs[4].(*corev1.Pod).Name = "kube-flannel-ds-x"
			return objs
		}, id: IDPolicyNetworkPolicy, result: ResultWarning, subs: []string{"Flannel", "does not enforce"}},
		{name: "a store namespace without Pod Security", objs: func(objs []runtime.Object) []runtime.Object {
			return append(objs, storeNamespace("lax", time.Hour, "baseline"))
		}, set: func(o *Options) { o.Pre = true }, id: IDPolicyPodSecurity, result: ResultFailed, subs: []string{"store-lax (baseline)"}},
		{name: "skipped by ID", set: func(o *Options) { o.Settings.IngressClass = "traefik"; o.Skip = []string{IDIngressClass} },
			id: IDIngressClass, result: ResultSkipped},
		{name: "skipped by category", set: func(o *Options) { o.Skip = []string{CategoryPolicy} },
			id: IDPolicyNetworkPolicy, result: ResultSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs := sandbox()
			if tt.objs != nil {
				objs = tt.objs(objs)
			}
			o := options(fakeCluster(objs, tt.deny...))
			if tt.set != nil {
				tt.set(&o)
			}
			rep := Run(context.Background(), o)
			want(t, rep, tt.id, tt.result, tt.subs...)
			for _, c := range rep.Checks {
				if c.ID != tt.id && c.Result == ResultFailed {
					t.Errorf("%s failed too: %s", c.ID, c.Message)
				}
			}
		})
	}
}

func TestRefusedCredentialsStopTheRun(t *testing.T) {
	t.Parallel()
	cs := fakeCluster(sandbox())
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("token expired")
	})
	rep := Run(context.Background(), options(cs))
	want(t, rep, IDClusterCredentials, ResultFailed, "token expired")
	if f := rep.Fatal(); f == nil || f.ID != IDClusterCredentials || !apierrors.IsUnauthorized(f.Err) {
		t.Fatalf("Fatal() = %+v, want cluster.credentials with the 401", f)
	}
	for _, c := range rep.Checks {
		if c.Category != CategoryCluster && c.Result != ResultSkipped {
			t.Errorf("%s ran after the credentials were refused: %s", c.ID, c.Result)
		}
		if c.Category != CategoryCluster && !strings.Contains(c.Message, IDClusterCredentials) {
			t.Errorf("%s does not say why it was skipped: %s", c.ID, c.Message)
		}
	}
}

func lease(ns string, renewed time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: store.StoreLockName, Namespace: ns},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("laptop/42/abc"), LeaseDurationSeconds: ptr.To[int32](15),
			RenewTime: ptr.To(metav1.NewMicroTime(renewed))}}
}

func TestStores(t *testing.T) {
	t.Parallel()
	objs := append(sandbox(),
		storeNamespace("dead", time.Hour, "restricted"), lease("store-dead", now.Add(-time.Minute)),
		storeNamespace("live", time.Hour, "restricted"), lease("store-live", now.Add(-time.Second)),
		storeNamespace("orphan", time.Hour, "restricted"),
		storeNamespace("young", 10*time.Second, "restricted"),
		storeNamespace("ok", time.Hour, "restricted"),
	)
	o := options(fakeCluster(objs))
	o.Releases = releases{list: []release.Release{
		{Name: "dead", Namespace: "store-dead", Status: release.StatusPendingInstall},
		{Name: "live", Namespace: "store-live", Status: release.StatusPendingUpgrade},
		{Name: "ok", Namespace: "store-ok", Status: release.StatusDeployed},
	}}
	o.Stores = func(context.Context) ([]store.Store, error) {
		return []store.Store{
			{Name: "ok", Phase: store.PhaseReady, ChartVersion: "0.1.0"},
			{Name: "dead", Phase: store.PhaseFailed, Reason: "ImagePullBackOff", ChartVersion: "0.2.0"},
		}, nil
	}
	rep := Run(context.Background(), o)
	want(t, rep, IDStoresPending, ResultFailed, "1 stores", "dead (pending-install)")
	if c := results(rep)[IDStoresPending]; strings.Contains(c.Message, "live") {
		t.Errorf("a release applied by a live holder is reported: %s", c.Message)
	}
	want(t, rep, IDStoresOrphaned, ResultFailed, "store-orphan")
	if c := results(rep)[IDStoresOrphaned]; strings.Contains(c.Message, "young") {
		t.Errorf("a namespace younger than the grace is reported: %s", c.Message)
	}
	want(t, rep, IDStoresFailed, ResultFailed, "dead (ImagePullBackOff)")
	want(t, rep, IDStoresChart, ResultWarning, "ok (0.1.0)")

	o.Pre = true
	for _, c := range Run(context.Background(), o).Checks {
		if c.Category == CategoryStores && c.Result != ResultSkipped {
			t.Errorf("--pre ran %s", c.ID)
		}
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	o := options(fakeCluster(sandbox(), "watch jobs.batch"))
	if err := Preflight(context.Background(), o); err != nil {
		t.Fatalf("preflight on a healthy cluster, with a permission doctor would report: %v", err)
	}
	o.Settings.IngressClass = "missing"
	err := Preflight(context.Background(), o)
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Check.ID != IDIngressClass || !errors.Is(err, ErrPreflight) {
		t.Fatalf("preflight with a missing IngressClass: %v", err)
	}
	if !strings.Contains(err.Error(), `IngressClass "missing"`) {
		t.Errorf("error %q does not name the class", err)
	}

	// A read the identity may not make does not stop a create: the engine reports what it
	// cannot do itself.
	cs := fakeCluster(sandbox())
	cs.PrependReactor("list", "storageclasses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "storageclasses"}, "", errors.New("no"))
	})
	if err := Preflight(context.Background(), options(cs)); err != nil {
		t.Errorf("preflight with StorageClasses unreadable: %v", err)
	}
}

func TestRBACParses(t *testing.T) {
	t.Parallel()
	roles, err := ParseRoles(docs.RBAC)
	if err != nil {
		t.Fatal(err)
	}
	got := accesses("", roles.Operator.Rules)
	if len(got) < 20 {
		t.Fatalf("only %d permissions in ClusterRole storectl", len(got))
	}
	var names []string
	for _, a := range got {
		names = append(names, a.String())
	}
	for _, w := range []string{"create namespaces", "watch jobs.batch", "bind clusterroles.rbac.authorization.k8s.io storectl-store", "list storageclasses.storage.k8s.io"} {
		if !slices.Contains(names, w) {
			t.Errorf("permissions of docs/rbac.yaml lack %q: %v", w, names)
		}
	}
	if _, err := ParseRoles([]byte("kind: ClusterRole\nmetadata: {name: other}\n")); err == nil {
		t.Error("a file without storectl's roles parsed")
	}
}
