package store

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// ChangesOptions selects what Changes watches.
type ChangesOptions struct {
	// Name limits the watch to one store; "" watches every store.
	Name string
	// Selector is a label selector on store namespaces, as ListOptions.Selector.
	Selector string
}

// Changes calls notify after the cluster changed something a store's status is computed
// from: its namespace, pods, statefulsets, deployments and jobs, and for one store also its
// ingresses. Informers list once and then watch, re-listing on their own after an API server
// restart. Events arriving together are coalesced: notify runs at most once per interval,
// and never concurrently. Changes returns when ctx ends, with nil, or when the informers
// cannot start, with the cluster's error.
func (e *Engine) Changes(ctx context.Context, o ChangesOptions, notify func()) error {
	nsSel := storeSelector
	if o.Selector != "" {
		if _, err := labels.Parse(o.Selector); err != nil {
			return fmt.Errorf("%w: selector %q: %w", ErrInvalidValues, o.Selector, err)
		}
		nsSel += "," + o.Selector
	}
	objNS := metav1.NamespaceAll
	if o.Name != "" {
		objNS = Namespace(o.Name)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nsFactory := informers.NewSharedInformerFactoryWithOptions(e.kube, 0,
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.LabelSelector = nsSel
			if o.Name != "" {
				lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", Namespace(o.Name)).String()
			}
		}))
	objFactory := informers.NewSharedInformerFactoryWithOptions(e.kube, 0, informers.WithNamespace(objNS),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = LabelPartOf + "=" + ManagedBy }))
	nsMatch, _ := labels.Parse(nsSel)
	objMatch := labels.SelectorFromSet(labels.Set{LabelPartOf: ManagedBy})
	infs := []filtered{
		{nsFactory.Core().V1().Namespaces().Informer(), nsMatch},
		{objFactory.Core().V1().Pods().Informer(), objMatch},
		{objFactory.Apps().V1().StatefulSets().Informer(), objMatch},
		{objFactory.Apps().V1().Deployments().Informer(), objMatch},
		{objFactory.Batch().V1().Jobs().Informer(), objMatch},
	}
	if o.Name != "" {
		infs = append(infs, filtered{objFactory.Networking().V1().Ingresses().Informer(), objMatch})
	}
	return runChanges(ctx, infs, []interface{ Start(<-chan struct{}) }{nsFactory, objFactory}, notify)
}

// filtered is an informer and the labels its objects must carry. The API server already
// selects by them; checking again costs nothing and keeps a watch that ignores selectors
// (a fake, an aggregated API) from reporting other objects.
type filtered struct {
	inf   cache.SharedIndexInformer
	match labels.Selector
}

func (f filtered) wants(obj any) bool {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	return err == nil && f.match.Matches(labels.Set(m.GetLabels()))
}

// changesInterval is the shortest time between two notifications of Changes: a store
// coming up changes a dozen objects within a second, and one redraw shows them all.
const changesInterval = 500 * time.Millisecond

func runChanges(ctx context.Context, infs []filtered, factories []interface{ Start(<-chan struct{}) }, notify func()) error {
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	synced := make([]cache.InformerSynced, 0, len(infs))
	for _, f := range infs {
		h := cache.FilteringResourceEventHandler{
			FilterFunc: f.wants,
			Handler: cache.ResourceEventHandlerFuncs{
				AddFunc:    func(any) { poke() },
				UpdateFunc: func(any, any) { poke() },
				DeleteFunc: func(any) { poke() },
			},
		}
		if _, err := f.inf.AddEventHandler(h); err != nil {
			return err
		}
		synced = append(synced, f.inf.HasSynced)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%w: the watch on stores did not start", ErrUnreachable)
	}
	// The first list of every informer reported each object as added: drop those.
	select {
	case <-changed:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		notify()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(changesInterval):
		}
	}
}
