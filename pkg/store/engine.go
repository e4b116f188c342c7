package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/tenancy"
)

// DefaultLockNamespace holds the cluster-wide create lock.
const DefaultLockNamespace = "default"

// Options configures an Engine.
type Options struct {
	// Kube is the cluster client.
	Kube kubernetes.Interface
	// Releases installs and reads the stores' Helm releases.
	Releases Releases
	// Settings are the cluster-facing settings (domain, ingress, limits...).
	Settings Settings
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Preset returns the chart preset values for a profile; nil means the
	// embedded chart's presets (charts.Preset).
	Preset func(profile string) (map[string]any, error)
	// LockNamespace holds the Lease that serialises store creation across
	// processes; "" means DefaultLockNamespace.
	LockNamespace string
	// Holder identifies this process in Leases; "" means host/pid/random.
	Holder string
	// FailFast overrides DefaultFailFast.
	FailFast *FailFast
	// LockLease overrides how long a per-store lock survives its holder
	// (DefaultLockLease).
	LockLease time.Duration
}

// Releases is what the engine needs of a release backend; pkg/release's Helm implements it.
type Releases interface {
	// Validate checks complete values against the chart's schema, without a cluster;
	// a refusal wraps release.ErrInvalidValues.
	Validate(values map[string]any) error
	Apply(ctx context.Context, o release.ApplyOptions) (*release.Release, error)
	Get(ctx context.Context, namespace, name string) (*release.Release, error)
	Values(ctx context.Context, namespace, name string, revision int) (map[string]any, error)
	History(ctx context.Context, namespace, name string) ([]release.Release, error)
	ListLatest(ctx context.Context, namespaces []string) ([]release.Release, error)
	// DriftOf compares a revision Get returned with the cluster, reusing what live has listed.
	DriftOf(ctx context.Context, r *release.Release, live release.Live) ([]release.Drift, error)
	Uninstall(ctx context.Context, namespace, name string, timeout time.Duration) error
	MarkFailed(ctx context.Context, namespace, name, reason string) (*release.Release, error)
	MarkRevisionFailed(ctx context.Context, namespace, name string, revision int, reason string) (*release.Release, error)
	Finalize(ctx context.Context, namespace, name, description string) (*release.Release, error)
}

// Engine runs store operations against one cluster. It is safe for
// concurrent use.
type Engine struct {
	kube      kubernetes.Interface
	rel       Releases
	settings  Settings
	now       func() time.Time
	preset    func(string) (map[string]any, error)
	lockNS    string
	holder    string
	ff        FailFast
	lockLease time.Duration
}

// New returns an Engine. Kube and Releases are required.
func New(o Options) (*Engine, error) {
	if o.Kube == nil {
		return nil, errors.New("store: Options.Kube is required")
	}
	if o.Releases == nil {
		return nil, errors.New("store: Options.Releases is required")
	}
	e := &Engine{
		kube: o.Kube, rel: o.Releases, settings: o.Settings, now: o.Now, preset: o.Preset,
		lockNS: o.LockNamespace, holder: o.Holder, ff: DefaultFailFast, lockLease: o.LockLease,
	}
	if e.preset == nil {
		e.preset = charts.Preset
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.lockNS == "" {
		e.lockNS = DefaultLockNamespace
	}
	if e.holder == "" {
		host, _ := os.Hostname()
		e.holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.String(6))
	}
	if o.FailFast != nil {
		e.ff = *o.FailFast
	}
	if e.lockLease <= 0 {
		e.lockLease = DefaultLockLease
	}
	return e, nil
}

// Settings returns the settings the engine creates stores with.
func (e *Engine) Settings() Settings { return e.settings }

// URLs returns the store URL and admin URL for name under the engine's
// settings: https when a TLS issuer is configured.
func (e *Engine) URLs(name string) (string, string) {
	scheme := "http"
	if e.settings.TLSClusterIssuer != "" {
		scheme = "https"
	}
	domain := e.settings.Domain
	if domain == "" {
		domain = "127.0.0.1.nip.io"
	}
	u := fmt.Sprintf("%s://%s.%s/", scheme, name, domain)
	return u, u + "wp-admin/"
}

