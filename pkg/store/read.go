package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/storectl/storectl/pkg/release"
)

// MaxEvents is how many recent Warning events Get returns.
const MaxEvents = 10

// Get reads one store live (see read), judged by Compute.
func (e *Engine) Get(ctx context.Context, name string) (*Store, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	snap, err := e.read(ctx, name)
	if err != nil {
		return nil, err
	}
	st := e.storeFrom(snap, Compute(snap, e.ff))
	st.Events = recentEvents(snap.Events, MaxEvents)
	st.UpgradeAvailable = e.upgradeAvailable(st.ChartVersion)
	return st, nil
}

// read takes the snapshot of one store with direct reads: the namespace, then together its
// latest release revision, one List per kind of object in the namespace (those the status is
// judged from and the other kinds of the store chart) and the credentials Secret, then, for a
// deployed revision, the drift of its objects, which reuses those lists.
// The namespace comes first also because it opens the connection the others then share
// (concurrent first requests would each open one). It is the inspect phase of an operation
// that does not go on to watch.
func (e *Engine) read(ctx context.Context, name string) (Snapshot, error) {
	n, err := e.storeNamespace(ctx, name)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Name: name, Namespace: n, Now: e.now(), ReadOnly: true}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		snap.Release, err = e.latest(gctx, name)
		return err
	})
	g.Go(func() (err error) {
		snap.CredentialsMissing, err = e.credentialsMissing(gctx, name)
		return err
	})
	e.readObjects(ctx, g, gctx, &snap)
	if cl, ok := e.rel.(chartKindLister); ok {
		// Best effort: without these lists the drift check lists the kinds itself.
		g.Go(func() error {
			snap.chartLive, _ = cl.ListChartKinds(gctx, Namespace(name), func(kind string) bool {
				_, listed := (&Snapshot{}).listed(kind, "")
				return listed
			})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Snapshot{}, err
	}
	if snap.Release != nil {
		snap.Since = snap.Release.LastDeployed
	}
	return snap, e.readDrift(ctx, &snap, true)
}

// chartKindLister is the optional part of a release manager that lists, before the release
// is read, the kinds of the store chart the snapshot has no list of.
type chartKindLister interface {
	ListChartKinds(ctx context.Context, ns string, skip func(kind string) bool) (release.Live, error)
}

// readObjects lists, in g, each kind of object of the store namespace into snap.
func (e *Engine) readObjects(ctx context.Context, g *errgroup.Group, gctx context.Context, snap *Snapshot) {
	ns, lo, name := Namespace(snap.Name), metav1.ListOptions{}, snap.Name
	list := func(what string, f func() error) {
		g.Go(func() error { return clusterErr(ctx, name, "read the store's "+what, f()) })
	}
	list("pods", func() error {
		l, err := e.kube.CoreV1().Pods(ns).List(gctx, lo)
		if err == nil {
			snap.Pods = l.Items
		}
		return err
	})
	list("statefulsets", func() error {
		l, err := e.kube.AppsV1().StatefulSets(ns).List(gctx, lo)
		if err == nil {
			snap.StatefulSets = l.Items
		}
		return err
	})
	list("deployments", func() error {
		l, err := e.kube.AppsV1().Deployments(ns).List(gctx, lo)
		if err == nil {
			snap.Deployments = l.Items
		}
		return err
	})
	list("jobs", func() error {
		l, err := e.kube.BatchV1().Jobs(ns).List(gctx, lo)
		if err == nil {
			snap.Jobs = l.Items
		}
		return err
	})
	list("volume claims", func() error {
		l, err := e.kube.CoreV1().PersistentVolumeClaims(ns).List(gctx, lo)
		if err == nil {
			snap.PVCs = l.Items
		}
		return err
	})
	list("events", func() error {
		l, err := e.kube.CoreV1().Events(ns).List(gctx, lo)
		if err == nil {
			snap.Events = l.Items
		}
		return err
	})
	list("ingresses", func() error {
		l, err := e.kube.NetworkingV1().Ingresses(ns).List(gctx, lo)
		if err == nil {
			snap.Ingresses = l.Items
		}
		return err
	})
}

func (e *Engine) storeNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns := Namespace(name)
	n, err := e.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, notFound(name)
	}
	if err != nil {
		return nil, clusterErr(ctx, name, "read namespace "+ns, err)
	}
	if !IsStore(n, name) {
		return nil, notAStore(name)
	}
	return n, nil
}

// notAStore reports a namespace named like a store that fails IsStore: to
// storectl that store does not exist, and the namespace is not its to touch.
func notAStore(name string) error {
	return &Error{Err: ErrNotFound, Store: name, Reason: ReasonNotAStore,
		Message: fmt.Sprintf("no store named %q: namespace %s exists but is not a store (it lacks the labels %s=%s and %s=%s); storectl leaves it untouched",
			name, Namespace(name), LabelManagedBy, ManagedBy, LabelStore, name)}
}

