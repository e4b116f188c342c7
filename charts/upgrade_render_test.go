package charts

import (
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/storectl/storectl/pkg/kube"
)

// bumpedChart returns the embedded chart as the next release of storectl would carry it: a
// newer chart version and appVersion, and nothing else changed.
func bumpedChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	md := *c.Metadata
	md.Version = "99.1.0"
	md.AppVersion = "99.2.3"
	c.Metadata = &md
	return c
}

// bumpedImages are values moving every image to a newer tag, as an upgrade with
// --wordpress-version, --mariadb-version and a newer setup image would.
func bumpedImages() map[string]any {
	return map[string]any{
		"mariadb":   map[string]any{"image": map[string]any{"tag": "12.3"}},
		"wordpress": map[string]any{"image": map[string]any{"tag": "7.9-php8.4-apache"}},
		"setup": map[string]any{
			"image":       map[string]any{"tag": "cli-2.19-php8.4"},
			"woocommerce": map[string]any{"version": "12.0.1"},
		},
	}
}

// perRevision returns Kind/name of the objects named for the revision that renders them (the
// setup Job): the next revision creates a new one and Helm deletes the old, so their fields are
// never updated in place.
func perRevision(objs []*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, o := range objs {
		if rev := o.GetLabels()["storectl.dev/revision"]; rev != "" && strings.HasSuffix(o.GetName(), "-r"+rev) {
			out[o.GetKind()+"/"+o.GetName()] = true
		}
	}
	return out
}

func byRef(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		out[o.GetKind()+"/"+o.GetName()] = o
	}
	return out
}

// TestImmutableFieldsSurviveAVersionBump renders the chart as this storectl has it and as the
// next one would (chart version, appVersion and every image tag bumped) and proves that no
// object changes a field Kubernetes refuses to update: an upgrade applies every object in
// place, or is refused for all stores at once.
func TestImmutableFieldsSurviveAVersionBump(t *testing.T) {
	t.Parallel()
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			t.Parallel()
			oldRel := mustInstall(t, presetValues(t, preset, nil))
			newRel, err := installChart(bumpedChart(t), presetValues(t, preset, bumpedImages()))
			if err != nil {
				t.Fatalf("render the bumped chart: %v", err)
			}
			before, after := byRef(objects(t, oldRel)), byRef(objects(t, newRel))

			// The bump reached the objects, or this test would compare a chart with itself.
			sts := "StatefulSet/demo-mariadb"
			if b, a := before[sts].GetLabels()["helm.sh/chart"], after[sts].GetLabels()["helm.sh/chart"]; b == a || a != "woocommerce-99.1.0" {
				t.Fatalf("chart label before %q, after %q: the bump did not render", b, a)
			}
			if a := manifest(newRel); !strings.Contains(a, "mariadb:12.3") || !strings.Contains(a, "wordpress:7.9-php8.4-apache") {
				t.Fatal("the bumped images are not in the rendered objects")
			}

			hooks := perRevision(objects(t, newRel))
			checked := map[string]int{}
			for ref, o := range before {
				n, ok := after[ref]
				if !ok {
					t.Errorf("%s is not rendered by the bumped chart", ref)
					continue
				}
				if hooks[ref] {
					continue
				}
				old, bumped := kube.ImmutableFields(o), kube.ImmutableFields(n)
				for path, v := range old {
					if !reflect.DeepEqual(v, bumped[path]) {
						t.Errorf("%s: immutable %s changes with the version bump:\n before %v\n after  %v", ref, path, v, bumped[path])
					}
				}
				for path := range bumped {
					if _, ok := old[path]; !ok {
						t.Errorf("%s: immutable %s appears with the version bump", ref, path)
					}
				}
				checked[o.GetKind()] += len(old)
			}
			for ref := range after {
				if _, ok := before[ref]; !ok {
					t.Errorf("%s appears with the bumped chart", ref)
				}
			}
			// Every kind with immutable fields the chart renders was compared.
			for kind, min := range map[string]int{"StatefulSet": 4, "Deployment": 1, "PersistentVolumeClaim": 1, "Service": 1} {
				if checked[kind] < min {
					t.Errorf("compared %d immutable fields of %s objects, want at least %d", checked[kind], kind, min)
				}
			}
			// The objects skipped above are Jobs each revision creates anew.
			for ref := range hooks {
				if !strings.HasPrefix(ref, "Job/") {
					t.Errorf("unexpected per-revision object %s", ref)
				}
			}
			if !hooks["Job/demo-setup-r1"] {
				t.Error("the setup Job is not named for its revision; its template would be immutable")
			}
		})
	}
}

// TestClaimTemplateCarriesOnlyStableLabels names the labels of the database's claim template:
// the selector's and the store's, none that moves with a version.
func TestClaimTemplateCarriesOnlyStableLabels(t *testing.T) {
	t.Parallel()
	sts := find(t, objects(t, mustInstall(t, presetValues(t, PresetLocal, nil))), "StatefulSet", "demo-mariadb")
	claims, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
	if len(claims) != 1 {
		t.Fatalf("claim templates = %v", claims)
	}
	labels, _, _ := unstructured.NestedStringMap(claims[0].(map[string]any), "metadata", "labels")
	want := map[string]string{
		"app.kubernetes.io/name":       "woocommerce",
		"app.kubernetes.io/instance":   testRelease,
		"app.kubernetes.io/component":  "database",
		"app.kubernetes.io/part-of":    "storectl",
		"app.kubernetes.io/managed-by": "Helm",
		"storectl.dev/store":           testRelease,
	}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("claim template labels = %v, want %v", labels, want)
	}
	selector, _, _ := unstructured.NestedStringMap(sts.Object, "spec", "selector", "matchLabels")
	for k, v := range selector {
		if labels[k] != v {
			t.Errorf("claim template label %s=%q, the selector's is %q", k, labels[k], v)
		}
	}
}
