package release

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
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
	// DriftOf is Drift of a revision Get returned, with what the caller has
	// already read of its namespace.
	DriftOf(ctx context.Context, r *Release, live Live) ([]Drift, error)
}

var _ DriftReader = (*Helm)(nil)

// Live is what a caller has already read of a release's namespace: for a kind it has listed,
// the live object of that name (nil when there is none) and true; false for a kind it has not
// listed, which the drift check then lists itself.
type Live func(kind, name string) (obj runtime.Object, listed bool)

// driftFields are the fields compared on live objects, with the container
// images of the same workloads. Only fields the API server never rewrites are
// compared, so defaulting and normalisation (resource quantities, added
// defaults) are never taken for a change.
var driftFields = map[string][][]string{
	"StatefulSet": {{"spec", "replicas"}},
	"Deployment":  {{"spec", "replicas"}},
}

// Drift implements DriftReader: it reads the latest revision, then its objects.
func (h *Helm) Drift(ctx context.Context, namespace, name string) ([]Drift, error) {
	r, err := h.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return h.DriftOf(ctx, r, nil)
}

// DriftOf implements DriftReader. The objects of the manifest of kinds live has not listed
// are listed once per kind, all kinds together, in the release's namespace: the requests do
// not grow with the number of objects, and no API discovery is needed for the kinds a store
// chart holds.
func (h *Helm) DriftOf(ctx context.Context, r *Release, live Live) ([]Drift, error) {
	if r == nil || r.Status != StatusDeployed || h.backend != nil {
		return nil, nil // not deployed, or memory mode: there is no cluster to compare with
	}
	want, err := manifestObjects(r.manifest)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of release %s/%s: %w", r.Namespace, r.Name, err)
	}
	if live == nil {
		live = func(string, string) (runtime.Object, bool) { return nil, false }
	}
	listed, err := h.listUnlisted(ctx, r.Namespace, want, live)
	if err != nil {
		return nil, err
	}
	var out []Drift
	for _, w := range want {
		obj, ok := live(w.GetKind(), w.GetName())
		if !ok {
			obj = listed[objectKey(w.GroupVersionKind().GroupKind(), w.GetName())]
		}
		out = append(out, compare(w, obj)...)
	}
	return out, nil
}

// manifestObjects decodes the YAML documents of a manifest, in order. Only the objects
// whose fields are compared are decoded whole; of the others, the kind and name are all
// the check needs.
func manifestObjects(manifest string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, doc := range splitManifest(manifest) {
		head, ok := scanHead(doc)
		if !ok {
			var h struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
				return nil, err
			}
			head = docHead{apiVersion: h.APIVersion, kind: h.Kind, name: h.Metadata.Name}
		}
		if head.kind == "" {
			continue
		}
		u := &unstructured.Unstructured{Object: map[string]any{}}
		if _, whole := driftFields[head.kind]; whole {
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				return nil, err
			}
		}
		u.SetAPIVersion(head.apiVersion)
		u.SetKind(head.kind)
		u.SetName(head.name)
		out = append(out, u)
	}
	return out, nil
}

// docHead is what the drift check needs of every object of a manifest.
type docHead struct{ apiVersion, kind, name string }

// scanHead reads the head of a manifest document in the block layout templates render
// (top-level "apiVersion:" and "kind:", "name:" one level under "metadata:"), without a YAML
// parser, which on a large manifest costs more than the rest of the drift check. ok is false
// whenever the document is laid out otherwise or a value is more than a plain or simply
// quoted scalar; the caller then parses it.
func scanHead(doc string) (h docHead, ok bool) {
	inMeta, metaIndent := false, ""
	for line := range strings.SplitSeq(doc, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		indent := line[:len(line)-len(trimmed)]
		if indent == "" {
			inMeta = false
			key, val, found := strings.Cut(trimmed, ":")
			if !found {
				if trimmed == "---" {
					continue
				}
				return h, false
			}
			switch key {
			case "apiVersion":
				if h.apiVersion, ok = plainScalar(val); !ok {
					return h, false
				}
			case "kind":
				if h.kind, ok = plainScalar(val); !ok {
					return h, false
				}
			case "metadata":
				if strings.TrimSpace(val) != "" {
					return h, false // a flow mapping
				}
				inMeta, metaIndent = true, ""
			}
			continue
		}
		if !inMeta {
			continue
		}
		if metaIndent == "" {
			metaIndent = indent
		}
		if indent == metaIndent && strings.HasPrefix(trimmed, "name:") {
			if h.name, ok = plainScalar(trimmed[len("name:"):]); !ok {
				return h, false
			}
		}
	}
	return h, h.apiVersion != "" && h.kind != "" && h.name != ""
}

