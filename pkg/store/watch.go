package store

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/storectl/storectl/pkg/release"
)

// watcher keeps an event-driven picture of one store namespace. Informers
// list once and then watch; when the API server restarts they re-list and
// re-watch on their own, so a create carries on across the outage.
type watcher struct {
	e    *Engine
	name string
	ns   string

	stop    context.CancelFunc
	changed chan struct{}

	nsInf, pods, sts, deploys, jobs, pvcs, events, ings, secrets, pvs cache.SharedIndexInformer

	mu        sync.Mutex
	lastErr   error // the last list or watch error of any informer
	rel       *release.Release
	relDirty  bool // the release records changed since rel was read
	staleJobs map[types.UID]bool
	stalePods map[types.UID]bool
	staleEnd  time.Time
}

// markJobsStale records the setup Jobs and pods present now as belonging to
// an earlier revision (call after synced, before applying a new revision).
func (w *watcher) markJobsStale() {
	stale := map[types.UID]bool{}
	for _, j := range listOf[batchv1.Job](w.jobs) {
		stale[j.UID] = true
	}
	pods := map[types.UID]bool{}
	for _, p := range listOf[corev1.Pod](w.pods) {
		pods[p.UID] = true
	}
	w.mu.Lock()
	w.staleJobs, w.stalePods, w.staleEnd = stale, pods, time.Now().Add(staleGrace)
	w.mu.Unlock()
}

// staleGrace is how long failures of pods from before an apply are not
// judged: long enough for Helm to update the workloads and their controllers
// to start replacing those pods, short enough that a failure the new
// revision did not fix is still reported within seconds.
const staleGrace = 10 * time.Second

// watchOptions says which object kinds a watcher needs.
type watchOptions struct {
	workloads bool // pods, statefulsets, deployments, jobs, pvcs, events, ingresses, release secrets
	volumes   bool // cluster-scoped PersistentVolumes (delete)
}

func (e *Engine) newWatcher(name string, o watchOptions) *watcher {
	ctx, stop := context.WithCancel(context.Background())
	ns := Namespace(name)
	w := &watcher{e: e, name: name, ns: ns, stop: stop, changed: make(chan struct{}, 1)}

	nsFactory := informers.NewSharedInformerFactoryWithOptions(e.kube, 0,
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", ns).String()
		}))
	w.nsInf = nsFactory.Core().V1().Namespaces().Informer()
	w.notify(w.nsInf)
	factories := []informers.SharedInformerFactory{nsFactory}

	if o.workloads {
		f := informers.NewSharedInformerFactoryWithOptions(e.kube, 0, informers.WithNamespace(ns))
		w.pods = f.Core().V1().Pods().Informer()
		w.sts = f.Apps().V1().StatefulSets().Informer()
		w.deploys = f.Apps().V1().Deployments().Informer()
		w.jobs = f.Batch().V1().Jobs().Informer()
		w.pvcs = f.Core().V1().PersistentVolumeClaims().Informer()
		w.events = f.Core().V1().Events().Informer()
		w.ings = f.Networking().V1().Ingresses().Informer()
		for _, inf := range []cache.SharedIndexInformer{w.pods, w.sts, w.deploys, w.jobs, w.pvcs, w.events, w.ings} {
			w.notify(inf)
		}
		// Release records: a change means the release moved on (deployed,
		// failed); the watch loop then re-reads it through the release
		// manager (the handler makes no API call).
		sf := informers.NewSharedInformerFactoryWithOptions(e.kube, 0, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
				lo.LabelSelector = labels.Set{"owner": "helm", "name": name}.String()
			}))
		w.secrets = sf.Core().V1().Secrets().Informer()
		w.trackErrors(w.secrets)
		_, _ = w.secrets.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { w.releaseChanged(o) },
			UpdateFunc: func(_, o any) { w.releaseChanged(o) },
			DeleteFunc: func(any) { w.releaseChanged(nil) },
		})
		factories = append(factories, f, sf)
	}
	if o.volumes {
		f := informers.NewSharedInformerFactory(e.kube, 0)
		w.pvs = f.Core().V1().PersistentVolumes().Informer()
		w.notify(w.pvs)
		if w.pods == nil {
			nf := informers.NewSharedInformerFactoryWithOptions(e.kube, 0, informers.WithNamespace(ns))
			w.pods = nf.Core().V1().Pods().Informer()
			w.pvcs = nf.Core().V1().PersistentVolumeClaims().Informer()
			w.notify(w.pods)
			w.notify(w.pvcs)
			factories = append(factories, nf)
		}
		factories = append(factories, f)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	return w
}

