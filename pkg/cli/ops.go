package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/dynamic"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/docs"
	"github.com/storectl/storectl/pkg/doctor"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
)

// Ops is what the operations commands (doctor, stats, logs, events) and the create
// preflight work with.
type Ops struct {
	// Doctor is everything a doctor run needs but its flags.
	Doctor doctor.Options
	// Cluster reads stores' figures, logs and events.
	Cluster *store.Ops
}

func newOps(f *Factory, clients func() (*kube.Clients, error)) (*Ops, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	c, err := clients()
	if err != nil {
		return nil, err
	}
	shared, err := c.Getter.ToRESTConfig()
	if err != nil {
		return nil, &kube.Error{Kind: kube.KindConfig, Err: fmt.Errorf("build client: %w", err)}
	}
	dyn, err := dynamic.NewForConfig(shared)
	if err != nil {
		return nil, &kube.Error{Kind: kube.KindConfig, Err: fmt.Errorf("build client: %w", err)}
	}
	rm, err := release.NewHelm(release.HelmOptions{Client: c.Interface, Getter: c.Getter, Chart: charts.Load})
	if err != nil {
		return nil, err
	}
	ch, err := charts.Load()
	if err != nil {
		return nil, err
	}
	requests, err := storeRequests(ch.Values, cfg.Profile)
	if err != nil {
		return nil, err
	}
	o := doctor.Options{
		Kube:          c.Interface,
		Dynamic:       dyn,
		Releases:      rm,
		Settings:      settingsFrom(cfg),
		StoreRequests: requests,
		ChartVersion:  ch.Metadata.Version,
		KubeVersion:   ch.Metadata.KubeVersion,
		RBAC:          docs.RBAC,
		AuditPath:     cfg.AuditPath,
		Now:           f.Now,
	}
	o.Stores = func(ctx context.Context) ([]store.Store, error) {
		eng, err := f.Engine()
		if err != nil {
			return nil, err
		}
		return eng.List(ctx, store.ListOptions{})
	}
	return &Ops{Doctor: o, Cluster: store.NewOps(c.Interface, f.Now)}, nil
}

// storeRequests returns the CPU and memory requests one store's quota allows under a
// profile: the chart's quota, with the profile's preset over it.
func storeRequests(chartValues map[string]any, profile string) (corev1.ResourceList, error) {
	hard := map[string]any{}
	layer := func(v map[string]any) {
		q, _ := v["quota"].(map[string]any)
		h, _ := q["hard"].(map[string]any)
		for k, x := range h {
			hard[k] = x
		}
	}
	layer(chartValues)
	if profile != "" {
		p, err := charts.Preset(profile)
		if err != nil {
			return nil, err
		}
		layer(p)
	}
	out := corev1.ResourceList{}
	for key, name := range map[string]corev1.ResourceName{"requests.cpu": corev1.ResourceCPU, "requests.memory": corev1.ResourceMemory} {
		s, ok := hard[key].(string)
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return nil, fmt.Errorf("chart quota %s %q: %w", key, s, err)
		}
		out[name] = q
	}
	return out, nil
}

// preflight runs the checks a create depends on, before the cluster is changed. Without
// Ops (tests of other things) it checks nothing.
// The checks get at most half the create's timeout (and never more than their own bound),
// so that a silent API server still ends the create by its deadline.
func preflight(ctx context.Context, f *Factory, timeout time.Duration) error {
	if f.Ops == nil {
		return nil
	}
	ops, err := f.Ops()
	if err != nil {
		return err
	}
	o := ops.Doctor
	if timeout > 0 {
		o.CheckTimeout = min(timeout/2, doctor.DefaultCheckTimeout)
	}
	err = doctor.Preflight(ctx, o)
	if ctx.Err() != nil {
		// Interrupted while checking: the create stops at once on the same context, and
		// records and explains the interruption as it does at any other point.
		return nil
	}
	var ce *doctor.CheckError
	if errors.As(err, &ce) {
		if h := checkHints[ce.Check.ID]; h != "" {
			return withHint(err, "%s", h)
		}
		return withHint(err, "see %s, then run 'storectl doctor --pre'", ce.Check.Hint)
	}
	return err
}
