package release

import (
	"context"
	"strings"
	"testing"

	helmrelease "helm.sh/helm/v3/pkg/release"
)

// A revision left pending-upgrade or pending-rollback by a dead process is taken over the
// way pending-install is: recorded failed, then superseded by a deployed revision.
func TestApplyRecoversPendingUpgradeAndRollback(t *testing.T) {
	t.Parallel()
	for _, st := range []helmrelease.Status{helmrelease.StatusPendingUpgrade, helmrelease.StatusPendingRollback} {
		t.Run(st.String(), func(t *testing.T) {
			t.Parallel()
			h := newMemory(testChart)
			ctx := context.Background()
			if _, err := h.Apply(ctx, opts(map[string]any{"color": "blue"})); err != nil {
				t.Fatal(err)
			}
			leavePending(t, h, 2, st)
			o := opts(map[string]any{"color": "green"})
			if _, err := h.Apply(ctx, o); err == nil {
				t.Fatalf("Apply over a %s revision without RecoverPending succeeded", st)
			}
			o.RecoverPending = true
			r, err := h.Apply(ctx, o)
			if err != nil || r.Revision != 3 || r.Status != StatusDeployed {
				t.Fatalf("recovering %s: %+v, %v", st, r, err)
			}
			hist, _ := h.History(ctx, "store-shop", "shop")
			if hist[1].Status != StatusFailed || hist[1].Description != recoveredDescription {
				t.Errorf("interrupted revision = %+v", hist[1])
			}
		})
	}
}

// History stays bounded and never loses the deployed revision, even when every later
// revision failed.
func TestHistoryBoundedKeepsDeployed(t *testing.T) {
	t.Parallel()
	h := newMemory(testChart)
	ctx := context.Background()
	if _, err := h.Apply(ctx, opts(map[string]any{"color": "blue"})); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= MaxHistory+5; i++ {
		leavePending(t, h, i, helmrelease.StatusPendingUpgrade)
		if _, err := h.MarkFailed(ctx, "store-shop", "shop", "broke"); err != nil {
			t.Fatal(err)
		}
		if i < MaxHistory+5 {
			continue
		}
		o := opts(map[string]any{"color": "green"})
		o.RecoverPending = true
		if _, err := h.Apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := h.History(ctx, "store-shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) > MaxHistory {
		t.Errorf("%d revisions kept, want at most %d", len(hist), MaxHistory)
	}
	// Revision 1 was the deployed one while the new revision was applied: pruning kept it.
	if hist[0].Revision != 1 {
		t.Errorf("oldest kept revision is %d, want the deployed revision 1", hist[0].Revision)
	}
	deployed := 0
	for _, r := range hist {
		if r.Status == StatusDeployed {
			deployed++
		}
	}
	if deployed != 1 || hist[len(hist)-1].Status != StatusDeployed {
		t.Errorf("history = %+v, want the new revision deployed", hist)
	}
}

func TestPlanRendersWithoutARevision(t *testing.T) {
	t.Parallel()
	h := newMemory(testChart)
	ctx := context.Background()
	p, err := h.Plan(ctx, opts(map[string]any{"color": "teal"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Manifest, `color: "teal"`) || p.ChartVersion != "1.2.3" || p.Effective["color"] != "teal" {
		t.Errorf("plan = %+v", p)
	}
	if _, err := h.Get(ctx, "store-shop", "shop"); err == nil {
		t.Error("Plan stored a revision")
	}
	if v, err := h.ChartVersion(); err != nil || v != "1.2.3" {
		t.Errorf("ChartVersion = %q, %v", v, err)
	}
}
