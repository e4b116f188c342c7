package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/storectl/storectl/charts"
)

// renderManifest renders chrt for store name with the engine's values, as an upgrade would
// before applying it, and returns the resources' manifest (hooks excluded).
func renderManifest(t *testing.T, e *Engine, chrt *chart.Chart, name string, user map[string]any) string {
	t.Helper()
	vals, err := e.values(name, user)
	if err != nil {
		t.Fatal(err)
	}
	in := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	in.DryRun, in.ClientOnly = true, true
	in.ReleaseName, in.Namespace = name, Namespace(name)
	in.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	rel, err := in.Run(chrt, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return rel.Manifest
}

// bumpedChart is the embedded chart with a newer chart version and appVersion, as the next
// storectl would embed it.
func bumpedChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := charts.Load()
	if err != nil {
		t.Fatal(err)
	}
	md := *c.Metadata
	md.Version, md.AppVersion = "99.1.0", "99.2.3"
	c.Metadata = &md
	return c
}

// renderedStatefulSet decodes the StatefulSet of manifest into the typed object the API
// server would hold for it, in the store's namespace.
func renderedStatefulSet(t *testing.T, manifest, name string) *appsv1.StatefulSet {
	t.Helper()
	objs, err := decodeManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == "StatefulSet" {
			var s appsv1.StatefulSet
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &s); err != nil {
				t.Fatal(err)
			}
			s.Namespace, s.UID = Namespace(name), "uid-old"
			s.Annotations = map[string]string{"meta.helm.sh/release-name": name}
			return &s
		}
	}
	t.Fatal("no StatefulSet rendered")
	return nil
}

// withVersionLabels gives a StatefulSet's claim template the labels older charts put there.
func withVersionLabels(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	s = s.DeepCopy()
	tpl := &s.Spec.VolumeClaimTemplates[0]
	tpl.Labels["helm.sh/chart"] = "woocommerce-0.1.0"
	tpl.Labels["app.kubernetes.io/version"] = "11.1.2"
	return s
}

// notHelms drops the annotation by which Helm marks its objects.
func notHelms(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	s = s.DeepCopy()
	s.Annotations = nil
	return s
}

// serverDefaults adds what the API server writes into a claim template on its own.
func serverDefaults(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	s = s.DeepCopy()
	fs := corev1.PersistentVolumeFilesystem
	for i := range s.Spec.VolumeClaimTemplates {
		s.Spec.VolumeClaimTemplates[i].Spec.VolumeMode = &fs
		s.Spec.VolumeClaimTemplates[i].Status.Phase = corev1.ClaimPending
	}
	return s
}

func TestMigrateImmutable(t *testing.T) {
	t.Parallel()
	const name = "shop"
	probe := newEnv(t, Settings{Profile: "local"})
	manifest := renderManifest(t, probe.e, bumpedChart(t), name, nil)
	current := renderedStatefulSet(t, manifest, name)
	dbPod := pod(name, ComponentDatabase, name+"-mariadb-0", true)
	claim := pvc(name, "data-"+name+"-mariadb-0", true, t0)
	fast := "fast"

	tests := []struct {
		name         string
		objs         []runtime.Object
		wantMigrated string
		wantErr      error
	}{
		{"a store made with version labels on the claim template",
			[]runtime.Object{serverDefaults(withVersionLabels(current)), dbPod, claim}, "StatefulSet/shop-mariadb", nil},
		{"a store already on stable labels", []runtime.Object{serverDefaults(current), dbPod, claim}, "", nil},
		{"an object of the namespace that is not the release's is left alone", []runtime.Object{notHelms(serverDefaults(withVersionLabels(current))), dbPod, claim}, "", nil},
		{"a store whose StatefulSet an interrupted upgrade already deleted", []runtime.Object{dbPod, claim}, "", nil},
		{"a change no re-creation can make is refused before anything is deleted",
			[]runtime.Object{serverDefaults(withVersionLabels(current)), dbPod, claim, &corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: name + "-wordpress", Namespace: Namespace(name),
					Annotations: map[string]string{"meta.helm.sh/release-name": name}},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
					StorageClassName: &fast}}},
			"", ErrImmutableField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, Settings{Profile: "local"}, tt.objs...)
			migrated, err := env.e.migrateImmutable(context.Background(), name, manifest)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := strings.Join(migrated, ","); got != tt.wantMigrated {
				t.Errorf("migrated %q, want %q", got, tt.wantMigrated)
			}
			var deletes []k8stesting.DeleteActionImpl
			for _, a := range env.kube.Actions() {
				if d, ok := a.(k8stesting.DeleteActionImpl); ok {
					deletes = append(deletes, d)
				}
			}
			if tt.wantMigrated == "" {
				if len(deletes) > 0 {
					t.Errorf("deleted %v, want nothing deleted", deletes)
				}
				return
			}
			if len(deletes) != 1 || deletes[0].Name != name+"-mariadb" || deletes[0].GetResource().Resource != "statefulsets" {
				t.Fatalf("deletes = %v, want the StatefulSet only", deletes)
			}
			opts := deletes[0].DeleteOptions
			if opts.PropagationPolicy == nil || *opts.PropagationPolicy != metav1.DeletePropagationOrphan ||
				opts.Preconditions == nil || opts.Preconditions.UID == nil || *opts.Preconditions.UID != "uid-old" {
				t.Errorf("delete options = %+v, want orphan propagation of the StatefulSet read", opts)
			}
			ctx := context.Background()
			if _, err := env.kube.AppsV1().StatefulSets(Namespace(name)).Get(ctx, name+"-mariadb", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the StatefulSet is still there after the migration: %v", err)
			}
			// Once it is gone, a second pass finds nothing to do.
			again, err := env.e.migrateImmutable(ctx, name, manifest)
			if err != nil || len(again) != 0 {
				t.Errorf("second pass migrated %v, %v", again, err)
			}
		})
	}
}

func TestDecodeManifestSkipsEmptyDocuments(t *testing.T) {
	t.Parallel()
	objs, err := decodeManifest("---\n# Source: a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetName() != "a" || objs[1].GetKind() != "ConfigMap" {
		t.Errorf("decoded %v", objs)
	}
}
