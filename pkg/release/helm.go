package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmkube "helm.sh/helm/v3/pkg/kube"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"

	"github.com/storectl/storectl/charts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
)

// MaxHistory is how many revisions an upgrade keeps per release.
const MaxHistory = 10

// recoveredDescription is recorded on a revision taken over from a dead process.
const recoveredDescription = "interrupted: the process applying this revision stopped before recording its outcome"

// HelmOptions configures a Helm-backed Manager on a real cluster.
type HelmOptions struct {
	// Client reads and writes release records (Secrets in the release's namespace).
	Client kubernetes.Interface
	// Getter gives Helm's resource client its REST configuration.
	Getter genericclioptions.RESTClientGetter
	// Chart loads the chart to install; nil means the embedded store chart.
	Chart ChartLoader
	// ChartVersion, when set, tells Chart's version without loading it (ChartVersion is
	// asked of every read of a store).
	ChartVersion func() (string, error)
	// Log receives Helm's debug output; nil discards it.
	Log func(format string, args ...any)
	// Metadata lists release records without their payload; nil means a
	// client built from Getter's configuration.
	Metadata metadata.Interface
}

// Helm is the Manager backed by the Helm v3 SDK.
type Helm struct {
	client kubernetes.Interface
	meta   metadata.Interface
	getter genericclioptions.RESTClientGetter
	chart  ChartLoader
	log    func(format string, args ...any)

	chartVersion func() (string, error)

	// backend replaces the cluster, for tests (see releasetest).
	backend *Backend

	// The chart's version, read once (ChartVersion).
	versionOnce sync.Once
	version     string
	versionErr  error
}

// Backend stands in for a cluster: where release records are kept and what
// applies the rendered resources. Tests use it through package releasetest.
type Backend struct {
	// Storage returns the release storage of a namespace; the same driver for
	// the same namespace every time.
	Storage func(namespace string) driver.Driver
	// KubeClient applies, waits for and deletes resources.
	KubeClient helmkube.Interface
	// KubeVersion is the cluster version the chart is rendered for.
	KubeVersion chartutil.KubeVersion
}

// NewWithBackend returns a Manager over b instead of a cluster; a nil chart
// means the embedded store chart.
func NewWithBackend(chart ChartLoader, b Backend) *Helm {
	if chart == nil {
		chart = charts.Load
	}
	return &Helm{chart: chart, log: orDiscard(nil), backend: &b}
}

var _ Manager = (*Helm)(nil)

// NewHelm returns a Manager storing releases with Helm's "secret" driver, the
// same storage the helm CLI uses, so `helm list -A` shows storectl's stores.
func NewHelm(o HelmOptions) (*Helm, error) {
	if o.Client == nil || o.Getter == nil {
		return nil, errors.New("release: HelmOptions needs Client and Getter")
	}
	if o.Chart == nil {
		o.Chart = charts.Load
	}
	if o.Metadata == nil {
		cfg, err := o.Getter.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("release: REST configuration: %w", err)
		}
		if o.Metadata, err = metadata.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("release: metadata client: %w", err)
		}
	}
	return &Helm{client: o.Client, meta: o.Metadata, getter: o.Getter, chart: o.Chart, chartVersion: o.ChartVersion, log: orDiscard(o.Log)}, nil
}

func orDiscard(f func(string, ...any)) func(string, ...any) {
	if f == nil {
		return func(string, ...any) {}
	}
	return f
}

// config returns a Helm action configuration scoped to namespace. Storage
// requests made through it are bound to ctx.
func (h *Helm) config(ctx context.Context, namespace string) *action.Configuration {
	if b := h.backend; b != nil {
		caps := chartutil.DefaultCapabilities.Copy()
		caps.KubeVersion = b.KubeVersion
		return &action.Configuration{Releases: storage.Init(b.Storage(namespace)), KubeClient: b.KubeClient, Capabilities: caps, Log: h.log}
	}
	kc := helmkube.New(h.getter)
	kc.Namespace = namespace
	kc.Log = h.log
	d := driver.NewSecrets(ctxSecrets{SecretInterface: h.client.CoreV1().Secrets(namespace), ctx: ctx})
	d.Log = h.log
	return &action.Configuration{
		RESTClientGetter: h.getter,
		KubeClient:       kc,
		Releases:         storage.Init(d),
		Log:              h.log,
		HookOutputFunc:   func(_, _, _ string) io.Writer { return io.Discard },
	}
}

func hookTimeout(o ApplyOptions) time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultHookTimeout
}