// plainScalar returns the value after a key's colon when it is a plain scalar or one quoted
// without escapes; false for anything a YAML parser must read (anchors, tags, flow
// collections, block scalars, escapes, comments).
func plainScalar(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	if q := v[0]; q == '"' || q == '\'' {
		if len(v) < 2 || v[len(v)-1] != q {
			return "", false
		}
		inner := v[1 : len(v)-1]
		if strings.ContainsAny(inner, "\\\"'") {
			return "", false
		}
		return inner, true
	}
	if strings.ContainsAny(v[:1], "&*!|>{}[]%@`,?:-") || strings.Contains(v, " #") || strings.Contains(v, ": ") {
		return "", false
	}
	return v, true
}

// splitManifest splits a manifest at its "---" document separators, as Helm writes them
// (at the start of a line), without the regular expression Helm splits with, which costs a
// get more than the rest of the drift check.
func splitManifest(manifest string) []string {
	var out []string
	for _, doc := range strings.Split("\n"+manifest, "\n---") {
		if strings.TrimSpace(doc) != "" {
			out = append(out, doc)
		}
	}
	return out
}

func objectKey(gk schema.GroupKind, name string) string { return gk.String() + "/" + name }

// compare returns the drift of one object of the manifest from its live state (nil: none).
func compare(want *unstructured.Unstructured, live runtime.Object) []Drift {
	kind, name := want.GetKind(), want.GetName()
	if isNil(live) {
		return []Drift{{Kind: kind, Name: name, Reason: DriftMissing}}
	}
	if m, err := meta.Accessor(live); err == nil && m.GetDeletionTimestamp() != nil {
		return []Drift{{Kind: kind, Name: name, Reason: DriftMissing}}
	}
	fields, compared := driftFields[kind]
	if !compared {
		return nil
	}
	have, err := comparable(live)
	if err != nil {
		return nil
	}
	var out []Drift
	for _, f := range fields {
		w, wok, _ := unstructured.NestedFieldNoCopy(want.Object, f...)
		g, _, _ := unstructured.NestedFieldNoCopy(have, f...)
		if wok && fmt.Sprint(w) != fmt.Sprint(g) {
			out = append(out, Drift{Kind: kind, Name: name, Reason: DriftChanged, Field: strings.Join(f, ".")})
		}
	}
	for _, list := range []string{"initContainers", "containers"} {
		if !reflect.DeepEqual(images(want.Object, list), images(have, list)) {
			out = append(out, Drift{Kind: kind, Name: name, Reason: DriftChanged, Field: "spec.template.spec." + list + "[].image"})
		}
	}
	return out
}

// comparable returns the compared fields of a live workload in the layout of its manifest.
// The typed workloads the store's reads list are read directly: converting them to
// unstructured walks every field by reflection, which in a short-lived process costs more
// than the rest of the check.
func comparable(live runtime.Object) (map[string]any, error) {
	var replicas *int32
	var spec *corev1.PodSpec
	switch o := live.(type) {
	case *appsv1.Deployment:
		replicas, spec = o.Spec.Replicas, &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		replicas, spec = o.Spec.Replicas, &o.Spec.Template.Spec
	default:
		return runtime.DefaultUnstructuredConverter.ToUnstructured(live)
	}
	containers := func(cs []corev1.Container) []any {
		out := make([]any, 0, len(cs))
		for _, c := range cs {
			out = append(out, map[string]any{"image": c.Image})
		}
		return out
	}
	top := map[string]any{
		"template": map[string]any{"spec": map[string]any{
			"initContainers": containers(spec.InitContainers),
			"containers":     containers(spec.Containers),
		}},
	}
	if replicas != nil {
		top["replicas"] = int64(*replicas)
	}
	return map[string]any{"spec": top}, nil
}