func notFound(name string) error {
	return &Error{Err: ErrNotFound, Store: name, Reason: ReasonNotFound,
		Message: fmt.Sprintf("no store named %q (namespace %s does not exist)", name, Namespace(name))}
}

func (e *Engine) storeFrom(s Snapshot, st Status) *Store {
	url, admin := e.URLs(s.Name)
	for _, ing := range s.Ingresses {
		for _, r := range ing.Spec.Rules {
			if r.Host == "" {
				continue
			}
			scheme := "http"
			for _, t := range ing.Spec.TLS {
				for _, h := range t.Hosts {
					if h == r.Host {
						scheme = "https"
					}
				}
			}
			url = scheme + "://" + r.Host + "/"
			admin = url + "wp-admin/"
			break
		}
	}
	out := &Store{
		Name: s.Name, Type: TypeWooCommerce, Namespace: Namespace(s.Name),
		Phase: st.Phase, Reason: st.Reason, Message: st.Message,
		URL: url, AdminURL: admin,
		ReadyPods: st.ReadyPods, TotalPods: st.TotalPods, Components: st.Components,
		Background: backgroundOf(s), Mail: mailOf(s),
	}
	if s.Namespace != nil {
		out.CreatedAt = s.Namespace.CreationTimestamp.Time
		if t := s.Namespace.Labels[LabelType]; t != "" {
			out.Type = t
		}
	}
	if r := s.Release; r != nil {
		out.Chart, out.ChartVersion, out.AppVersion = r.Chart, r.ChartVersion, r.AppVersion
		out.Revision, out.ReleaseStatus = r.Revision, r.Status
	}
	return out
}

