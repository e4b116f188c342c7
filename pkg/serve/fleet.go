package serve

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/storectl/storectl/pkg/store"
)

// fleet is the server's one view of every store, shared by every request and event stream.
// One set of label-filtered informers (store namespaces, and the pods, workloads and jobs
// storectl's chart labels, which docs/rbac.yaml's ClusterRole lets it watch cluster-wide)
// says which stores changed; each changed store is then
// read once through the engine, so its status is computed exactly as `storectl get` does,
// and the result is kept and sent to the streams that follow it.
type fleet struct {
	eng  Engine
	kube kubernetes.Interface
	log  *slog.Logger

	mu       sync.RWMutex
	stores   map[string]*store.Store
	deleting map[string]bool
	subs     map[*subscriber]struct{}
	synced   chan struct{}
	pending  map[string]bool
	poke     chan struct{}
}

// event is one message to the event streams.
type event struct {
	kind     string // store, progress or deleted
	name     string
	store    *store.Store
	progress *store.Progress
}

// subscriber is one event stream: of one store (name), or of all ("").
type subscriber struct {
	name string
	ch   chan event
	// gone is closed when the stream fell too far behind and was dropped.
	gone chan struct{}
}

// debounce gathers the many changes of one store coming up into one read.
const debounce = 300 * time.Millisecond

// subscriberBuffer is how many events a stream may lag behind before it is dropped; the
// client reconnects and starts again from a snapshot.
const subscriberBuffer = 256

func newFleet(eng Engine, kube kubernetes.Interface, log *slog.Logger) *fleet {
	return &fleet{eng: eng, kube: kube, log: log, stores: map[string]*store.Store{}, deleting: map[string]bool{},
		subs: map[*subscriber]struct{}{}, synced: make(chan struct{}), pending: map[string]bool{}, poke: make(chan struct{}, 1)}
}

// run keeps the view until ctx ends.
func (f *fleet) run(ctx context.Context) {
	if err := f.watch(ctx); err != nil {
		f.log.Error("store cache did not start", "error", err.Error())
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.poke:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(debounce):
		}
		f.mu.Lock()
		names := make([]string, 0, len(f.pending))
		for n := range f.pending {
			names = append(names, n)
		}
		f.pending = map[string]bool{}
		f.mu.Unlock()
		for _, n := range names {
			f.refresh(ctx, n)
		}
	}
}

// watch starts the informers, waits for their caches and takes the first list.
func (f *fleet) watch(ctx context.Context) error {
	nsf := informers.NewSharedInformerFactoryWithOptions(f.kube, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.LabelSelector = store.LabelManagedBy + "=" + store.ManagedBy + "," + store.LabelStore
	}))
	objf := informers.NewSharedInformerFactoryWithOptions(f.kube, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.LabelSelector = store.LabelPartOf + "=" + store.ManagedBy
	}))
	infs := []cache.SharedIndexInformer{
		nsf.Core().V1().Namespaces().Informer(),
		objf.Core().V1().Pods().Informer(),
		objf.Apps().V1().StatefulSets().Informer(),
		objf.Apps().V1().Deployments().Informer(),
		objf.Batch().V1().Jobs().Informer(),
	}
	synced := make([]cache.InformerSynced, 0, len(infs))
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { f.mark(storeOf(o)) },
		UpdateFunc: func(_, o any) { f.mark(storeOf(o)) },
		DeleteFunc: func(o any) { f.mark(storeOf(o)) },
	}
	for _, inf := range infs {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
		synced = append(synced, inf.HasSynced)
	}
	nsf.Start(ctx.Done())
	objf.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return errors.New("the watch on stores did not start")
	}
	return f.initial(ctx)
}