func isNil(o runtime.Object) bool {
	if o == nil {
		return true
	}
	v := reflect.ValueOf(o)
	return v.Kind() == reflect.Pointer && v.IsNil()
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

// listUnlisted lists, concurrently, each kind of the manifest that live has not listed, and
// returns the objects found by objectKey. The workloads whose fields are compared are listed
// whole, every other kind as metadata only.
func (h *Helm) listUnlisted(ctx context.Context, ns string, want []*unstructured.Unstructured, live Live) (map[string]runtime.Object, error) {
	kinds := map[schema.GroupVersionKind]bool{}
	for _, w := range want {
		if _, listed := live(w.GetKind(), w.GetName()); !listed {
			kinds[w.GroupVersionKind()] = true
		}
	}
	var (
		mu    sync.Mutex
		out   = map[string]runtime.Object{}
		wg    sync.WaitGroup
		first error
	)
	for gvk := range kinds {
		wg.Go(func() {
			objs, err := h.listKind(ctx, ns, gvk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("list %s in %s: %w", gvk.Kind, ns, err)
				}
				return
			}
			for _, o := range objs {
				if m, err := meta.Accessor(o); err == nil {
					out[objectKey(gvk.GroupKind(), m.GetName())] = o
				}
			}
		})
	}
	wg.Wait()
	return out, first
}

// listKind lists the objects of one kind in ns.
func (h *Helm) listKind(ctx context.Context, ns string, gvk schema.GroupVersionKind) ([]runtime.Object, error) {
	lo := metav1.ListOptions{}
	switch gvk.GroupKind() {
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		l, err := h.client.AppsV1().StatefulSets(ns).List(ctx, lo)
		return itemsOf(l, err, func(i int) runtime.Object { return &l.Items[i] })
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		l, err := h.client.AppsV1().Deployments(ns).List(ctx, lo)
		return itemsOf(l, err, func(i int) runtime.Object { return &l.Items[i] })
	}
	gvr, err := h.resourceOf(gvk)
	if err != nil {
		return nil, err
	}
	l, err := h.meta.Resource(gvr).Namespace(ns).List(ctx, lo)
	return itemsOf(l, err, func(i int) runtime.Object { return &l.Items[i] })
}

func itemsOf(l metav1.ListInterface, err error, item func(int) runtime.Object) ([]runtime.Object, error) {
	if err != nil {
		return nil, err
	}
	n := meta.LenList(l.(runtime.Object))
	out := make([]runtime.Object, n)
	for i := range n {
		out[i] = item(i)
	}
	return out, nil
}

// resources are the API resources of the kinds a store chart holds, all namespaced; another
// kind is looked up through API discovery.
var resources = map[schema.GroupKind]string{
	{Kind: "ConfigMap"}:                                       "configmaps",
	{Kind: "Secret"}:                                          "secrets",
	{Kind: "Service"}:                                         "services",
	{Kind: "ServiceAccount"}:                                  "serviceaccounts",
	{Kind: "PersistentVolumeClaim"}:                           "persistentvolumeclaims",
	{Kind: "LimitRange"}:                                      "limitranges",
	{Kind: "ResourceQuota"}:                                   "resourcequotas",
	{Group: "apps", Kind: "StatefulSet"}:                      "statefulsets",
	{Group: "apps", Kind: "Deployment"}:                       "deployments",
	{Group: "batch", Kind: "Job"}:                             "jobs",
	{Group: "batch", Kind: "CronJob"}:                         "cronjobs",
	{Group: "networking.k8s.io", Kind: "Ingress"}:             "ingresses",
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}:       "networkpolicies",
	{Group: "policy", Kind: "PodDisruptionBudget"}:            "poddisruptionbudgets",
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:        "roles",
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}: "rolebindings",
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:   "horizontalpodautoscalers",
}

func (h *Helm) resourceOf(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
	if r, ok := resources[gvk.GroupKind()]; ok {
		return gvk.GroupVersion().WithResource(r), nil
	}
	mapper, err := h.getter.ToRESTMapper()
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return m.Resource, nil
}
