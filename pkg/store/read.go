package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

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

// Get reads one store live: namespace, release and the objects in the
// namespace, judged by Compute.
func (e *Engine) Get(ctx context.Context, name string) (*Store, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	n, err := e.storeNamespace(ctx, name)
	if err != nil {
		return nil, err
	}
	ns := n.Name
	rel, err := e.rel.Get(ctx, ns, name)
	if errors.Is(err, release.ErrNotFound) {
		rel, err = nil, nil
	}
	if err != nil {
		return nil, clusterErr(ctx, name, "read release", err)
	}
	snap := Snapshot{Name: name, Namespace: n, Release: rel, Now: e.now()}
	if rel != nil {
		snap.Since = rel.LastDeployed
	}
	if err := e.readNamespace(ctx, &snap); err != nil {
		return nil, clusterErr(ctx, name, "read the store's objects", err)
	}
	if dr, ok := e.rel.(release.DriftReader); ok && rel != nil && rel.Status == release.StatusDeployed && n.DeletionTimestamp == nil {
		// Best effort: a store whose drift cannot be read is judged by the rest.
		if d, err := dr.Drift(ctx, ns, name); err == nil {
			snap.Drift = d
		} else if cancelled(ctx) {
			return nil, interrupted(name, "reading the store", "")
		}
	}
	_, err = e.kube.CoreV1().Secrets(ns).Get(ctx, credentialsSecret(name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		snap.CredentialsMissing = true
	case err != nil:
		return nil, clusterErr(ctx, name, "read credentials secret", err)
	}
	st := e.storeFrom(snap, settled(snap, Compute(snap, e.ff)))
	st.Events = recentEvents(snap.Events, MaxEvents)
	return st, nil
}

// readNamespace fills snap with the objects of the store namespace, one List
// per kind.
func (e *Engine) readNamespace(ctx context.Context, snap *Snapshot) error {
	ns, lo := Namespace(snap.Name), metav1.ListOptions{}
	pods, err := e.kube.CoreV1().Pods(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.Pods = pods.Items
	sts, err := e.kube.AppsV1().StatefulSets(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.StatefulSets = sts.Items
	deps, err := e.kube.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.Deployments = deps.Items
	jobs, err := e.kube.BatchV1().Jobs(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.Jobs = jobs.Items
	pvcs, err := e.kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.PVCs = pvcs.Items
	evs, err := e.kube.CoreV1().Events(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.Events = evs.Items
	ings, err := e.kube.NetworkingV1().Ingresses(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	snap.Ingresses = ings.Items
	return nil
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
	return &Error{Err: ErrNotFound, Store: name, Reason: "NotAStore",
		Message: fmt.Sprintf("no store named %q: namespace %s exists but is not a store (it lacks the labels %s=%s and %s=%s); storectl leaves it untouched",
			name, Namespace(name), LabelManagedBy, ManagedBy, LabelStore, name)}
}

func notFound(name string) error {
	return &Error{Err: ErrNotFound, Store: name, Reason: "NotFound",
		Message: fmt.Sprintf("no store named %q (namespace %s does not exist)", name, Namespace(name)),
		Next:    "list the stores with 'storectl list'"}
}

// settled judges, for Get and List, a first install whose resources and setup
// hook are all complete as Ready even though its release record still says
// pending-install. That record is left by a process that exited before Helm
// saw the hook end: `create --wait=false` by design, or a killed create. The
// store works; the next create or wait records the revision as deployed. An
// upgrade left pending is not judged so: the completed Job may be the
// previous revision's.
func settled(s Snapshot, st Status) Status {
	if st.Phase != PhaseProvisioning || s.Release == nil || s.Release.Status != release.StatusPendingInstall {
		return st
	}
	for _, c := range st.Components {
		// List reads no Ingresses; the ingress is judged from the release there.
		if !c.Ready && (!s.Partial || c.Name != ComponentIngress) {
			return st
		}
	}
	st.Phase, st.Reason = PhaseReady, ""
	st.Message = fmt.Sprintf("release revision %d is still recorded as %s; 'storectl wait %s' records it as deployed",
		s.Release.Revision, s.Release.Status, s.Name)
	return st
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
	snaps := map[string]*Snapshot{}
	var namespaces []string
	now := e.now()
	for i := range nsl.Items {
		n := &nsl.Items[i]
		name, ok := StoreName(n)
		if !ok {
			continue
		}
		snaps[n.Name] = &Snapshot{Name: name, Namespace: n, Partial: true, Now: now}
		namespaces = append(namespaces, n.Name)
	}
	if len(snaps) == 0 {
		return out, nil
	}

	var (
		pods *corev1.PodList
		sts  *appsv1.StatefulSetList
		deps *appsv1.DeploymentList
		jobs *batchv1.JobList
		rels []release.Release
	)
	objSel := metav1.ListOptions{LabelSelector: LabelPartOf + "=" + ManagedBy}
	g, gctx := errgroup.WithContext(ctx)
	read := func(what string, f func() error) {
		g.Go(func() error { return clusterErr(ctx, "*", what, f()) })
	}
	read("list pods", func() (err error) {
		pods, err = e.kube.CoreV1().Pods(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list statefulsets", func() (err error) {
		sts, err = e.kube.AppsV1().StatefulSets(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list deployments", func() (err error) {
		deps, err = e.kube.AppsV1().Deployments(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list jobs", func() (err error) {
		jobs, err = e.kube.BatchV1().Jobs(metav1.NamespaceAll).List(gctx, objSel)
		return err
	})
	read("list releases", func() (err error) {
		rels, err = e.rel.ListLatest(gctx, namespaces)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	for i := range rels {
		if s := snaps[rels[i].Namespace]; s != nil && (rels[i].Name == s.Name || rels[i].Status == release.StatusUnreadable) {
			r := rels[i]
			if r.Status == release.StatusFailed && r.Description == "" {
				r.Description = fmt.Sprintf("release revision %d is recorded as failed", r.Revision)
			}
			s.Release = &r
		}
	}
	for _, p := range pods.Items {
		if s := snaps[p.Namespace]; s != nil {
			s.Pods = append(s.Pods, p)
		}
	}
	for _, x := range sts.Items {
		if s := snaps[x.Namespace]; s != nil {
			s.StatefulSets = append(s.StatefulSets, x)
		}
	}
	for _, x := range deps.Items {
		if s := snaps[x.Namespace]; s != nil {
			s.Deployments = append(s.Deployments, x)
		}
	}
	for _, x := range jobs.Items {
		if s := snaps[x.Namespace]; s != nil {
			s.Jobs = append(s.Jobs, x)
		}
	}
	for _, s := range snaps {
		st := e.storeFrom(*s, settled(*s, Compute(*s, e.ff)))
		st.Chart, st.ChartVersion, st.AppVersion = chartOf(*s)
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
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
		return nil, &Error{Err: ErrNotFound, Store: name, Reason: "CredentialsNotCreated",
			Message: fmt.Sprintf("secret %s/%s does not exist yet", Namespace(name), credentialsSecret(name)),
			Next:    fmt.Sprintf("run 'storectl create %s' to finish creating the store", name)}
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
