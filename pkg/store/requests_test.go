package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	helmchart "helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
)

// fleet is a cluster of n Ready stores, each with two revisions of a real Helm release
// record, served by fake clients that record every request.
type fleet struct {
	kube *fake.Clientset
	meta *metadatafake.FakeMetadataClient
	e    *Engine
}

func newFleet(t *testing.T, n int) *fleet {
	t.Helper()
	var objs []runtime.Object
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		d := deploy(name, 1)
		d.Labels["helm.sh/chart"] = "woocommerce-0.4.1"
		objs = append(objs, storeNS(name), sts(name, 1), d, pod(name, ComponentDatabase, name+"-mariadb-0", true),
			pod(name, ComponentWordPress, name+"-wordpress-x", true), jobOf(name, 2, t0, batchv1.JobComplete, "", ""),
			ingress(name), &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name + "-wordpress", Namespace: Namespace(name)}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: credentialsSecret(name), Namespace: Namespace(name)}})
	}
	kc := fake.NewClientset(objs...)
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mc := metadatafake.NewSimpleMetadataClient(scheme)
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		secrets := driver.NewSecrets(kc.CoreV1().Secrets(Namespace(name)))
		for v, status := range []helmrelease.Status{helmrelease.StatusSuperseded, helmrelease.StatusDeployed} {
			r := &helmrelease.Release{Name: name, Namespace: Namespace(name), Version: v + 1,
				Info: &helmrelease.Info{Status: status}, Manifest: manifestOf(name),
				Chart: &helmchart.Chart{Metadata: &helmchart.Metadata{Name: "woocommerce", Version: "0.4.1", AppVersion: "6.8"}}}
			key := fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, v+1)
			if err := secrets.Create(key, r); err != nil {
				t.Fatal(err)
			}
			sec, err := kc.CoreV1().Secrets(Namespace(name)).Get(context.Background(), key, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			meta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: sec.ObjectMeta}
			if err := mc.Tracker().Add(meta); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range n {
		for _, obj := range unlistedObjects(fmt.Sprintf("s%03d", i)) {
			if err := mc.Tracker().Add(obj); err != nil {
				t.Fatal(err)
			}
		}
	}
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
	mc.ClearActions()
	return &fleet{kube: kc, meta: mc, e: e}
}

// manifestOf is the manifest of a store's release: the objects above, and some of kinds Get
// does not list.
func manifestOf(name string) string {
	ns := Namespace(name)
	var b strings.Builder
	for _, o := range []struct{ apiVersion, kind, name string }{
		{"v1", "ConfigMap", name + "-php"}, {"v1", "Service", name + "-mariadb"}, {"v1", "Service", name + "-wordpress"},
		{"networking.k8s.io/v1", "NetworkPolicy", "default-deny"}, {"networking.k8s.io/v1", "NetworkPolicy", "allow-ingress"},
		{"v1", "PersistentVolumeClaim", name + "-wordpress"},
		{"apps/v1", "StatefulSet", name + "-mariadb"}, {"apps/v1", "Deployment", name + "-wordpress"},
		{"networking.k8s.io/v1", "Ingress", name},
	} {
		fmt.Fprintf(&b, "---\n# Source: woocommerce/templates/%s.yaml\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n",
			strings.ToLower(o.kind), o.apiVersion, o.kind, o.name, ns)
		if o.kind == "StatefulSet" || o.kind == "Deployment" {
			b.WriteString("spec:\n  replicas: 1\n")
		}
	}
	return b.String()
}

// unlistedObjects are the objects of manifestOf of kinds Get does not list, as the metadata
// client serves them.
func unlistedObjects(name string) []runtime.Object {
	ns := Namespace(name)
	meta := func(apiVersion, kind, n string) runtime.Object {
		return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
			ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns}}
	}
	return []runtime.Object{meta("v1", "ConfigMap", name+"-php"), meta("v1", "Service", name+"-mariadb"), meta("v1", "Service", name+"-wordpress"),
		meta("networking.k8s.io/v1", "NetworkPolicy", "default-deny"), meta("networking.k8s.io/v1", "NetworkPolicy", "allow-ingress")}
}

// requests names each recorded request as verb resource [namespace] [selector], sorted, so
// that requests issued concurrently compare equal whatever their order.
func (f *fleet) requests() []string {
	var out []string
	add := func(prefix string, acts []k8stesting.Action) {
		for _, a := range acts {
			s := prefix + a.GetVerb() + " " + a.GetResource().Resource
			if ns := a.GetNamespace(); ns != "" {
				s += " ns=" + ns
			}
			if l, ok := a.(k8stesting.ListAction); ok {
				if sel := l.GetListRestrictions().Labels.String(); sel != "" {
					s += " " + sel
				}
			}
			out = append(out, s)
		}
	}
	add("", f.kube.Actions())
	add("metadata ", f.meta.Actions())
	sort.Strings(out)
	return out
}