func (w *watcher) notify(inf cache.SharedIndexInformer) {
	w.trackErrors(inf)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.poke() },
		UpdateFunc: func(any, any) { w.poke() },
		DeleteFunc: func(any) { w.poke() },
	})
}

func (w *watcher) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// trackErrors records the informer's list and watch errors instead of
// logging them: the reflector retries on its own, and the last error says why
// a wait that ends without an answer ended so.
func (w *watcher) trackErrors(inf cache.SharedIndexInformer) {
	_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		w.mu.Lock()
		w.lastErr = err
		w.mu.Unlock()
	})
}

func (w *watcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// sync waits for the first list of every informer, until ctx ends. The
// informers retry a failing list forever, so ctx must carry the operation's
// deadline: a cluster that does not answer by then is unreachable.
func (w *watcher) sync(ctx context.Context, during string) error {
	var fns []cache.InformerSynced
	for _, inf := range []cache.SharedIndexInformer{w.nsInf, w.pods, w.sts, w.deploys, w.jobs, w.pvcs, w.events, w.ings, w.secrets, w.pvs} {
		if inf != nil {
			fns = append(fns, inf.HasSynced)
		}
	}
	// Checked every few milliseconds: client-go's WaitForCacheSync checks every 100 ms, which
	// a create or an upgrade would wait out after the lists have long arrived.
	synced := func(context.Context) (bool, error) {
		for _, f := range fns {
			if !f() {
				return false, nil
			}
		}
		return true, nil
	}
	if wait.PollUntilContextCancel(ctx, syncPoll, true, synced) == nil {
		return nil
	}
	if cancelled(ctx) {
		return interrupted(w.name, during)
	}
	return unreachableErr(w.name, during, w.err())
}

// syncPoll is how often sync checks the informers.
const syncPoll = 5 * time.Millisecond

// probeGrace bounds the reads made after a deadline to check the caches
// against the cluster before a wait reports how it ended.
const probeGrace = 2 * time.Second

// probeContext returns a context for those reads: ctx's values and
// cancellation by the caller, but not its (already passed) deadline.
func probeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeGrace)
	if cancelled(ctx) {
		cancel()
	}
	return pctx, cancel
}

