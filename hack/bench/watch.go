package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// finishWatcher timestamps, per namespace, the moment it sees the last component finish:
// a pod turning Ready or a Job completing, whichever comes last. A tool's exit lag is its
// exit time minus that moment.
type finishWatcher struct {
	mu     sync.Mutex
	last   map[string]time.Time // namespace -> latest finish seen
	seen   map[string]bool      // namespace/kind/name that finished already
	cancel context.CancelFunc
}

func startFinishWatcher(ctx context.Context, cs kubernetes.Interface) (*finishWatcher, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &finishWatcher{last: map[string]time.Time{}, seen: map[string]bool{}, cancel: cancel}
	f := informers.NewSharedInformerFactory(cs, 0)
	handler := func(obj any) {
		switch o := obj.(type) {
		case *corev1.Pod:
			for _, c := range o.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					w.finished(o.Namespace, "pod/"+o.Name)
				}
			}
		case *batchv1.Job:
			for _, c := range o.Status.Conditions {
				if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
					w.finished(o.Namespace, "job/"+o.Name)
				}
			}
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: handler, UpdateFunc: func(_, n any) { handler(n) }}
	if _, err := f.Core().V1().Pods().Informer().AddEventHandler(h); err != nil {
		cancel()
		return nil, err
	}
	if _, err := f.Batch().V1().Jobs().Informer().AddEventHandler(h); err != nil {
		cancel()
		return nil, err
	}
	f.Start(ctx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			return nil, fmt.Errorf("watch %v: no initial list", typ)
		}
	}
	return w, nil
}

func (w *finishWatcher) finished(ns, key string) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[ns+"/"+key] {
		return
	}
	w.seen[ns+"/"+key] = true
	if now.After(w.last[ns]) {
		w.last[ns] = now
	}
}

// lastFinish returns when the last component of namespace ns finished, waiting up to a
// second for events still on their way.
func (w *finishWatcher) lastFinish(ns string) (time.Time, bool) {
	time.Sleep(time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.last[ns]
	return t, ok && !t.IsZero()
}

func (w *finishWatcher) close() { w.cancel() }