// Install installs revision 1 without waiting for workloads or Jobs (the
// caller watches them); Helm would still wait for hook Jobs, which a chart
// 0.1.0 store's setup is, so callers run it concurrently with their own watch.
func (h *Helm) Install(ctx context.Context, o ApplyOptions) (*Release, error) {
	return h.install(ctx, h.config(ctx, o.Namespace), o, false)
}

func (h *Helm) install(ctx context.Context, cfg *action.Configuration, o ApplyOptions, replace bool) (*Release, error) {
	ch, err := h.chart()
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	if err := validate(ch, o.Values); err != nil {
		return nil, fmt.Errorf("install release %s/%s: %w", o.Namespace, o.Name, err)
	}
	in := action.NewInstall(cfg)
	in.ReleaseName = o.Name
	in.Namespace = o.Namespace
	in.Timeout = hookTimeout(o)
	in.Replace = replace
	in.Wait = false
	in.CreateNamespace = false
	// The values were validated above, and the API server validates every object it
	// admits: Helm's own checks would repeat the first and, for the second, download and
	// parse the cluster's OpenAPI document, half the CPU time of a create.
	in.SkipSchemaValidation = true
	in.DisableOpenAPIValidation = true
	rel, err := in.RunWithContext(ctx, ch, copyValues(o.Values))
	if err != nil {
		return fromHelm(rel), fmt.Errorf("install release %s/%s: %w", o.Namespace, o.Name, err)
	}
	return fromHelm(rel), nil
}

// Validate checks values, merged over the chart's defaults, against the chart's
// schema without touching the cluster, so that a create refused by the schema
// is refused before anything is created. A refusal wraps ErrInvalidValues and
// reads as Helm's install error for the same values.
func (h *Helm) Validate(values map[string]any) error {
	ch, err := h.chart()
	if err != nil {
		return fmt.Errorf("load chart: %w", err)
	}
	return validate(ch, values)
}

func validate(ch *chart.Chart, values map[string]any) error {
	merged, err := chartutil.CoalesceValues(ch, copyValues(values))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidValues, err)
	}
	if err := chartutil.ValidateAgainstSchema(ch, merged); err != nil {
		return fmt.Errorf("%w: values don't meet the specifications of the schema(s) in the following chart(s):\n%w", ErrInvalidValues, err)
	}
	return nil
}

// Upgrade applies a new revision with exactly o.Values (previous values are
// not reused: the caller always passes the complete set).
func (h *Helm) Upgrade(ctx context.Context, o ApplyOptions) (*Release, error) {
	return h.upgrade(ctx, h.config(ctx, o.Namespace), o)
}

