package release

import (
	"context"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
)

// ListChartKinds lists in ns, all kinds together, the objects of each kind the chart's
// templates declare and skip does not exclude, and returns them as a Live for DriftOf. A
// reader that has not yet read the release can so list what its drift check will need in
// the same round trip as its other reads, instead of after the release. A kind a template
// names through a template expression, or a revision of another chart holds, is not known
// here and is listed by DriftOf as before.
func (h *Helm) ListChartKinds(ctx context.Context, ns string, skip func(kind string) bool) (Live, error) {
	if h.backend != nil {
		return nil, nil
	}
	ch, err := h.chart()
	if err != nil {
		return nil, err
	}
	kinds := map[schema.GroupVersionKind]bool{}
	for _, t := range ch.Templates {
		for _, gvk := range templateKinds(string(t.Data)) {
			if !skip(gvk.Kind) {
				kinds[gvk] = true
			}
		}
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
		found = map[string]runtime.Object{}
		seen  = sets.New[string]()
	)
	for gvk := range kinds {
		seen.Insert(gvk.Kind)
		wg.Go(func() {
			objs, err := h.listKind(ctx, ns, gvk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				first = err
				return
			}
			for _, o := range objs {
				if m, err := meta.Accessor(o); err == nil {
					found[gvk.Kind+"/"+m.GetName()] = o
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return func(kind, name string) (runtime.Object, bool) {
		if !seen.Has(kind) {
			return nil, false
		}
		return found[kind+"/"+name], true
	}, nil
}

// templateKinds returns the apiVersion and kind each YAML document of a template declares
// literally, at the start of a line; a document whose either is a template expression is
// left out.
func templateKinds(tpl string) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, doc := range strings.Split("\n"+tpl, "\n---") {
		var apiVersion, kind string
		for _, line := range strings.Split(doc, "\n") {
			if v, ok := strings.CutPrefix(line, "apiVersion:"); ok && apiVersion == "" {
				apiVersion = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "kind:"); ok && kind == "" {
				kind = strings.TrimSpace(v)
			}
		}
		if apiVersion == "" || kind == "" || strings.Contains(apiVersion+kind, "{{") {
			continue
		}
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			continue
		}
		out = append(out, gv.WithKind(kind))
	}
	return out
}