// initial reads every store once, after the caches synced; the changes marked until then
// are in that read.
func (f *fleet) initial(ctx context.Context) error {
	for {
		lctx, cancel := context.WithTimeout(ctx, time.Minute)
		all, err := f.eng.List(lctx, store.ListOptions{})
		cancel()
		if err == nil {
			f.mu.Lock()
			for i := range all {
				f.stores[all[i].Name] = &all[i]
			}
			f.pending = map[string]bool{}
			close(f.synced)
			f.mu.Unlock()
			f.log.Info("store cache synced", "stores", len(all))
			return nil
		}
		f.log.Warn("listing stores failed; retrying", "error", err.Error())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// storeOf names the store an object belongs to, "" when none.
func storeOf(obj any) string {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	ns := m.GetNamespace()
	if ns == "" { // the namespace itself
		ns = m.GetName()
	}
	name, ok := strings.CutPrefix(ns, "store-")
	if !ok {
		return ""
	}
	return name
}

// mark asks for a fresh read of store name.
func (f *fleet) mark(name string) {
	if name == "" {
		return
	}
	f.mu.Lock()
	f.pending[name] = true
	f.mu.Unlock()
	select {
	case f.poke <- struct{}{}:
	default:
	}
}

// refresh reads one store and tells the streams when it changed or is gone.
func (f *fleet) refresh(ctx context.Context, name string) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := f.eng.Get(rctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		f.remove(name)
	case err != nil:
		if ctx.Err() == nil {
			f.log.Warn("reading a store failed; retrying", "store", name, "error", err.Error())
			time.AfterFunc(2*time.Second, func() { f.mark(name) })
		}
	default:
		f.put(s)
	}
}

func (f *fleet) put(s *store.Store) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old := f.stores[s.Name]; old != nil && reflect.DeepEqual(old, s) {
		return
	}
	f.stores[s.Name] = s
	f.publishLocked(event{kind: "store", name: s.Name, store: f.viewLocked(s)})
}

func (f *fleet) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.stores[name]; !ok {
		return
	}
	delete(f.stores, name)
	f.publishLocked(event{kind: "deleted", name: name})
}

// setDeleting records that the server is deleting store name, so that it reads Deleting
// from the moment the delete is accepted, through the release's uninstall, until it is gone.
func (f *fleet) setDeleting(name string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deleting[name] == on {
		return
	}
	if on {
		f.deleting[name] = true
	} else {
		delete(f.deleting, name)
	}
	if s := f.stores[name]; s != nil {
		f.publishLocked(event{kind: "store", name: name, store: f.viewLocked(s)})
	}
}

// viewLocked is a store as the API shows it: Deleting while the server deletes it.
func (f *fleet) viewLocked(s *store.Store) *store.Store {
	if !f.deleting[s.Name] || s.Phase == store.PhaseDeleting {
		return s
	}
	c := *s
	c.Phase, c.Reason, c.Message = store.PhaseDeleting, "DeleteRequested", "the server is deleting the store"
	return &c
}

// view returns a store as the API shows it.
func (f *fleet) view(s *store.Store) *store.Store {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.viewLocked(s)
}

// isSynced reports whether the first read of every store is done.
func (f *fleet) isSynced() bool {
	select {
	case <-f.synced:
		return true
	default:
		return false
	}
}

// get returns the cached store, or nil.
func (f *fleet) get(name string) *store.Store {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if s := f.stores[name]; s != nil {
		return f.viewLocked(s)
	}
	return nil
}

// list returns every cached store, sorted by name.
func (f *fleet) list() []*store.Store {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.listLocked("")
}

func (f *fleet) listLocked(name string) []*store.Store {
	out := make([]*store.Store, 0, len(f.stores))
	for n, s := range f.stores {
		if name == "" || n == name {
			out = append(out, f.viewLocked(s))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// subscribe starts a stream of store name ("" for all) and returns what it starts from.
func (f *fleet) subscribe(name string) (*subscriber, []*store.Store) {
	sub := &subscriber{name: name, ch: make(chan event, subscriberBuffer), gone: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[sub] = struct{}{}
	return sub, f.listLocked(name)
}

func (f *fleet) unsubscribe(sub *subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, sub)
}

// progress sends one step of an operation to the streams of its store.
func (f *fleet) progress(name string, p store.Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publishLocked(event{kind: "progress", name: name, progress: &p})
}

func (f *fleet) publishLocked(ev event) {
	for sub := range f.subs {
		if sub.name != "" && sub.name != ev.name {
			continue
		}
		if sub.name == "" && ev.kind == "progress" {
			continue
		}
		select {
		case sub.ch <- ev:
		default:
			delete(f.subs, sub)
			close(sub.gone)
		}
	}
}

// counts returns the number of stores in each phase.
func (f *fleet) counts() map[store.Phase]int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := map[store.Phase]int{store.PhaseProvisioning: 0, store.PhaseReady: 0, store.PhaseFailed: 0, store.PhaseDeleting: 0}
	for _, s := range f.stores {
		out[f.viewLocked(s).Phase]++
	}
	return out
}
