package cli

import (
	"time"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
)

// newEngine builds the store engine over the embedded chart for one cluster.
func newEngine(cfg *config.Config, c *kube.Clients, now func() time.Time) (Engine, error) {
	ho := release.HelmOptions{Client: c.Interface, Getter: c.Getter, Chart: charts.Load, ChartVersion: chartVersion}
	if testChart != nil {
		ho.Chart, ho.ChartVersion = testChart(ho.Chart), nil
	}
	rm, err := release.NewHelm(ho)
	if err != nil {
		return nil, err
	}
	o := store.Options{
		Kube:     c.Interface,
		Releases: rm,
		Settings: settingsFrom(cfg),
		Preset:   charts.Preset,
		Now:      now,
		FailFast: failFastFrom(cfg),
	}
	if testTimings != nil {
		if err := testTimings(&o); err != nil {
			return nil, err
		}
	}
	return store.New(o)
}

// chartVersion is the embedded chart's version, read without loading the chart.
func chartVersion() (string, error) {
	v, _, err := charts.Version()
	return v, err
}

// testTimings, when set, shortens the engine's timings (lock lease, fail-fast
// thresholds) for end-to-end tests, which would otherwise wait out the
// production values. Only a build with the e2e tag sets it
// (testtimings_e2e.go); every other build runs the engine's defaults.
var testTimings func(*store.Options) error

// testChart, when set, replaces the embedded chart, so that end-to-end tests can play a
// newer storectl with a copied chart. Only a build with the e2e tag sets it (testchart_e2e.go).
var testChart func(release.ChartLoader) release.ChartLoader

// settingsFrom maps the configuration onto the engine's settings.
func settingsFrom(cfg *config.Config) store.Settings {
	return store.Settings{
		Domain:                     cfg.Domain,
		IngressClass:               cfg.IngressClass,
		IngressControllerNamespace: cfg.IngressControllerNamespace,
		IngressControllerPodLabels: cfg.IngressControllerLabels,
		TLSClusterIssuer:           cfg.TLSClusterIssuer,
		StorageClass:               cfg.StorageClass,
		MaxStores:                  cfg.MaxStores,
		ImagePullPolicy:            cfg.ImagePullPolicy,
		Profile:                    cfg.Profile,
		TenantIsolationOverrides:   cfg.TenantIsolationOverrides,
	}
}
