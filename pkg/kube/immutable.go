package kube

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// immutableRule lists the fields of one kind that the API server refuses to change once the
// object exists, as Kubernetes 1.37's update validation decides (ValidateStatefulSetUpdate,
// ValidateDeploymentUpdate, ValidateJobSpecUpdate, ValidatePersistentVolumeClaimUpdate,
// ValidateServiceUpdate, ValidateConfigMapUpdate, ValidateSecretUpdate).
type immutableRule struct {
	group, kind string
	paths       []string
	// when, if set, says whether the rule applies to this object at all.
	when func(obj map[string]any) bool
}

func markedImmutable(obj map[string]any) bool {
	v, _, _ := unstructured.NestedBool(obj, "immutable")
	return v
}

var immutableRules = []immutableRule{
	{group: "apps", kind: "StatefulSet", paths: []string{
		"spec.selector", "spec.serviceName", "spec.podManagementPolicy", "spec.volumeClaimTemplates",
	}},
	{group: "apps", kind: "Deployment", paths: []string{"spec.selector"}},
	{group: "apps", kind: "ReplicaSet", paths: []string{"spec.selector"}},
	{group: "apps", kind: "DaemonSet", paths: []string{"spec.selector"}},
	{group: "batch", kind: "Job", paths: []string{
		"spec.selector", "spec.template", "spec.completionMode", "spec.podFailurePolicy",
		"spec.backoffLimitPerIndex", "spec.managedBy", "spec.successPolicy",
	}},
	// A claim's spec is fixed except resources.requests (which may only grow) and
	// volumeAttributesClassName.
	{group: "", kind: "PersistentVolumeClaim", paths: []string{
		"spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeMode",
		"spec.volumeName", "spec.dataSource", "spec.dataSourceRef",
	}},
	{group: "", kind: "Service", paths: []string{"spec.clusterIP", "spec.clusterIPs"}},
	{group: "", kind: "ConfigMap", paths: []string{"data", "binaryData"}, when: markedImmutable},
	{group: "", kind: "Secret", paths: []string{"type", "data", "stringData"}, when: markedImmutable},
}

func ruleFor(obj *unstructured.Unstructured) *immutableRule {
	gvk := obj.GroupVersionKind()
	for i := range immutableRules {
		r := &immutableRules[i]
		if r.group == gvk.Group && r.kind == gvk.Kind && (r.when == nil || r.when(obj.Object)) {
			return r
		}
	}
	return nil
}

// ImmutableFields returns what obj holds at the fields Kubernetes refuses to change once an
// object of its kind exists, keyed by dotted path ("spec.volumeClaimTemplates"). Fields obj
// does not set are left out; a kind without such fields gives an empty map. An object whose
// fields here differ from the live object's cannot be applied over it: it has to be deleted
// and created again.
func ImmutableFields(obj *unstructured.Unstructured) map[string]any {
	out := map[string]any{}
	r := ruleFor(obj)
	if r == nil {
		return out
	}
	for _, p := range r.paths {
		if v, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, strings.Split(p, ".")...); ok {
			out[p] = v
		}
	}
	return out
}

// ImmutableChanges returns the immutable fields (dotted paths, sorted) at which applying
// desired, a rendered object, over live, the object as the API server returns it, would be
// refused. It tolerates what the server adds on its own: a field desired leaves out, and a
// key of a spec map desired does not set (defaults such as a claim template's volumeMode or
// status), are not changes. Labels, annotations and selectors' matchLabels are compared
// exactly: the server adds none to templates, and a removed label is a change.
func ImmutableChanges(live, desired *unstructured.Unstructured) ([]string, error) {
	want := ImmutableFields(desired)
	have := ImmutableFields(live)
	var changed []string
	for p, w := range want {
		wn, err := normalize(w)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", desired.GetKind(), p, err)
		}
		hn, err := normalize(have[p])
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", live.GetKind(), p, err)
		}
		if !contains(hn, wn, lastSegment(p)) {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	return changed, nil
}

func lastSegment(p string) string { return p[strings.LastIndex(p, ".")+1:] }

// normalize gives numbers one type (float64) whether they came from YAML or the API.
func normalize(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// exactMaps are the maps whose keys are compared exactly rather than as a subset.
var exactMaps = map[string]bool{"labels": true, "annotations": true, "matchLabels": true}

// contains reports whether have holds everything want says, key is want's name in its parent.
func contains(have, want any, key string) bool {
	switch w := want.(type) {
	case nil:
		// A null in a manifest leaves the field as it is.
		return true
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return have == nil && len(w) == 0
		}
		if exactMaps[key] {
			return reflect.DeepEqual(h, w)
		}
		for k, wv := range w {
			if !contains(h[k], wv, k) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i], key) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}
