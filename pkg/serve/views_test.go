package serve_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// storeJSON has every key of the CLI's -o json shape of a store (pkg/cli's StoreView, which
// the command passes to the server); pkg/cli tests that shape against the document itself.
type storeJSON struct {
	Name             string           `json:"name"`
	Type             string           `json:"type"`
	Namespace        string           `json:"namespace"`
	Status           string           `json:"status"`
	Reason           string           `json:"reason"`
	Message          string           `json:"message"`
	URL              string           `json:"url"`
	AdminURL         string           `json:"adminUrl"`
	Chart            string           `json:"chart"`
	ChartVersion     string           `json:"chartVersion"`
	AppVersion       string           `json:"appVersion"`
	UpgradeAvailable string           `json:"upgradeAvailable"`
	Revision         int              `json:"revision"`
	ReleaseStatus    string           `json:"releaseStatus"`
	ReadyPods        int              `json:"readyPods"`
	TotalPods        int              `json:"totalPods"`
	Components       []map[string]any `json:"components"`
	Background       map[string]any   `json:"background"`
	Mail             string           `json:"mail"`
	Events           []map[string]any `json:"events"`
	CreatedAt        string           `json:"createdAt"`
}

func storeView(s *store.Store) storeJSON {
	return storeJSON{Name: s.Name, Type: s.Type, Namespace: s.Namespace, Status: string(s.Phase), Reason: s.Reason,
		Message: s.Message, URL: s.URL, AdminURL: s.AdminURL, Components: []map[string]any{}, Events: []map[string]any{},
		Background: map[string]any{"schedule": "", "state": "off", "lastRun": "", "lastSuccess": "", "failedRuns": 0, "message": ""}}
}

func auditView(recs []audit.Record) []map[string]any {
	out := []map[string]any{}
	for _, r := range recs {
		out = append(out, map[string]any{"id": r.ID, "time": r.Time.Format(time.RFC3339), "actor": r.Actor, "server": r.Server,
			"context": r.Context, "action": r.Action, "store": r.Store, "outcome": r.Outcome, "error": r.Error,
			"reason": r.Reason, "durationSeconds": r.Duration.Seconds(), "chartVersion": r.ChartVersion})
	}
	return out
}

func decodeStore(t *testing.T, b []byte) storeJSON {
	t.Helper()
	var s storeJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("not a store: %v\n%s", err, b)
	}
	return s
}