// probe reads the store namespace straight from the API server, bypassing
// the caches, which go stale without a word when the connection drops. It
// returns the namespace as the cluster has it (nil when gone or not a store).
func (w *watcher) probe(ctx context.Context) (*corev1.Namespace, error) {
	pctx, cancel := probeContext(ctx)
	defer cancel()
	n, err := w.e.kube.CoreV1().Namespaces().Get(pctx, w.ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !IsStore(n, w.name) {
		return nil, nil
	}
	return n, nil
}

func (w *watcher) close() { w.stop() }

func (w *watcher) refreshRelease(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	r, err := w.e.rel.Get(rctx, w.ns, w.name)
	if err != nil && !errors.Is(err, release.ErrNotFound) {
		return // keep the last known record; the next change retries
	}
	w.mu.Lock()
	w.rel = r
	w.mu.Unlock()
	w.poke()
}

// releaseChanged notes that the release records changed, unless the record written (nil: a
// deletion) says only what the watcher knows: an older revision, or the latest one at the
// status already read (as when the apply that wrote it has returned it).
func (w *watcher) releaseChanged(obj any) {
	w.mu.Lock()
	if s, ok := obj.(*corev1.Secret); ok && w.rel != nil {
		v, err := strconv.Atoi(s.Labels["version"])
		if err == nil && (v < w.rel.Revision || (v == w.rel.Revision && s.Labels["status"] == w.rel.Status)) {
			w.mu.Unlock()
			return
		}
	}
	w.relDirty = true
	w.mu.Unlock()
	w.poke()
}

// refreshIfChanged re-reads the release when its records changed.
func (w *watcher) refreshIfChanged(ctx context.Context) {
	w.mu.Lock()
	dirty := w.relDirty
	w.relDirty = false
	w.mu.Unlock()
	if dirty {
		w.refreshRelease(ctx)
	}
}

func (w *watcher) setRelease(r *release.Release) {
	w.mu.Lock()
	w.rel = r
	w.mu.Unlock()
	w.poke()
}

func listOf[T any](inf cache.SharedIndexInformer) []T {
	if inf == nil {
		return nil
	}
	var out []T
	for _, o := range inf.GetStore().List() {
		if t, ok := o.(*T); ok {
			out = append(out, *t)
		}
	}
	return out
}

// namespace returns the store's namespace as cached, or nil when it is gone
// or fails IsStore (then there is no store to follow).
func (w *watcher) namespace() *corev1.Namespace {
	for _, n := range listOf[corev1.Namespace](w.nsInf) {
		if IsStore(&n, w.name) {
			return &n
		}
	}
	return nil
}

// snapshot reads the informer caches; no API call.
func (w *watcher) snapshot(since time.Time) Snapshot {
	w.mu.Lock()
	rel, stale, stalePods, staleEnd := w.rel, w.staleJobs, w.stalePods, w.staleEnd
	w.mu.Unlock()
	return Snapshot{
		StaleJobs:    stale,
		StalePods:    stalePods,
		StaleUntil:   staleEnd,
		Name:         w.name,
		Namespace:    w.namespace(),
		Release:      rel,
		StatefulSets: listOf[appsv1.StatefulSet](w.sts),
		Deployments:  listOf[appsv1.Deployment](w.deploys),
		Jobs:         listOf[batchv1.Job](w.jobs),
		Pods:         listOf[corev1.Pod](w.pods),
		PVCs:         listOf[corev1.PersistentVolumeClaim](w.pvcs),
		Events:       listOf[corev1.Event](w.events),
		Ingresses:    listOf[networkingv1.Ingress](w.ings),
		Since:        since,
		Now:          w.e.now(),
	}
}

// progressTracker turns component states into Progress reports, one per
// change of state or message.
type progressTracker struct {
	on      func(Progress)
	now     func() time.Time
	start   time.Time
	started map[string]time.Time
	last    map[string]Progress
}

func newProgressTracker(on func(Progress), now func() time.Time) *progressTracker {
	return &progressTracker{on: on, now: now, start: now(), started: map[string]time.Time{}, last: map[string]Progress{}}
}

func (t *progressTracker) report(step, state, msg string) {
	if t.on == nil {
		return
	}
	prev, seen := t.last[step]
	if seen && prev.State == state && prev.Message == msg {
		return
	}
	if seen && prev.State != ProgressRunning {
		return // a step reports done/failed once
	}
	if _, ok := t.started[step]; !ok {
		t.started[step] = t.now()
	}
	p := Progress{Step: step, State: state, Message: msg, Elapsed: t.now().Sub(t.started[step])}
	t.last[step] = p
	t.on(p)
}

func (t *progressTracker) components(cs []Component) {
	for _, c := range cs {
		switch {
		case c.Ready:
			t.report(c.Name, ProgressDone, c.Message)
		case c.State == StateFailed:
			t.report(c.Name, ProgressFailed, c.Reason+": "+c.Message)
		case c.State == StateProgressing:
			t.report(c.Name, ProgressRunning, c.Message)
		case c.State == StatePending && c.Message != "":
			t.report(c.Name, ProgressRunning, c.Message)
		}
	}
}
