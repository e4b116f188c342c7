package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func decodeObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// statefulSet renders a StatefulSet whose claim template carries the given extra label lines
// and spec lines, the way a chart and then the API server would write it.
func statefulSet(t *testing.T, labels, spec string, replicas int) *unstructured.Unstructured {
	t.Helper()
	doc := `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  labels:
    helm.sh/chart: woocommerce-REPLICAS
spec:
  replicas: REPLICAS
  serviceName: db
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
          app: db
LABELS
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 2Gi
SPEC
`
	doc = strings.ReplaceAll(doc, "REPLICAS", strings.Repeat("1", replicas))
	doc = strings.Replace(doc, "LABELS\n", labels, 1)
	doc = strings.Replace(doc, "SPEC\n", spec, 1)
	return decodeObject(t, doc)
}

func TestImmutableChanges(t *testing.T) {
	t.Parallel()
	const versionLabel = "          app.kubernetes.io/version: \"1.0\"\n"
	// What the API server adds to a claim template on its own.
	const defaults = "        volumeMode: Filesystem\n      status:\n        phase: Pending\n"
	tests := []struct {
		name          string
		live, desired *unstructured.Unstructured
		want          string
	}{
		{"same, with the server's defaults on the live object",
			statefulSet(t, "", defaults, 1), statefulSet(t, "", "", 1), ""},
		{"only mutable fields differ",
			statefulSet(t, "", defaults, 1), statefulSet(t, "", "", 3), ""},
		{"a template label removed",
			statefulSet(t, versionLabel, defaults, 1), statefulSet(t, "", "", 1), "spec.volumeClaimTemplates"},
		{"a template label added",
			statefulSet(t, "", defaults, 1), statefulSet(t, versionLabel, "", 1), "spec.volumeClaimTemplates"},
		{"a template's storage class set",
			statefulSet(t, "", defaults, 1), statefulSet(t, "", "        storageClassName: fast\n", 1), "spec.volumeClaimTemplates"},
		{"a selector label added",
			statefulSet(t, "", "", 1),
			withSelector(t, statefulSet(t, "", "", 1), map[string]string{"app": "db", "tier": "x"}),
			"spec.selector"},
		{"a claim's storage class left to the default",
			decodeObject(t, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce], storageClassName: standard, volumeMode: Filesystem, volumeName: pv-1, resources: {requests: {storage: 1Gi}}}\n"),
			decodeObject(t, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 4Gi}}}\n"),
			""},
		{"a claim's access mode changed",
			decodeObject(t, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce]}\n"),
			decodeObject(t, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteMany]}\n"),
			"spec.accessModes"},
		{"a headless Service made a ClusterIP one",
			decodeObject(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: None, clusterIPs: [None]}\n"),
			decodeObject(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.0.0.9}\n"),
			"spec.clusterIP"},
		{"a ConfigMap not marked immutable",
			decodeObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {a: \"1\"}\n"),
			decodeObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {a: \"2\"}\n"),
			""},
		{"an immutable ConfigMap",
			decodeObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\nimmutable: true\ndata: {a: \"1\"}\n"),
			decodeObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\nimmutable: true\ndata: {a: \"2\"}\n"),
			"data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImmutableChanges(tt.live, tt.desired)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("ImmutableChanges = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func withSelector(t *testing.T, o *unstructured.Unstructured, labels map[string]string) *unstructured.Unstructured {
	t.Helper()
	if err := unstructured.SetNestedStringMap(o.Object, labels, "spec", "selector", "matchLabels"); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestImmutableFieldsOfKinds(t *testing.T) {
	t.Parallel()
	sts := statefulSet(t, "", "", 2)
	got := ImmutableFields(sts)
	for _, p := range []string{"spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"} {
		if _, ok := got[p]; !ok {
			t.Errorf("StatefulSet: %s missing from %v", p, got)
		}
	}
	for _, p := range []string{"spec.replicas", "spec.template", "metadata.labels"} {
		if _, ok := got[p]; ok {
			t.Errorf("StatefulSet: mutable %s reported immutable", p)
		}
	}
	ing := decodeObject(t, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {ingressClassName: nginx}\n")
	if f := ImmutableFields(ing); len(f) != 0 {
		t.Errorf("Ingress immutable fields = %v, want none", f)
	}
}
