package release

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// Revision is one stored revision with what an upgrade plans from: the values it was
// applied with, those values over its chart's defaults, and its rendered objects.
type Revision struct {
	Release
	// Values are the values the revision was applied with, without the chart's defaults.
	Values map[string]any
	// Effective are Values coalesced over the defaults of the revision's own chart.
	Effective map[string]any
	// Manifest is every rendered object of the revision, hooks included, as YAML documents.
	Manifest string
}

// Revision returns a stored revision (0: the latest) with its values and manifest.
func (h *Helm) Revision(ctx context.Context, namespace, name string, revision int) (*Revision, error) {
	cfg := h.config(ctx, namespace)
	var r *helmrelease.Release
	var err error
	if revision <= 0 {
		r, err = latest(cfg, name)
	} else if r, err = cfg.Releases.Get(name, revision); errors.Is(err, driver.ErrReleaseNotFound) {
		err = fmt.Errorf("release %s/%s revision %d: %w", namespace, name, revision, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return revisionOf(r)
}

// Revisions returns every stored revision with its values and manifest, oldest first.
func (h *Helm) Revisions(ctx context.Context, namespace, name string) ([]Revision, error) {
	hist, err := h.config(ctx, namespace).Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(hist) == 0) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read release history of %s: %w", name, err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	out := make([]Revision, 0, len(hist))
	for _, r := range hist {
		rv, err := revisionOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, *rv)
	}
	return out, nil
}

func revisionOf(r *helmrelease.Release) (*Revision, error) {
	out := &Revision{Release: *fromHelm(r), Values: copyValues(r.Config), Manifest: manifestOf(r.Manifest, r.Hooks)}
	eff := copyValues(r.Config)
	if r.Chart != nil {
		merged, err := chartutil.CoalesceValues(r.Chart, eff)
		if err != nil {
			return nil, fmt.Errorf("values of revision %d of %s: %w", r.Version, r.Name, err)
		}
		eff = merged
	}
	out.Effective = eff
	return out, nil
}

func manifestOf(manifest string, hooks []*helmrelease.Hook) string {
	var b strings.Builder
	b.WriteString(manifest)
	for _, hk := range hooks {
		fmt.Fprintf(&b, "\n---\n# Source: %s\n%s\n", hk.Path, hk.Manifest)
	}
	return b.String()
}

// Plan renders what applying o would make with the chart this Manager installs, without
// touching the cluster or the release history: the chart's version, the values over its
// defaults and the rendered objects. A refusal of the chart's schema wraps ErrInvalidValues.
func (h *Helm) Plan(_ context.Context, o ApplyOptions) (*Revision, error) {
	ch, err := h.chart()
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	if err := validate(ch, o.Values); err != nil {
		return nil, fmt.Errorf("render release %s/%s: %w", o.Namespace, o.Name, err)
	}
	in := action.NewInstall(&action.Configuration{Log: h.log})
	in.DryRun, in.ClientOnly, in.Replace = true, true, true
	in.ReleaseName, in.Namespace = o.Name, o.Namespace
	in.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	r, err := in.Run(ch, copyValues(o.Values))
	if err != nil {
		return nil, fmt.Errorf("render release %s/%s: %w", o.Namespace, o.Name, err)
	}
	return revisionOf(r)
}

// ChartVersion returns the version of the chart this Manager installs.
func (h *Helm) ChartVersion() (string, error) {
	h.versionOnce.Do(func() {
		if h.chartVersion != nil {
			h.version, h.versionErr = h.chartVersion()
			return
		}
		ch, err := h.chart()
		if err != nil {
			h.versionErr = fmt.Errorf("load chart: %w", err)
			return
		}
		h.version = chartVersion(ch)
	})
	return h.version, h.versionErr
}

func chartVersion(ch *chart.Chart) string {
	if ch == nil || ch.Metadata == nil {
		return ""
	}
	return ch.Metadata.Version
}
