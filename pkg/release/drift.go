package release

import (
	"bytes"
	"context"
	"fmt"
	"reflect"

	helmkube "helm.sh/helm/v3/pkg/kube"
	helmrelease "helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Drift reasons.
const (
	// DriftMissing means the object is in the release but not in the cluster.
	DriftMissing = "Missing"
	// DriftChanged means a field the release sets has another value live.
	DriftChanged = "Changed"
)

// Drift is one object of a deployed revision that the cluster no longer
// holds as the revision applied it.
type Drift struct {
	Kind   string
	Name   string
	Reason string
	// Field is the changed field (DriftChanged), e.g. spec.replicas.
	Field string
}

// DriftReader is implemented by managers that can compare a deployed
// revision with the cluster.
type DriftReader interface {
	// Drift returns what of the latest revision, when it is deployed, is
	// missing from the cluster or changed there. A revision that is not
	// deployed has no drift: it is still being applied or has failed.
	Drift(ctx context.Context, namespace, name string) ([]Drift, error)
}

var _ DriftReader = (*Helm)(nil)

// driftFields are the fields compared on live objects, with the container
// images of the same workloads. Only fields the API server never rewrites are
// compared, so defaulting and normalisation (resource quantities, added
// defaults) are never taken for a change.
var driftFields = map[string][][]string{
	"StatefulSet": {{"spec", "replicas"}},
	"Deployment":  {{"spec", "replicas"}},
}

// Drift implements DriftReader. Each object of the manifest is read once,
// bound to ctx.
func (h *Helm) Drift(ctx context.Context, namespace, name string) ([]Drift, error) {
	cfg := h.config(ctx, namespace)
	last, err := latest(cfg, name)
	if err != nil {
		return nil, err
	}
	if last.Info == nil || last.Info.Status != helmrelease.StatusDeployed {
		return nil, nil
	}
	kc, ok := cfg.KubeClient.(*helmkube.Client)
	if !ok {
		return nil, nil // memory mode: there is no cluster to compare with
	}
	infos, err := kc.Build(bytes.NewBufferString(last.Manifest), false)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of release %s/%s: %w", namespace, name, err)
	}
	var out []Drift
	for _, info := range infos {
		kind := info.Mapping.GroupVersionKind.Kind
		live, err := info.Client.Get().
			NamespaceIfScoped(info.Namespace, info.Mapping.Scope.Name() == "namespace").
			Resource(info.Mapping.Resource.Resource).Name(info.Name).
			Do(ctx).Get()
		if apierrors.IsNotFound(err) {
			out = append(out, Drift{Kind: kind, Name: info.Name, Reason: DriftMissing})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", kind, info.Name, err)
		}
		if u, ok := live.(*unstructured.Unstructured); ok && u.GetDeletionTimestamp() != nil {
			out = append(out, Drift{Kind: kind, Name: info.Name, Reason: DriftMissing})
			continue
		}
		want, err1 := runtime.DefaultUnstructuredConverter.ToUnstructured(info.Object)
		have, err2 := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
		if err1 != nil || err2 != nil {
			continue
		}
		for _, f := range driftFields[kind] {
			w, wok, _ := unstructured.NestedFieldNoCopy(want, f...)
			g, _, _ := unstructured.NestedFieldNoCopy(have, f...)
			if wok && !reflect.DeepEqual(fmt.Sprint(w), fmt.Sprint(g)) {
				out = append(out, Drift{Kind: kind, Name: info.Name, Reason: DriftChanged, Field: joinPath(f)})
			}
		}
		if _, ok := driftFields[kind]; ok {
			for _, list := range []string{"initContainers", "containers"} {
				if !reflect.DeepEqual(images(want, list), images(have, list)) {
					out = append(out, Drift{Kind: kind, Name: info.Name, Reason: DriftChanged, Field: "spec.template.spec." + list + "[].image"})
				}
			}
		}
	}
	return out, nil
}

// images returns the container images of a workload's pod template, in order.
func images(obj map[string]any, list string) []string {
	cs, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", list)
	var out []string
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok {
			img, _ := m["image"].(string)
			out = append(out, img)
		}
	}
	return out
}

func joinPath(p []string) string {
	var b bytes.Buffer
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
