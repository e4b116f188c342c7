package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/store"
)

// TestSettingsReachTheirChartValue: every setting whose definition names a chart value
// arrives there, from the configuration through the engine's settings; and every store
// setting has a flag on create.
func TestSettingsReachTheirChartValue(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{
		Domain: "d.example", IngressClass: "ic", IngressControllerNamespace: "icns",
		IngressControllerLabels: map[string]string{"k": "v"}, TLSClusterIssuer: "issuer",
		StorageClass: "sc", ImagePullPolicy: "Never",
	}
	values := store.ChartValues("shop", settingsFrom(cfg))
	create := NewCmdCreate(newHarness(t, false).f, nil)
	checked := 0
	for _, d := range config.Definitions() {
		if d.Flag == config.FlagStore && create.Flags().Lookup(d.Key) == nil {
			t.Errorf("create has no --%s", d.Key)
		}
		if d.Chart == "" {
			continue
		}
		checked++
		got, ok := lookupPath(values, d.Chart)
		if !ok {
			t.Errorf("%s: chart value %s not set (values %v)", d.Key, d.Chart, values)
			continue
		}
		want := cfg.Settings()
		for _, s := range want {
			if s.Key == d.Key && fmt.Sprint(s.Value) != fmt.Sprint(got) {
				t.Errorf("%s: chart value %s = %v, want %v", d.Key, d.Chart, got, s.Value)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d settings name a chart value", checked)
	}
}

func lookupPath(v map[string]any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	var cur any = v
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	if m, ok := cur.(map[string]any); ok {
		out := map[string]string{}
		for k, x := range m {
			out[k] = fmt.Sprint(x)
		}
		return out, true
	}
	return cur, true
}
