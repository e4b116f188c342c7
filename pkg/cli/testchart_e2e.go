//go:build e2e

package cli

import (
	"os"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/storectl/storectl/pkg/release"
)

// EnvTestChart names a chart directory that a build for end-to-end tests installs instead
// of the embedded chart, so that a test can play a newer storectl (a copied chart with a
// bumped version). A release build ignores it.
const EnvTestChart = "STORECTL_TEST_CHART"

func init() {
	testChart = func(embedded release.ChartLoader) release.ChartLoader {
		dir := os.Getenv(EnvTestChart)
		if dir == "" {
			return embedded
		}
		return func() (*chart.Chart, error) { return loader.Load(dir) }
	}
}
