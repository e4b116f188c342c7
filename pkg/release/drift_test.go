package release

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

func TestManifestObjects(t *testing.T) {
	manifest := `---
# Source: woocommerce/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-php
data:
  php.ini: |
    memory_limit = 256M
---
# Source: woocommerce/templates/empty.yaml
---
# Source: woocommerce/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: shop-mariadb
spec:
  replicas: 1
`
	objs, err := manifestObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects, want the ConfigMap and the StatefulSet", len(objs))
	}
	if objs[0].GetKind() != "ConfigMap" || objs[0].GetName() != "shop-php" || objs[0].GetAPIVersion() != "v1" {
		t.Errorf("first object %s %s/%s", objs[0].GetAPIVersion(), objs[0].GetKind(), objs[0].GetName())
	}
	if objs[1].GroupVersionKind().Group != "apps" || objs[1].GetName() != "shop-mariadb" {
		t.Errorf("second object %s/%s", objs[1].GroupVersionKind(), objs[1].GetName())
	}
	// A compared workload is decoded whole: its replicas are what drift compares.
	if r, ok, _ := unstructured.NestedFieldNoCopy(objs[1].Object, "spec", "replicas"); !ok || fmt.Sprint(r) != "1" {
		t.Errorf("the StatefulSet's spec.replicas = %v (found %v), want 1", r, ok)
	}
}

// The head scan reads every document of the store chart's rendered manifests as a YAML
// parser does, and gives way to the parser on layouts it does not read.
func TestScanHeadAgreesWithYAML(t *testing.T) {
	t.Parallel()
	parsed := func(doc string) docHead {
		var u map[string]any
		if err := yaml.Unmarshal([]byte(doc), &u); err != nil {
			t.Fatal(err)
		}
		o := unstructured.Unstructured{Object: u}
		return docHead{apiVersion: o.GetAPIVersion(), kind: o.GetKind(), name: o.GetName()}
	}
	for _, golden := range []string{"local.yaml", "prod.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "charts", golden))
		if err != nil {
			t.Fatal(err)
		}
		// The golden ends with the chart's notes, which are not part of the manifest.
		manifest, _, _ := strings.Cut(string(b), "\n# NOTES.txt")
		docs := splitManifest(manifest)
		if len(docs) < 10 {
			t.Fatalf("%s: %d documents; is it still the rendered chart?", golden, len(docs))
		}
		for _, doc := range docs {
			want := parsed(doc)
			if want.kind == "" {
				continue
			}
			got, ok := scanHead(doc)
			if !ok || got != want {
				t.Errorf("%s: scanHead = %+v, %v; the parser reads %+v", golden, got, ok, want)
			}
		}
	}
	for _, doc := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flow}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &a anchored\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"esc\\u0061ped\"\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: commented # here\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    name: not-this\n",
		"kind: ConfigMap\nmetadata:\n  name: no-version\n",
	} {
		if got, ok := scanHead(doc); ok {
			t.Errorf("scanHead(%q) = %+v, true; want the parser to read it", doc, got)
		}
	}
	objs, err := manifestObjects("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    name: not-this\n  name: 'quoted'\n")
	if err != nil || len(objs) != 1 || objs[0].GetName() != "quoted" {
		t.Errorf("manifestObjects = %v, %v; want the ConfigMap named quoted", objs, err)
	}
}

// A typed workload is compared as its conversion to unstructured would be.
func TestCompareReadsTypedWorkloadsAsUnstructured(t *testing.T) {
	t.Parallel()
	want := func(kind string, replicas int, images ...string) *unstructured.Unstructured {
		var cs []any
		for _, img := range images {
			cs = append(cs, map[string]any{"name": "c", "image": img})
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": kind, "metadata": map[string]any{"name": "w"},
			"spec": map[string]any{"replicas": float64(replicas), "template": map[string]any{"spec": map[string]any{
				"initContainers": []any{map[string]any{"name": "i", "image": "init:1"}}, "containers": cs}}},
		}}
	}
	pod := func(images ...string) corev1.PodTemplateSpec {
		var p corev1.PodTemplateSpec
		p.Spec.InitContainers = []corev1.Container{{Name: "i", Image: "init:1"}}
		for _, img := range images {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c", Image: img})
		}
		return p
	}
	one, two := ptr.To[int32](1), ptr.To[int32](2)
	cases := []struct {
		want *unstructured.Unstructured
		live runtime.Object
		n    int
	}{
		{want("Deployment", 1, "wp:1"), &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: one, Template: pod("wp:1")}}, 0},
		{want("Deployment", 1, "wp:1"), &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: two, Template: pod("wp:2")}}, 2},
		{want("Deployment", 1, "wp:1"), &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: pod("wp:1", "side:1")}}, 2},
		{want("StatefulSet", 1, "db:1"), &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: one, Template: pod()}}, 1},
		{want("StatefulSet", 1, "db:1"), &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: one, Template: pod("db:1")}}, 0},
	}
	for i, c := range cases {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c.live)
		if err != nil {
			t.Fatal(err)
		}
		typed, generic := compare(c.want, c.live), compare(c.want, &unstructured.Unstructured{Object: u})
		if !reflect.DeepEqual(typed, generic) || len(typed) != c.n {
			t.Errorf("case %d: typed %+v, unstructured %+v; want %d drifts from both", i, typed, generic, c.n)
		}
	}
}
