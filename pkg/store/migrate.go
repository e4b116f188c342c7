package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/storectl/storectl/pkg/kube"
)

// ErrImmutableField means a new revision would change a field Kubernetes never lets change
// on an object storectl cannot safely create again (a claim's storage class, a Service's
// cluster IP...): applying it would fail, so nothing is changed.
var ErrImmutableField = errors.New("a field that cannot change after creation would change")

// orphanDeleteTimeout bounds the wait for the garbage collector to release a StatefulSet's
// pods and claims after an orphaning delete.
const orphanDeleteTimeout = 2 * time.Minute

// migrateImmutable makes the store's live objects accept the revision rendered in manifest
// (Helm's release manifest: the resources, hooks excluded), and must run after the new
// revision is rendered and before it is applied.
//
// A StatefulSet whose immutable fields differ from the rendered ones (a store created with
// version labels on its claim template, for one) is deleted with orphan propagation: its pod
// keeps running and serving, its claims and their volumes stay, and the upgrade that follows
// creates the StatefulSet again, which adopts the pod and the claims by name and selector.
// Any other object with such a difference is refused with ErrImmutableField before anything
// is deleted. It returns "Kind/name" of every object deleted.
//
// It is safe to interrupt: a StatefulSet already deleted is simply missing, Helm creates a
// missing resource of the release on the next upgrade, and a second call finds nothing to do.
func (e *Engine) migrateImmutable(ctx context.Context, name, manifest string) ([]string, error) {
	ns := Namespace(name)
	desired, err := decodeManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("store %s: read the rendered revision: %w", name, err)
	}
	var recreate []*unstructured.Unstructured
	var refused []string
	for _, want := range desired {
		// The setup Job is created anew for each revision, under the revision's name (a
		// chart 0.1.0 hook: deleted by Helm before its next run), never patched.
		_, hook := want.GetAnnotations()["helm.sh/hook"]
		if hook || want.GetLabels()[LabelRevision] != "" || len(kube.ImmutableFields(want)) == 0 {
			continue
		}
		live, err := e.liveObject(ctx, ns, want)
		if err != nil {
			return nil, clusterErr(ctx, name, "read "+ref(want), err)
		}
		// Only the release's own objects are Helm's to patch, and so storectl's to migrate.
		if live == nil || live.GetAnnotations()["meta.helm.sh/release-name"] != name {
			continue
		}
		changed, err := kube.ImmutableChanges(live, want)
		if err != nil {
			return nil, fmt.Errorf("store %s: compare %s: %w", name, ref(want), err)
		}
		switch {
		case len(changed) == 0:
		case want.GetKind() == "StatefulSet":
			recreate = append(recreate, live)
		default:
			refused = append(refused, fmt.Sprintf("%s (%s)", ref(want), strings.Join(changed, ", ")))
		}
	}
	if len(refused) > 0 {
		return nil, &Error{Err: ErrImmutableField, Store: name, Reason: ReasonImmutableField,
			Message: "the new revision changes fields Kubernetes does not let change: " + strings.Join(refused, "; ")}
	}
	var migrated []string
	for _, live := range recreate {
		if err := e.orphanDelete(ctx, ns, live.GetName(), live.GetUID()); err != nil {
			return migrated, clusterErr(ctx, name, "delete "+ref(live)+" keeping its pods and claims", err)
		}
		migrated = append(migrated, ref(live))
	}
	return migrated, nil
}

func ref(o *unstructured.Unstructured) string { return o.GetKind() + "/" + o.GetName() }

// decodeManifest splits a rendered multi-document manifest into its objects.
func decodeManifest(manifest string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// liveObject returns the object of want's kind and name in ns as the API server has it, or
// nil when there is none.
func (e *Engine) liveObject(ctx context.Context, ns string, want *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var (
		obj runtime.Object
		err error
	)
	n, get := want.GetName(), metav1.GetOptions{}
	switch want.GetKind() {
	case "StatefulSet":
		obj, err = e.kube.AppsV1().StatefulSets(ns).Get(ctx, n, get)
	case "Deployment":
		obj, err = e.kube.AppsV1().Deployments(ns).Get(ctx, n, get)
	case "PersistentVolumeClaim":
		obj, err = e.kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, n, get)
	case "Service":
		obj, err = e.kube.CoreV1().Services(ns).Get(ctx, n, get)
	case "ConfigMap":
		obj, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, n, get)
	case "Job":
		obj, err = e.kube.BatchV1().Jobs(ns).Get(ctx, n, get)
	default:
		return nil, fmt.Errorf("no reader for the immutable fields of %s", ref(want))
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	live := &unstructured.Unstructured{Object: m}
	// Typed clients return objects without their kind.
	live.SetGroupVersionKind(want.GroupVersionKind())
	return live, nil
}

// orphanDelete deletes the StatefulSet of that UID, leaving its pods and claims, and waits
// until it is gone: an upgrade applied before the garbage collector has released them would
// find the old object still there.
func (e *Engine) orphanDelete(ctx context.Context, ns, name string, uid types.UID) error {
	sts := e.kube.AppsV1().StatefulSets(ns)
	orphan := metav1.DeletePropagationOrphan
	err := sts.Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: &orphan,
		// Never a StatefulSet created again since it was read.
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, orphanDeleteTimeout, true, func(ctx context.Context) (bool, error) {
		cur, err := sts.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return cur.UID != uid, nil
	})
}