func recentEvents(evs []corev1.Event, max int) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Type != corev1.EventTypeWarning {
			continue
		}
		count := ev.Count
		if ev.Series != nil && ev.Series.Count > count {
			count = ev.Series.Count
		}
		out = append(out, Event{
			Time: eventTime(ev), Type: ev.Type, Reason: ev.Reason,
			Object:  ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name,
			Message: ev.Message, Count: count,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// List reads every store with a fixed set of cluster-wide calls, issued
// together once the store namespaces are known: pods, statefulsets,
// deployments and jobs by label, and the labels of the stores' Helm release
// records (see release.Manager.ListLatest). No release record is decoded: the
// revision and status come from the record's labels, the chart from the
// workloads' labels. Events, claims, ingresses, drift and the credentials
// Secret are not read (they would cost a call per store, a cluster-wide event
// list, or reading Secrets that an identity of docs/rbac.yaml may read only
// inside stores), so List's status is based on workloads and releases; Get is
// the detailed view.
func (e *Engine) List(ctx context.Context, o ListOptions) ([]Store, error) {
	sel := storeSelector
	if o.Selector != "" {
		if _, err := labels.Parse(o.Selector); err != nil {
			return nil, fmt.Errorf("%w: selector %q: %w", ErrInvalidValues, o.Selector, err)
		}
		sel += "," + o.Selector
	}
	nsl, err := e.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, clusterErr(ctx, "*", "list store namespaces", err)
	}
	out := []Store{}
	snaps, namespaces := storeSnapshots(nsl.Items, e.now())
	if len(snaps) == 0 {
		return out, nil
	}
	l, err := e.listStoreObjects(ctx, namespaces)
	if err != nil {
		return nil, err
	}
	assignToStores(snaps, l.rels, l.pods.Items, l.sts.Items, l.deps.Items, l.jobs.Items)
	for _, s := range snaps {
		st := e.storeFrom(*s, Compute(*s, e.ff))
		st.Chart, st.ChartVersion, st.AppVersion = chartOf(*s)
		st.UpgradeAvailable = e.upgradeAvailable(st.ChartVersion)
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// storeLists are the cluster-wide lists a List reads.
type storeLists struct {
	pods *corev1.PodList
	sts  *appsv1.StatefulSetList
	deps *appsv1.DeploymentList
	jobs *batchv1.JobList
	rels []release.Release
}

// listStoreObjects issues List's cluster-wide lists together: pods, statefulsets,
// deployments and jobs by label, and the labels of the stores' release records.
func (e *Engine) listStoreObjects(ctx context.Context, namespaces []string) (*storeLists, error) {
	l := &storeLists{}
	objSel := metav1.ListOptions{LabelSelector: LabelPartOf + "=" + ManagedBy}
	g, gctx := errgroup.WithContext(ctx)
	read := func(what string, f func() error) { // each cluster-wide list, concurrently
		g.Go(func() error { return clusterErr(ctx, "*", what, f()) })
	}
	read("list pods", func() (err error) {
		l.pods, err = e.kube.CoreV1().Pods(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list statefulsets", func() (err error) {
		l.sts, err = e.kube.AppsV1().StatefulSets(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list deployments", func() (err error) {
		l.deps, err = e.kube.AppsV1().Deployments(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list jobs", func() (err error) {
		l.jobs, err = e.kube.BatchV1().Jobs(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list releases", func() (err error) {
		l.rels, err = e.rel.ListLatest(gctx, namespaces)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	return l, nil
}

// storeSnapshots starts a list's snapshot of every store namespace, keyed by namespace.
func storeSnapshots(items []corev1.Namespace, now time.Time) (map[string]*Snapshot, []string) {
	snaps := map[string]*Snapshot{}
	var namespaces []string
	for i := range items {
		n := &items[i]
		name, ok := StoreName(n)
		if !ok {
			continue
		}
		snaps[n.Name] = &Snapshot{Name: name, Namespace: n, Partial: true, Now: now, ReadOnly: true}
		namespaces = append(namespaces, n.Name)
	}
	return snaps, namespaces
}

// assignToStores files the cluster-wide lists under the snapshot of the store namespace each
// object is in; objects of other namespaces are dropped.
func assignToStores(snaps map[string]*Snapshot, rels []release.Release, pods []corev1.Pod,
	sts []appsv1.StatefulSet, deps []appsv1.Deployment, jobs []batchv1.Job) {
	for i := range rels {
		if s := snaps[rels[i].Namespace]; s != nil && (rels[i].Name == s.Name || rels[i].Status == release.StatusUnreadable) {
			r := rels[i]
			if r.Status == release.StatusFailed && r.Description == "" {
				r.Description = fmt.Sprintf("release revision %d is recorded as failed", r.Revision)
			}
			s.Release = &r
		}
	}
	for _, p := range pods {
		if s := snaps[p.Namespace]; s != nil {
			s.Pods = append(s.Pods, p)
		}
	}
	for _, x := range sts {
		if s := snaps[x.Namespace]; s != nil {
			s.StatefulSets = append(s.StatefulSets, x)
		}
	}
	for _, x := range deps {
		if s := snaps[x.Namespace]; s != nil {
			s.Deployments = append(s.Deployments, x)
		}
	}
	for _, x := range jobs {
		if s := snaps[x.Namespace]; s != nil {
			s.Jobs = append(s.Jobs, x)
		}
	}
}

// chartOf reads the chart a store's workloads were rendered from in their
// labels: helm.sh/chart is <name>-<version>, and a version starts with a
// digit while the chart's name has no "-<digit>".
func chartOf(s Snapshot) (chart, version, appVersion string) {
	var l map[string]string
	switch {
	case len(s.Deployments) > 0:
		l = s.Deployments[0].Labels
	case len(s.StatefulSets) > 0:
		l = s.StatefulSets[0].Labels
	default:
		return "", "", ""
	}
	c := l["helm.sh/chart"]
	for i := 0; i+1 < len(c); i++ {
		if c[i] == '-' && c[i+1] >= '0' && c[i+1] <= '9' {
			return c[:i], c[i+1:], l["app.kubernetes.io/version"]
		}
	}
	return c, "", l["app.kubernetes.io/version"]
}

// Credentials reads the store's credentials Secret. It is the only engine
// call that returns a password.
func (e *Engine) Credentials(ctx context.Context, name string) (*Credentials, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if _, err := e.storeNamespace(ctx, name); err != nil {
		return nil, err
	}
	sec, err := e.kube.CoreV1().Secrets(Namespace(name)).Get(ctx, credentialsSecret(name), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if err := e.checkNoDatabaseVolume(ctx, name); err != nil {
			return nil, err
		}
		return nil, &Error{Err: ErrNotFound, Store: name, Reason: ReasonCredentialsNotMade,
			Message: fmt.Sprintf("secret %s/%s does not exist yet", Namespace(name), credentialsSecret(name))}
	}
	if err != nil {
		return nil, clusterErr(ctx, name, "read credentials secret", err)
	}
	url, admin := e.URLs(name)
	if ing, err := e.kube.NetworkingV1().Ingresses(Namespace(name)).Get(ctx, name, metav1.GetOptions{}); err == nil {
		st := e.storeFrom(Snapshot{Name: name, Ingresses: []networkingv1.Ingress{*ing}}, Status{})
		url, admin = st.URL, st.AdminURL
	}
	user := string(sec.Data[KeyAdminUser])
	if user == "" {
		user = AdminUser
	}
	return &Credentials{Store: name, URL: url, AdminURL: admin, User: user, Password: string(sec.Data[KeyAdminPassword])}, nil
}
