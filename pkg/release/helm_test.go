package release

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
)

// testChart is a minimal chart whose one template echoes a value, so tests
// can see which values a revision was rendered with.
func testChart() (*chart.Chart, error) {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "1.2.3", AppVersion: "9.9"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  color: {{ .Values.color | quote }}\n")}},
		Values: map[string]any{"color": "red"},
	}, nil
}

func opts(vals map[string]any) ApplyOptions {
	return ApplyOptions{Name: "shop", Namespace: "store-shop", Values: vals, Timeout: time.Minute}
}

// leavePending stores a revision as a killed process leaves it.
func leavePending(t *testing.T, h *Helm, version int, status helmrelease.Status) {
	t.Helper()
	ch, _ := testChart()
	r := &helmrelease.Release{Name: "shop", Namespace: "store-shop", Version: version, Chart: ch,
		Info: &helmrelease.Info{Status: status, FirstDeployed: helmtime.Now(), LastDeployed: helmtime.Now()}}
	cfg := h.config(context.Background(), "store-shop")
	if version > 1 {
		if err := cfg.Releases.Update(r); err == nil {
			return
		}
	}
	if err := cfg.Releases.Create(r); err != nil {
		t.Fatal(err)
	}
}

func TestApplyInstallsThenUpgrades(t *testing.T) {
	t.Parallel()
	h := newMemory(testChart)
	ctx := context.Background()
	r, err := h.Apply(ctx, opts(map[string]any{"color": "blue"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 1 || r.Status != StatusDeployed || r.Chart != "demo" || r.ChartVersion != "1.2.3" || r.AppVersion != "9.9" {
		t.Errorf("install = %+v", r)
	}
	r, err = h.Apply(ctx, opts(map[string]any{"color": "green"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 2 || r.Status != StatusDeployed {
		t.Errorf("upgrade = %+v", r)
	}
	hist, err := h.History(ctx, "store-shop", "shop")
	if err != nil || len(hist) != 2 || hist[0].Status != StatusSuperseded {
		t.Errorf("history = %+v, %v", hist, err)
	}
	if st, err := h.Status(ctx, "store-shop", "shop"); err != nil || st.Revision != 2 || st.Status != StatusDeployed {
		t.Errorf("status = %+v, %v", st, err)
	}
	if _, err := h.Status(ctx, "store-none", "none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("status of nothing = %v, want ErrNotFound", err)
	}
	if _, err := h.Install(ctx, opts(nil)); err == nil {
		t.Errorf("Install over an existing release succeeded")
	}
}

func TestApplyRecoversPendingInstall(t *testing.T) {
	t.Parallel()
	for _, st := range []helmrelease.Status{helmrelease.StatusPendingInstall, helmrelease.StatusPendingUpgrade, helmrelease.StatusUninstalling} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			h := newMemory(testChart)
			ctx := context.Background()
			leavePending(t, h, 1, st)

			if st.IsPending() {
				_, err := h.Apply(ctx, opts(nil))
				if !errors.Is(err, ErrPending) {
					t.Fatalf("Apply without RecoverPending = %v, want ErrPending", err)
				}
				// Helm's own upgrade refuses too: this is the trap being avoided.
				if _, err := h.Upgrade(ctx, opts(nil)); !errors.Is(err, ErrPending) {
					t.Fatalf("Upgrade on a pending release = %v, want ErrPending", err)
				}
			}
			o := opts(map[string]any{"color": "blue"})
			o.RecoverPending = true
			r, err := h.Apply(ctx, o)
			if err != nil {
				t.Fatalf("Apply with RecoverPending: %v", err)
			}
			if r.Status != StatusDeployed || r.Revision != 2 {
				t.Errorf("recovered release = %+v, want deployed revision 2", r)
			}
			hist, _ := h.History(ctx, "store-shop", "shop")
			// Helm supersedes the revision it upgraded from; the record keeps why it stopped.
			if len(hist) != 2 || hist[0].Status != StatusSuperseded || !strings.Contains(hist[0].Description, "interrupted") {
				t.Errorf("history = %+v, want the interrupted revision recorded failed", hist)
			}
		})
	}
}

func TestMarkFailedAndFinalize(t *testing.T) {
	t.Parallel()
	h := newMemory(testChart)
	ctx := context.Background()
	if _, err := h.MarkFailed(ctx, "store-shop", "shop", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkFailed on nothing = %v, want ErrNotFound", err)
	}
	leavePending(t, h, 1, helmrelease.StatusPendingInstall)
	r, err := h.Finalize(ctx, "store-shop", "shop", "")
	if err != nil || r.Status != StatusDeployed {
		t.Fatalf("Finalize = %+v, %v", r, err)
	}
	leavePending(t, h, 2, helmrelease.StatusPendingUpgrade)
	r, err = h.MarkFailed(ctx, "store-shop", "shop", "job failed")
	if err != nil || r.Status != StatusFailed || r.Description != "job failed" || r.Revision != 2 {
		t.Fatalf("MarkFailed = %+v, %v", r, err)
	}
	// Not pending any more: both leave it alone.
	r, _ = h.Finalize(ctx, "store-shop", "shop", "")
	if r.Status != StatusFailed {
		t.Errorf("Finalize changed a failed revision: %+v", r)
	}
}

func TestListLatestAndUninstall(t *testing.T) {
	t.Parallel()
	h := newMemory(testChart)
	ctx := context.Background()
	for _, n := range []string{"b", "a"} {
		o := ApplyOptions{Name: n, Namespace: "store-" + n}
		if _, err := h.Apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Apply(ctx, ApplyOptions{Name: "a", Namespace: "store-a"}); err != nil {
		t.Fatal(err)
	}
	all, err := h.ListLatest(ctx, []string{"store-a", "store-b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "a" || all[0].Revision != 2 || all[0].Status != StatusDeployed || all[1].Name != "b" {
		t.Errorf("ListLatest = %+v, want the latest revision of a and b", all)
	}
	if only, _ := h.ListLatest(ctx, []string{"store-b"}); len(only) != 1 || only[0].Name != "b" {
		t.Errorf("ListLatest(store-b) = %+v, want b alone", only)
	}
	if err := h.Uninstall(ctx, "store-a", "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx, "store-a", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after uninstall = %v, want ErrNotFound", err)
	}
	if err := h.Uninstall(ctx, "store-a", "a", time.Minute); err != nil {
		t.Errorf("second uninstall = %v, want nil", err)
	}
}

func TestCopyValuesIsDeep(t *testing.T) {
	t.Parallel()
	in := map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": 1}}}, "v": chartutil.Values{"x": "y"}}
	out := copyValues(in)
	out["a"].(map[string]any)["b"].([]any)[0].(map[string]any)["c"] = 2
	if in["a"].(map[string]any)["b"].([]any)[0].(map[string]any)["c"] != 1 {
		t.Errorf("copyValues shares nested maps")
	}
}

func TestValidateAppliesTheChartSchema(t *testing.T) {
	t.Parallel()
	h := newMemory(nil)
	if err := h.Validate(map[string]any{"store": map[string]any{"name": "shop"}}); err != nil {
		t.Errorf("valid values refused: %v", err)
	}
	err := h.Validate(map[string]any{"store": map[string]any{"name": "shop"}, "wordpress": map[string]any{"replicaCount": 2}})
	if err == nil || !strings.Contains(err.Error(), "values don't meet the specifications of the schema") || !strings.Contains(err.Error(), "replicaCount") {
		t.Errorf("values outside the schema: %v", err)
	}
}

// newMemory is a Manager over Helm's memory driver for this package's tests, which run one
// operation at a time (package releasetest serves concurrent tests elsewhere).
func newMemory(chart ChartLoader) *Helm {
	var mu sync.Mutex
	drivers := map[string]driver.Driver{}
	return NewWithBackend(chart, Backend{
		KubeClient:  &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard},
		KubeVersion: chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"},
		Storage: func(ns string) driver.Driver {
			mu.Lock()
			defer mu.Unlock()
			if d, ok := drivers[ns]; ok {
				return d
			}
			m := driver.NewMemory()
			m.SetNamespace(ns)
			drivers[ns] = m
			return m
		},
	})
}

func TestMarkRevisionFailedRecordsOnlyTheLatestDeployedOrPending(t *testing.T) {
	t.Parallel()
	h := newMemory(testChart)
	ctx := context.Background()
	if _, err := h.Apply(ctx, opts(map[string]any{"color": "blue"})); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Apply(ctx, opts(map[string]any{"color": "green"})); err != nil {
		t.Fatal(err)
	}
	// An older revision is not the one to judge: nothing changes.
	r, err := h.MarkRevisionFailed(ctx, "store-shop", "shop", 1, "setup failed")
	if err != nil || r.Revision != 2 || r.Status != StatusDeployed {
		t.Fatalf("MarkRevisionFailed(1) = %+v, %v; want revision 2 deployed, unchanged", r, err)
	}
	r, err = h.MarkRevisionFailed(ctx, "store-shop", "shop", 2, "setup: BackoffLimitExceeded")
	if err != nil || r.Revision != 2 || r.Status != StatusFailed || r.Description != "setup: BackoffLimitExceeded" {
		t.Fatalf("MarkRevisionFailed(2) = %+v, %v; want revision 2 failed with the reason", r, err)
	}
	// A failed revision keeps its first reason, and the next upgrade applies over it.
	if r, _ = h.MarkRevisionFailed(ctx, "store-shop", "shop", 2, "other"); r.Description != "setup: BackoffLimitExceeded" {
		t.Errorf("a second call rewrote the reason: %q", r.Description)
	}
	r, err = h.Apply(ctx, opts(map[string]any{"color": "red"}))
	if err != nil || r.Revision != 3 || r.Status != StatusDeployed {
		t.Errorf("upgrade after the failure = %+v, %v", r, err)
	}
}