func (h *Helm) upgrade(ctx context.Context, cfg *action.Configuration, o ApplyOptions) (*Release, error) {
	ch, err := h.chart()
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	if !o.ReuseValues {
		if err := validate(ch, o.Values); err != nil {
			return nil, fmt.Errorf("upgrade release %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	if last, err := latest(cfg, o.Name); err == nil && last.Info.Status.IsPending() {
		return fromHelm(last), fmt.Errorf("upgrade release %s/%s: revision %d is %s: %w", o.Namespace, o.Name, last.Version, last.Info.Status, ErrPending)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = o.Namespace
	up.Timeout = hookTimeout(o)
	up.MaxHistory = MaxHistory
	up.ResetValues = !o.ReuseValues
	up.ReuseValues = o.ReuseValues
	up.Wait = false
	// As for an install; values reused from the last revision are left to Helm to check.
	up.SkipSchemaValidation = !o.ReuseValues
	up.DisableOpenAPIValidation = true
	rel, err := up.RunWithContext(ctx, o.Name, ch, copyValues(o.Values))
	if err != nil {
		return fromHelm(rel), fmt.Errorf("upgrade release %s/%s: %w", o.Namespace, o.Name, err)
	}
	return fromHelm(rel), nil
}

// Apply converges the release onto o.Values, whatever state an earlier,
// possibly killed, run left it in:
//
//   - no history: install;
//   - latest revision pending (a process died mid-operation) and
//     o.RecoverPending: record it as failed, then upgrade — Helm upgrades a
//     failed revision in place, adopting what the dead process created;
//   - latest pending without o.RecoverPending: ErrPending;
//   - latest uninstalling (an interrupted uninstall): record it failed, upgrade;
//   - latest uninstalled (history kept): install over it;
//   - otherwise (deployed, failed, superseded): upgrade.
func (h *Helm) Apply(ctx context.Context, o ApplyOptions) (*Release, error) {
	cfg := h.config(ctx, o.Namespace)
	last, err := latest(cfg, o.Name)
	if errors.Is(err, ErrNotFound) {
		return h.install(ctx, cfg, o, false)
	}
	if err != nil {
		return nil, err
	}
	switch st := last.Info.Status; {
	case st.IsPending():
		if !o.RecoverPending {
			return fromHelm(last), fmt.Errorf("release %s/%s revision %d is %s: %w", o.Namespace, o.Name, last.Version, st, ErrPending)
		}
		if err := markFailed(cfg, last, recoveredDescription); err != nil {
			return nil, err
		}
	case st == helmrelease.StatusUninstalling || st == helmrelease.StatusUnknown:
		if err := markFailed(cfg, last, recoveredDescription); err != nil {
			return nil, err
		}
	case st == helmrelease.StatusUninstalled:
		return h.install(ctx, cfg, o, true)
	}
	return h.upgrade(ctx, cfg, o)
}

func latest(cfg *action.Configuration, name string) (*helmrelease.Release, error) {
	hist, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(hist) == 0) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read release history of %s: %w", name, err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	return hist[len(hist)-1], nil
}

// clone copies the parts of a release record that get changed, so that a
// record shared with a still-running Helm goroutine (the memory driver keeps
// pointers) is not written under its feet.
func clone(r *helmrelease.Release) *helmrelease.Release {
	c := *r
	if r.Info != nil {
		info := *r.Info
		c.Info = &info
	}
	return &c
}

func markFailed(cfg *action.Configuration, r *helmrelease.Release, reason string) error {
	r = clone(r)
	r.SetStatus(helmrelease.StatusFailed, reason)
	if err := cfg.Releases.Update(r); err != nil {
		return fmt.Errorf("record revision %d of %s as failed: %w", r.Version, r.Name, err)
	}
	return nil
}

// Get returns the latest revision of the release.
func (h *Helm) Get(ctx context.Context, namespace, name string) (*Release, error) {
	r, err := h.newestRecord(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return fromHelm(r), nil
}

// Values returns the values a revision was applied with (revision 0: the latest), as the
// caller passed them, without the chart's defaults.
func (h *Helm) Values(ctx context.Context, namespace, name string, revision int) (map[string]any, error) {
	var r *helmrelease.Release
	var err error
	if revision <= 0 {
		r, err = h.newestRecord(ctx, namespace, name)
	} else if r, err = h.config(ctx, namespace).Releases.Get(name, revision); errors.Is(err, driver.ErrReleaseNotFound) {
		err = fmt.Errorf("release %s/%s revision %d: %w", namespace, name, revision, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return copyValues(r.Config), nil
}

// History returns every stored revision, oldest first.
func (h *Helm) History(ctx context.Context, namespace, name string) ([]Release, error) {
	hist, err := h.config(ctx, namespace).Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(hist) == 0) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read release history of %s: %w", name, err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	out := make([]Release, 0, len(hist))
	for _, r := range hist {
		out = append(out, *fromHelm(r))
	}
	return out, nil
}

// Uninstall removes the release, its resources and its history. Helm's
// uninstall takes no context, so it runs in the background and Uninstall
// returns when ctx ends; a half-done uninstall is finished by the next call.
func (h *Helm) Uninstall(ctx context.Context, namespace, name string, timeout time.Duration) error {
	cfg := h.config(ctx, namespace)
	un := action.NewUninstall(cfg)
	un.IgnoreNotFound = true
	un.KeepHistory = false
	un.Wait = false
	un.Timeout = timeout
	if un.Timeout <= 0 {
		un.Timeout = DefaultHookTimeout
	}
	done := make(chan error, 1)
	go func() {
		_, err := un.Run(name)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("uninstall release %s/%s: %w", namespace, name, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MarkFailed records the latest revision as failed when it is pending. A
// revision that is not pending is returned unchanged.
func (h *Helm) MarkFailed(ctx context.Context, namespace, name, reason string) (*Release, error) {
	cfg := h.config(ctx, namespace)
	last, err := latest(cfg, name)
	if err != nil {
		return nil, err
	}
	if !last.Info.Status.IsPending() {
		return fromHelm(last), nil
	}
	if reason == "" {
		reason = recoveredDescription
	}
	if err := markFailed(cfg, last, reason); err != nil {
		return nil, err
	}
	return h.Get(ctx, namespace, name)
}

// MarkRevisionFailed records revision as failed when it is the latest and deployed or
// pending; an older revision, or one already failed, is returned unchanged. A failed latest
// revision is what Helm upgrades from, so the next upgrade applies over its objects.
func (h *Helm) MarkRevisionFailed(ctx context.Context, namespace, name string, revision int, reason string) (*Release, error) {
	cfg := h.config(ctx, namespace)
	last, err := latest(cfg, name)
	if err != nil {
		return nil, err
	}
	st := last.Info.Status
	if last.Version != revision || (st != helmrelease.StatusDeployed && !st.IsPending()) {
		return fromHelm(last), nil
	}
	if err := markFailed(cfg, last, reason); err != nil {
		return nil, err
	}
	return h.Get(ctx, namespace, name)
}

// copyValues gives Helm its own copy: Helm coalesces defaults into the map it
// is given.
func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = copyValue(x)
	}
	return out
}

func copyValue(x any) any {
	switch t := x.(type) {
	case map[string]any:
		return copyValues(t)
	case chartutil.Values:
		return copyValues(t)
	case []any:
		c := make([]any, len(t))
		for i := range t {
			c[i] = copyValue(t[i])
		}
		return c
	default:
		return x
	}
}

// ctxSecrets binds the storage driver's requests, which Helm v3 issues with
// context.Background(), to the caller's context so that Ctrl-C and timeouts
// reach them.
type ctxSecrets struct {
	typedcorev1.SecretInterface
	ctx context.Context
}

// Get and List hand Helm only records that pass boundRecord.
func (s ctxSecrets) Get(_ context.Context, name string, o metav1.GetOptions) (*corev1.Secret, error) {
	sec, err := s.SecretInterface.Get(s.ctx, name, o)
	if err != nil {
		return nil, err
	}
	if err := boundRecord(sec); err != nil {
		return nil, err
	}
	return sec, nil
}

func (s ctxSecrets) List(_ context.Context, o metav1.ListOptions) (*corev1.SecretList, error) {
	l, err := s.SecretInterface.List(s.ctx, o)
	if err != nil {
		return nil, err
	}
	for i := range l.Items {
		if err := boundRecord(&l.Items[i]); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (s ctxSecrets) Create(_ context.Context, sec *corev1.Secret, o metav1.CreateOptions) (*corev1.Secret, error) {
	return s.SecretInterface.Create(s.ctx, sec, o)
}

func (s ctxSecrets) Update(_ context.Context, sec *corev1.Secret, o metav1.UpdateOptions) (*corev1.Secret, error) {
	return s.SecretInterface.Update(s.ctx, sec, o)
}

func (s ctxSecrets) Delete(_ context.Context, name string, o metav1.DeleteOptions) error {
	return s.SecretInterface.Delete(s.ctx, name, o)
}

func (s ctxSecrets) Patch(_ context.Context, name string, pt types.PatchType, data []byte, o metav1.PatchOptions, sub ...string) (*corev1.Secret, error) {
	return s.SecretInterface.Patch(s.ctx, name, pt, data, o, sub...)
}

// Finalize records a pending latest revision as deployed.
func (h *Helm) Finalize(ctx context.Context, namespace, name, description string) (*Release, error) {
	cfg := h.config(ctx, namespace)
	hist, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(hist) == 0) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read release history of %s: %w", name, err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	last := hist[len(hist)-1]
	if !last.Info.Status.IsPending() {
		return fromHelm(last), nil
	}
	for _, r := range hist[:len(hist)-1] {
		if r.Info.Status == helmrelease.StatusDeployed {
			r = clone(r)
			r.SetStatus(helmrelease.StatusSuperseded, "superseded by new release")
			if err := cfg.Releases.Update(r); err != nil {
				return nil, fmt.Errorf("record revision %d of %s as superseded: %w", r.Version, name, err)
			}
		}
	}
	if description == "" {
		description = "Install complete"
	}
	last = clone(last)
	last.SetStatus(helmrelease.StatusDeployed, description)
	if err := cfg.Releases.Update(last); err != nil {
		return nil, fmt.Errorf("record revision %d of %s as deployed: %w", last.Version, name, err)
	}
	return fromHelm(last), nil
}

// Status returns the latest revision through Helm's status action.
func (h *Helm) Status(ctx context.Context, namespace, name string) (*Release, error) {
	r, err := action.NewStatus(h.config(ctx, namespace)).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("status of release %s/%s: %w", namespace, name, err)
	}
	return fromHelm(r), nil
}
