package charts

import "testing"

// Version, read from Chart.yaml alone, is what Helm's loader reads.
func TestVersionIsTheLoadedChartsVersion(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	v, app, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	if v != c.Metadata.Version || app != c.Metadata.AppVersion {
		t.Errorf("Version() = %q, %q; the loaded chart is %q, app %q", v, app, c.Metadata.Version, c.Metadata.AppVersion)
	}
}
