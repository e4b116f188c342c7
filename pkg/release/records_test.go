package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/storectl/storectl/pkg/kube"
)

// secretsHelm returns a Helm manager on a fake cluster holding the records
// of the memory-driver releases named, one per namespace store-<name>,
// written by Helm's secret driver; the metadata client serves the same
// Secrets without their data.
func secretsHelm(t *testing.T, extra []corev1.Secret, names ...string) (*Helm, *fake.Clientset, *metadatafake.FakeMetadataClient) {
	t.Helper()
	cs := fake.NewClientset()
	getter := kube.NewGetter(&rest.Config{Host: "https://127.0.0.1:1"}, nil)
	writer, err := NewHelm(HelmOptions{Client: cs, Getter: getter, Chart: testChart, Metadata: metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())})
	if err != nil {
		t.Fatal(err)
	}
	mem := newMemory(testChart)
	ctx := context.Background()
	for _, n := range names {
		ns := "store-" + n
		for range 2 {
			if _, err := mem.Apply(ctx, ApplyOptions{Name: n, Namespace: ns, Values: map[string]any{"color": "teal"}}); err != nil {
				t.Fatal(err)
			}
		}
		rs, _ := mem.config(ctx, ns).Releases.History(n)
		for _, r := range rs {
			if err := writer.config(ctx, ns).Releases.Create(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range extra {
		if _, err := cs.CoreV1().Secrets(extra[i].Namespace).Create(ctx, &extra[i], metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := cs.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for _, s := range all.Items {
		objs = append(objs, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: s.ObjectMeta})
	}
	mc := metadatafake.NewSimpleMetadataClient(scheme, objs...)
	h, err := NewHelm(HelmOptions{Client: cs, Getter: getter, Chart: testChart, Metadata: mc})
	if err != nil {
		t.Fatal(err)
	}
	cs.ClearActions()
	return h, cs, mc
}

// bomb is a Secret labelled as a Helm record whose payload decompresses to
// size bytes.
func bomb(t *testing.T, ns, name string, size int) corev1.Secret {
	t.Helper()
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for n := 0; n < size; n += len(chunk) {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + name + ".v1", Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": name, "status": "deployed", "version": "1"}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte(base64.StdEncoding.EncodeToString(z.Bytes()))},
	}
}

// ListLatest reads labels alone, with one cluster-wide request whatever the
// number of namespaces, and leaves other namespaces' records out.
func TestListLatestReadsLabelsOnly(t *testing.T) {
	t.Parallel()
	h, cs, mc := secretsHelm(t, []corev1.Secret{bomb(t, "other", "x", 1<<20)}, "a", "b", "c")
	got, err := h.ListLatest(context.Background(), []string{"store-a", "store-c"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Release{{Name: "a", Namespace: "store-a", Revision: 2, Status: StatusDeployed}, {Name: "c", Namespace: "store-c", Revision: 2, Status: StatusDeployed}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ListLatest = %+v, want %+v", got, want)
	}
	if acts := cs.Actions(); len(acts) != 0 {
		t.Errorf("ListLatest read whole Secrets: %v", acts)
	}
	acts := mc.Actions()
	if len(acts) != 1 || acts[0].GetVerb() != "list" || acts[0].GetNamespace() != metav1.NamespaceAll {
		t.Errorf("metadata requests = %v, want one cluster-wide list", acts)
	}
}

// An identity refused the cluster-wide List reads the namespaces asked for,
// and only those.
func TestListLatestPerNamespaceWhenForbidden(t *testing.T) {
	t.Parallel()
	h, cs, mc := secretsHelm(t, []corev1.Secret{bomb(t, "other", "x", 1<<20)}, "a", "b")
	mc.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == metav1.NamespaceAll || a.GetNamespace() == "other" {
			return true, nil, apierrors.NewForbidden(secretsResource.GroupResource(), "", errors.New("no"))
		}
		return false, nil, nil
	})
	got, err := h.ListLatest(context.Background(), []string{"store-a", "store-b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || got[0].Revision != 2 || got[1].Name != "b" {
		t.Errorf("ListLatest = %+v", got)
	}
	if acts := cs.Actions(); len(acts) != 0 {
		t.Errorf("ListLatest read whole Secrets: %v", acts)
	}
	seen := map[string]bool{}
	for _, a := range mc.Actions() {
		seen[a.GetNamespace()] = true
	}
	if len(mc.Actions()) != 3 || !seen["store-a"] || !seen["store-b"] || seen["other"] {
		t.Errorf("metadata requests = %v, want the cluster-wide attempt and one per store namespace", mc.Actions())
	}
}

// Every decode of a stored record is bounded: a record that decompresses
// beyond MaxRecordBytes is refused with ErrTooLarge, and real records still
// read back through the same path.
func TestRecordDecodeIsBounded(t *testing.T) {
	t.Parallel()
	h, _, _ := secretsHelm(t, []corev1.Secret{bomb(t, "store-x", "x", MaxRecordBytes+1<<20)}, "a")
	ctx := context.Background()
	if _, err := h.Get(ctx, "store-x", "x"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Get of an oversized record = %v, want ErrTooLarge", err)
	}
	if _, err := h.History(ctx, "store-x", "x"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("History of an oversized record = %v, want ErrTooLarge", err)
	}
	r, err := h.Get(ctx, "store-a", "a")
	if err != nil || r.Revision != 2 || r.Status != StatusDeployed || r.Chart != "demo" {
		t.Errorf("Get through secrets = %+v, %v", r, err)
	}
}

// A store namespace whose records the caller may not read (a store another operator made)
// is reported as unreadable instead of failing the whole list.
func TestListLatestReportsUnreadableNamespaces(t *testing.T) {
	t.Parallel()
	h, _, mc := secretsHelm(t, nil, "a", "b")
	mc.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == metav1.NamespaceAll || a.GetNamespace() == "store-b" {
			return true, nil, apierrors.NewForbidden(secretsResource.GroupResource(), "", errors.New("no"))
		}
		return false, nil, nil
	})
	got, err := h.ListLatest(context.Background(), []string{"store-a", "store-b"})
	if err != nil {
		t.Fatal(err)
	}
	var readable, unreadable int
	for _, r := range got {
		switch {
		case r.Name == "a" && r.Status != StatusUnreadable:
			readable++
		case r.Namespace == "store-b" && r.Status == StatusUnreadable && r.Name == "":
			unreadable++
		default:
			t.Errorf("unexpected release %+v", r)
		}
	}
	if readable != 1 || unreadable != 1 {
		t.Errorf("ListLatest = %+v, want a readable and store-b unreadable", got)
	}
}

// Get decodes the latest revision alone: an older record that cannot be decoded is never
// opened, while History, which reads them all, meets it.
func TestGetDecodesOnlyTheLatestRevision(t *testing.T) {
	t.Parallel()
	old := bomb(t, "store-shop", "shop", MaxRecordBytes+1)
	old.Name, old.Labels["version"], old.Labels["status"] = "sh.helm.release.v1.shop.v0", "0", "superseded"
	h, cs, _ := secretsHelm(t, []corev1.Secret{old}, "shop")
	ctx := context.Background()
	r, err := h.Get(ctx, "store-shop", "shop")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if r.Revision != 2 {
		t.Errorf("Get returned revision %d, want the latest, 2", r.Revision)
	}
	if n := len(cs.Actions()); n != 1 {
		t.Errorf("Get made %d requests, want one list", n)
	}
	if _, err := h.History(ctx, "store-shop", "shop"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("History = %v, want the old record refused as too large (so that Get above did skip it)", err)
	}
	if _, err := h.Values(ctx, "store-shop", "shop", 0); err != nil {
		t.Errorf("Values of the latest revision: %v", err)
	}
}

// The latest revision read from its record alone is the one Helm's driver reads.
func TestGetReadsTheRecordAsHelmDoes(t *testing.T) {
	t.Parallel()
	h, _, _ := secretsHelm(t, nil, "shop")
	ctx := context.Background()
	got, err := h.Get(ctx, "store-shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	hr, err := latest(h.config(ctx, "store-shop"), "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := fromHelm(hr)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get = %+v\nHelm's driver reads %+v", got, want)
	}
	if got.manifest == "" || got.ChartVersion == "" || got.Status == "" || got.LastDeployed.IsZero() {
		t.Errorf("Get left fields empty: %+v", got)
	}
	vals, err := h.Values(ctx, "store-shop", "shop", 0)
	if err != nil || !reflect.DeepEqual(vals, copyValues(hr.Config)) || vals["color"] != "teal" {
		t.Errorf("Values = %v, %v; Helm's driver reads %v", vals, err, hr.Config)
	}
	if _, err := h.Get(ctx, "store-shop", "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a release with no records = %v, want ErrNotFound", err)
	}
}
