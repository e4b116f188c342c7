package cli

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/serve/servetest"
)

func TestServeFlags(t *testing.T) {
	t.Parallel()
	var got *ServeOptions
	cmd := NewCmdServe(&Factory{}, func(o *ServeOptions) error { got = o; return nil })
	err := execute(t, cmd, "--listen", "127.0.0.1:9090", "--max-concurrent", "8", "--read-only", "--rate-limit", "5", "--shutdown-grace", "3s")
	if err != nil {
		t.Fatal(err)
	}
	if got.Listen != "127.0.0.1:9090" || got.MaxConcurrent != 8 || !got.ReadOnly || got.RateLimit != 5 || got.ShutdownGrace != 3*time.Second {
		t.Errorf("parsed %+v", got)
	}
	for _, args := range [][]string{
		{"--listen", "127.0.0.2:8080"}, // not local without a token file
		{"--listen", "0.0.0.0:8080"},   // the same
		{"--max-concurrent", "0"},      // no slot at all
		{"--rate-limit", "-1"},         // negative
		{"--shutdown-grace", "-1s"},    // negative
		{"extra"},                      // no arguments
	} {
		err := execute(t, NewCmdServe(&Factory{}, func(*ServeOptions) error { return nil }), args...)
		if ExitCode(err) != ExitUsage {
			t.Errorf("%v: exit %d (%v), want usage", args, ExitCode(err), err)
		}
	}
	if err := execute(t, NewCmdServe(&Factory{}, func(*ServeOptions) error { return nil }),
		"--listen", "127.0.0.2:8080", "--token-file", "/dev/null"); err != nil {
		t.Errorf("a token file makes any address acceptable to the flags: %v", err)
	}
}

// The views the command gives the server are the shapes its OpenAPI document declares.
func TestServeViewsMatchTheDocument(t *testing.T) {
	t.Parallel()
	v, err := servetest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	js := http.Header{"Content-Type": {"application/json"}}
	s := sampleStore("shop")
	body, _ := json.Marshal(newStoreView(s))
	if err := v.Check("GET", "/api/stores/shop", nil, nil, http.StatusOK, js, body); err != nil {
		t.Errorf("store view: %v\n%s", err, body)
	}
	recs := []audit.Record{
		{ID: 2, Time: time.Now(), Actor: "alice via kube-admin", Action: "create", Store: "shop", Outcome: audit.OutcomeFailed,
			Error: "x", Reason: "Timeout", Duration: time.Second, ChartVersion: "0.1.0"},
		{ID: 1, Time: time.Now(), Actor: "bob via kube-admin", Action: "backup", Store: "shop", Outcome: audit.OutcomeSucceeded,
			Artifact: &audit.Artifact{File: "/tmp/a.tar", Size: 3, SHA256: "ab"}, RevisionBefore: 1, RevisionAfter: 2,
			VersionsBefore: &audit.Versions{WordPress: "6"}},
	}
	body, _ = json.Marshal(map[string]any{"items": newAuditList(recs)})
	if err := v.Check("GET", "/api/audit", nil, nil, http.StatusOK, js, body); err != nil {
		t.Errorf("audit view: %v\n%s", err, body)
	}
}