// List costs the same fixed requests at 1 store and at 50: one namespace list, four
// cluster-wide workload lists and one metadata-only list of the release records. It reads
// no Secret whole, so no release record is decoded.
func TestListRequestsAreFixed(t *testing.T) {
	t.Parallel()
	want := []string{
		"list deployments app.kubernetes.io/part-of=storectl",
		"list jobs app.kubernetes.io/part-of=storectl",
		"list namespaces " + storeSelector,
		"list pods app.kubernetes.io/part-of=storectl",
		"list statefulsets app.kubernetes.io/part-of=storectl",
		"metadata list secrets owner=helm",
	}
	for _, n := range []int{1, 50} {
		f := newFleet(t, n)
		list, err := f.e.List(context.Background(), ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n || list[0].Revision != 2 || list[0].ReleaseStatus != release.StatusDeployed || list[0].Phase != PhaseReady {
			t.Fatalf("%d stores: List = %d stores, first %+v", n, len(list), list[0])
		}
		if got := f.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d stores: List requests\n%s\nwant\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, a := range f.kube.Actions() {
			if a.GetResource().Resource == "secrets" {
				t.Errorf("%d stores: List read a Secret whole, with its release payload: %v", n, a)
			}
		}
	}
}

// Get of one store reads that store's namespace alone, with the same requests whether the
// cluster holds 1 store or 50.
func TestGetRequestsAreFixed(t *testing.T) {
	t.Parallel()
	var first []string
	for _, n := range []int{1, 50} {
		f := newFleet(t, n)
		st, err := f.e.Get(context.Background(), "s000")
		if err != nil {
			t.Fatal(err)
		}
		if st.Phase != PhaseReady || st.Revision != 2 {
			t.Fatalf("%d stores: Get = %s revision %d (%s), want Ready at revision 2", n, st.Phase, st.Revision, st.Message)
		}
		got := f.requests()
		for _, r := range got {
			if !strings.Contains(r, " ns=store-s000") && r != "get namespaces" {
				t.Errorf("%d stores: Get made a request outside its store's namespace: %s", n, r)
			}
		}
		if first == nil {
			first = got
			t.Logf("Get: %d requests\n%s", len(got), strings.Join(got, "\n"))
			continue
		}
		if strings.Join(got, "\n") != strings.Join(first, "\n") {
			t.Errorf("Get requests at %d stores differ from 1 store:\n%s\nvs\n%s", n, strings.Join(got, "\n"), strings.Join(first, "\n"))
		}
	}
	// One read of each: the namespace, the credentials Secret, the release records, the seven
	// kinds the status is judged from, and, for the drift check, one metadata list per other
	// kind of the store chart, made with the others before the release is read. Nothing is
	// read twice, and no API discovery is needed.
	ns := " ns=store-s000"
	want := []string{"get namespaces", "get secrets" + ns,
		"list deployments" + ns, "list events" + ns, "list ingresses" + ns, "list jobs" + ns,
		"list persistentvolumeclaims" + ns, "list pods" + ns, "list secrets" + ns + " name=s000,owner=helm", "list statefulsets" + ns,
		"metadata list configmaps" + ns, "metadata list cronjobs" + ns, "metadata list limitranges" + ns,
		"metadata list networkpolicies" + ns, "metadata list resourcequotas" + ns, "metadata list services" + ns}
	if strings.Join(first, "\n") != strings.Join(want, "\n") {
		t.Errorf("Get requests\n%s\nwant\n%s", strings.Join(first, "\n"), strings.Join(want, "\n"))
	}
}

// Get's drift check judges the objects it has listed and those it lists for the purpose
// alike: a workload scaled by hand and a ConfigMap deleted are both reported.
func TestGetFindsDriftInWhatItListed(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1)
	ctx := context.Background()
	s, err := f.kube.AppsV1().StatefulSets("store-s000").Get(ctx, "s000-mariadb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Replicas = ptr.To[int32](0)
	if _, err := f.kube.AppsV1().StatefulSets("store-s000").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if err := f.meta.Tracker().Delete(cm, "store-s000", "s000-php"); err != nil {
		t.Fatal(err)
	}
	st, err := f.e.Get(ctx, "s000")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"StatefulSet s000-mariadb spec.replicas", "ConfigMap s000-php missing"} {
		if !strings.Contains(st.Message, w) {
			t.Errorf("Get's message %q does not report %s", st.Message, w)
		}
	}
}
