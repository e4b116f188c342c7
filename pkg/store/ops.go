package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// Ops reads what operators look at around a store: its events, its logs and the
// provisioning figures the cluster records. It changes nothing.
type Ops struct {
	kube kubernetes.Interface
	now  func() time.Time
	// PollInterval is how often a followed log looks for new or restarted pods.
	PollInterval time.Duration
}

// NewOps returns an Ops for one cluster; now nil means time.Now.
func NewOps(kube kubernetes.Interface, now func() time.Time) *Ops {
	if now == nil {
		now = time.Now
	}
	return &Ops{kube: kube, now: now, PollInterval: time.Second}
}

// namespaceOf returns the namespace of store name, or ErrNotFound.
func (o *Ops) namespaceOf(ctx context.Context, name string) (*corev1.Namespace, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	n, err := o.kube.CoreV1().Namespaces().Get(ctx, Namespace(name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, notFound(name)
	case err != nil:
		return nil, clusterErr(ctx, name, "read namespace", err)
	case !IsStore(n, name):
		return nil, notAStore(name)
	}
	return n, nil
}

// Events returns every event of the store's namespace, all types, oldest first, and the
// resource version to watch from.
func (o *Ops) Events(ctx context.Context, name string) ([]Event, string, error) {
	n, err := o.namespaceOf(ctx, name)
	if err != nil {
		return nil, "", err
	}
	list, err := o.kube.CoreV1().Events(n.Name).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, "", clusterErr(ctx, name, "list events", err)
	}
	out := make([]Event, 0, len(list.Items))
	for _, ev := range list.Items {
		out = append(out, eventOf(ev))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, list.ResourceVersion, nil
}

func eventOf(ev corev1.Event) Event {
	count := ev.Count
	if ev.Series != nil && ev.Series.Count > count {
		count = ev.Series.Count
	}
	return Event{Time: eventTime(ev), Type: ev.Type, Reason: ev.Reason,
		Object: ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name, Message: ev.Message, Count: count}
}

// WatchEvents calls fn for every event of the store recorded or updated after
// resourceVersion, until ctx ends (nil) or the watch cannot go on. A watch the API server
// closes is opened again from the last event seen.
func (o *Ops) WatchEvents(ctx context.Context, name, resourceVersion string, fn func(Event)) error {
	ns := Namespace(name)
	for {
		w, err := o.kube.CoreV1().Events(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: resourceVersion, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return clusterErr(ctx, name, "watch events", err)
		}
		rv, err := drainEvents(ctx, w, fn)
		w.Stop()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return clusterErr(ctx, name, "watch events", err)
		}
		if rv != "" {
			resourceVersion = rv
		}
	}
}

// drainEvents passes a watch's events to fn and returns the last resource version seen.
func drainEvents(ctx context.Context, w watch.Interface, fn func(Event)) (string, error) {
	rv := ""
	for {
		select {
		case <-ctx.Done():
			return rv, nil
		case e, open := <-w.ResultChan():
			if !open {
				return rv, nil
			}
			switch e.Type {
			case watch.Error:
				return rv, apierrors.FromObject(e.Object)
			case watch.Added, watch.Modified:
				if ev, ok := e.Object.(*corev1.Event); ok {
					rv = ev.ResourceVersion
					fn(eventOf(*ev))
				}
			case watch.Bookmark:
				if ev, ok := e.Object.(*corev1.Event); ok {
					rv = ev.ResourceVersion
				}
			}
		}
	}
}

// LogComponents are the parts of a store whose pods have logs.
var LogComponents = []string{ComponentWordPress, ComponentDatabase, ComponentSetup, ComponentCron}

// LogOptions selects a store's logs.
type LogOptions struct {
	// Component is one of LogComponents; "" means every component.
	Component string
	// Follow streams new lines, also of pods that start or restart later, until ctx ends.
	Follow bool
	// Since keeps lines newer than this; 0 keeps all.
	Since time.Duration
	// Tail keeps the last Tail lines of each container; 0 keeps all.
	Tail int64
	// Previous reads the previous run of each container (the one before a restart).
	Previous bool
}

// LogLine is one line of a container's log.
type LogLine struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Component string `json:"component"`
	Text      string `json:"line"`
	// Many is true when lines of more than one container are being read.
	Many bool `json:"-"`
}