// render layers the chart values of a revision: the profile's preset, then what the
// settings imply, then the user's values, and the Inputs themselves under InputsKey.
// Secrets never enter values: the chart reads the credentials Secret storectl creates.
func (e *Engine) render(name string, in Inputs) (map[string]any, error) {
	out := map[string]any{}
	if e.preset != nil && in.Settings.Profile != "" {
		p, err := e.preset(in.Settings.Profile)
		if err != nil {
			return nil, fmt.Errorf("%w: profile %q: %w", ErrInvalidValues, in.Settings.Profile, err)
		}
		merge(out, p)
	}
	merge(out, settingsValues(name, in.Settings))
	merge(out, in.Values)
	rec, err := in.value()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidValues, err)
	}
	out[InputsKey] = rec
	return out, nil
}

// ChartValues returns the chart values the settings s imply for store name, as a revision
// gets them under the user's values.
func ChartValues(name string, s Settings) map[string]any { return settingsValues(name, s) }

// settingsValues are the chart values the settings s imply for store name.
func settingsValues(name string, s Settings) map[string]any {
	v := map[string]any{
		"store":       map[string]any{"name": name},
		"credentials": map[string]any{"existingSecret": credentialsSecret(name)},
	}
	if s.Domain != "" {
		v["store"].(map[string]any)["domain"] = s.Domain
	}
	ing := map[string]any{}
	if s.IngressClass != "" {
		ing["className"] = s.IngressClass
	}
	if s.TLSClusterIssuer != "" {
		ing["tls"] = map[string]any{"enabled": true, "clusterIssuer": s.TLSClusterIssuer}
	}
	ctrl := map[string]any{}
	if s.IngressControllerNamespace != "" {
		ctrl["namespace"] = s.IngressControllerNamespace
	}
	if len(s.IngressControllerPodLabels) > 0 {
		labels := map[string]any{}
		for k, val := range s.IngressControllerPodLabels {
			labels[k] = val
		}
		ctrl["podLabels"] = labels
	}
	if len(ctrl) > 0 {
		ing["controller"] = ctrl
	}
	if len(ing) > 0 {
		v["ingress"] = ing
	}
	if s.StorageClass != "" {
		v["persistence"] = map[string]any{"storageClass": s.StorageClass}
	}
	if s.ImagePullPolicy != "" {
		v["image"] = map[string]any{"pullPolicy": s.ImagePullPolicy}
	}
	return v
}

// CheckValues refuses user chart values that are storectl's to decide (identity,
// credentials, isolation, host names, settings), or malformed, naming each key; see
// pkg/tenancy for the table. It makes no API call, so callers can refuse a command before
// touching the cluster. The error wraps ErrInvalidValues.
func CheckValues(name string, user map[string]any, s Settings) error {
	if err := checkNoSecrets("", user); err != nil {
		return err
	}
	err := tenancy.Check(user, tenancy.Policy{
		Store:             name,
		IngressController: s.IngressControllerPodLabels["app.kubernetes.io/name"],
		Overrides:         s.TenantIsolationOverrides,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidValues, err)
	}
	return nil
}

// checkNoSecrets refuses values that look like they carry a password: Helm
// stores values in the release record, readable by anyone who can read it.
func checkNoSecrets(path string, v map[string]any) error {
	for k, x := range v {
		p := k
		if path != "" {
			p = path + "." + k
		}
		lk := strings.ToLower(k)
		if strings.Contains(lk, "password") || strings.Contains(lk, "passwd") || lk == "token" || lk == "apikey" {
			return fmt.Errorf("%w: value %s looks like a secret; storectl keeps passwords in the store's credentials Secret, never in chart values", ErrInvalidValues, p)
		}
		if m, ok := x.(map[string]any); ok {
			if err := checkNoSecrets(p, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// merge deep-merges src into dst; src wins.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
			cp := map[string]any{}
			merge(cp, sm)
			dst[k] = cp
			continue
		}
		dst[k] = v
	}
}