// Logs passes the log lines of the store's pods to fn, one container after the other, or,
// with Follow, as they come. Lines of one container keep their order. fn is called from one
// goroutine at a time.
func (o *Ops) Logs(ctx context.Context, name string, lo LogOptions, fn func(LogLine)) error {
	n, err := o.namespaceOf(ctx, name)
	if err != nil {
		return err
	}
	sel := labels.Set{LabelStore: name}
	if lo.Component != "" {
		sel[LabelComponent] = lo.Component
	}
	l := &logStreams{o: o, ns: n.Name, store: name, lo: lo, fn: fn, seen: map[string]int32{}}
	if !lo.Follow {
		pods, err := l.pods(ctx, sel)
		if err != nil {
			return err
		}
		n := 0
		for _, p := range pods {
			n += len(p.Spec.Containers)
		}
		l.many = n > 1
		for _, p := range pods {
			for _, c := range p.Spec.Containers {
				if err := l.stream(ctx, p, c.Name, lo.Follow); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return l.follow(ctx, sel)
}

// logStreams streams the logs of one store's pods.
type logStreams struct {
	o     *Ops
	ns    string
	store string
	lo    LogOptions
	fn    func(LogLine)
	mu    sync.Mutex
	seen  map[string]int32 // pod/container -> the restart count streamed
	many  bool
}

func (l *logStreams) pods(ctx context.Context, sel labels.Set) ([]corev1.Pod, error) {
	list, err := l.o.kube.CoreV1().Pods(l.ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, clusterErr(ctx, l.store, "list pods", err)
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool {
		if !pods[i].CreationTimestamp.Equal(&pods[j].CreationTimestamp) {
			return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp)
		}
		return pods[i].Name < pods[j].Name
	})
	return pods, nil
}

// follow streams every container of the selected pods, looking again every PollInterval
// for pods that started and containers that restarted since, until ctx ends.
func (l *logStreams) follow(ctx context.Context, sel labels.Set) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 1)
	first := true
	for {
		pods, err := l.pods(ctx, sel)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, p := range pods {
			for _, c := range p.Spec.Containers {
				restarts, running := containerRun(p, c.Name)
				key := p.Name + "/" + c.Name
				if last, streamed := l.seen[key]; !running || (streamed && last >= restarts) {
					continue
				}
				_, streamedBefore := l.seen[key]
				l.seen[key] = restarts
				l.mu.Lock()
				l.many = l.many || len(l.seen) > 1
				l.mu.Unlock()
				lo := l.lo
				if streamedBefore || !first {
					// A restarted container or a new pod: its whole new run, not a tail.
					lo.Tail, lo.Since = 0, 0
				}
				wg.Add(1)
				go func(p corev1.Pod, container string) {
					defer wg.Done()
					if err := l.streamWith(ctx, p, container, lo, true); err != nil && ctx.Err() == nil {
						select {
						case errs <- err:
						default:
						}
					}
				}(p, c.Name)
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case <-time.After(l.o.PollInterval):
		}
	}
}

// containerRun returns a container's restart count and whether it runs now.
func containerRun(p corev1.Pod, container string) (int32, bool) {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == container {
			return cs.RestartCount, cs.State.Running != nil
		}
	}
	return 0, false
}

func (l *logStreams) stream(ctx context.Context, p corev1.Pod, container string, follow bool) error {
	return l.streamWith(ctx, p, container, l.lo, follow)
}

func (l *logStreams) streamWith(ctx context.Context, p corev1.Pod, container string, lo LogOptions, follow bool) error {
	plo := &corev1.PodLogOptions{Container: container, Follow: follow, Previous: lo.Previous}
	if lo.Since > 0 {
		secs := int64(lo.Since.Seconds())
		plo.SinceSeconds = &secs
	}
	if lo.Tail > 0 {
		plo.TailLines = &lo.Tail
	}
	rc, err := l.o.kube.CoreV1().Pods(l.ns).GetLogs(p.Name, plo).Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if apierrors.IsBadRequest(err) && (lo.Previous || !follow) {
			// No previous run, or a container that has not started: nothing to read.
			return nil
		}
		return clusterErr(ctx, l.store, fmt.Sprintf("read the log of pod %s container %s", p.Name, container), err)
	}
	defer rc.Close()
	comp := componentOf(p.Labels)
	r := bufio.NewReader(rc)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			l.emit(LogLine{Pod: p.Name, Container: container, Component: comp, Text: trimNewline(line)})
		}
		if errors.Is(err, io.EOF) || (err != nil && ctx.Err() != nil) {
			return nil
		}
		if err != nil {
			return clusterErr(ctx, l.store, "read the log of pod "+p.Name, err)
		}
	}
}

func (l *logStreams) emit(line LogLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line.Many = l.many
	l.fn(line)
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// Provisioning is how one store's creation went, as the cluster records it: from the
// namespace's creation to the end of the setup Job, whichever machine created it.
type Provisioning struct {
	Store     string
	CreatedAt time.Time
	// DoneAt is when the setup Job completed or failed; zero while it runs.
	DoneAt time.Time
	// Outcome is "succeeded", "failed" or "" (still provisioning).
	Outcome string
	// Reason is the outcome reason of a failed setup (OutcomeSetupFailed).
	Reason string
}

// Duration is DoneAt minus CreatedAt, or 0 while provisioning.
func (p Provisioning) Duration() time.Duration {
	if p.DoneAt.IsZero() {
		return 0
	}
	return p.DoneAt.Sub(p.CreatedAt)
}

// Provisionings reads every store's provisioning from the cluster with two cluster-wide
// lists: the store namespaces and the setup Jobs. A store counts from its first setup Job,
// the one its create ran.
func (o *Ops) Provisionings(ctx context.Context) ([]Provisioning, error) {
	nss, err := o.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: storeSelector})
	if err != nil {
		return nil, clusterErr(ctx, "", "list store namespaces", err)
	}
	jobs, err := o.kube.BatchV1().Jobs("").List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{LabelComponent: ComponentSetup}.String() + "," + LabelStore,
	})
	if err != nil {
		return nil, clusterErr(ctx, "", "list setup jobs", err)
	}
	first := map[string]*batchv1.Job{}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		if cur := first[j.Namespace]; cur == nil || j.CreationTimestamp.Before(&cur.CreationTimestamp) {
			first[j.Namespace] = j
		}
	}
	var out []Provisioning
	for i := range nss.Items {
		n := &nss.Items[i]
		name, ok := StoreName(n)
		if !ok {
			continue
		}
		p := Provisioning{Store: name, CreatedAt: n.CreationTimestamp.Time}
		if j := first[n.Name]; j != nil {
			switch {
			case jobComplete(j) && j.Status.CompletionTime != nil:
				p.Outcome, p.DoneAt = "succeeded", j.Status.CompletionTime.Time
			case jobFailedCondition(j) != nil:
				p.Outcome, p.Reason, p.DoneAt = "failed", OutcomeSetupFailed, jobFailedCondition(j).LastTransitionTime.Time
			}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
