package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/store"
)

// createSteps is the progress a successful create reports.
var createSteps = []store.Progress{
	{Step: "namespace", State: "running", Message: "creating namespace store-shop"},
	{Step: "namespace", State: "done", Elapsed: 1 * time.Second},
	{Step: "database", State: "running", Message: "pod shop-mariadb-0: ContainerCreating", Elapsed: 0},
	{Step: "wordpress", State: "running", Message: "0/1 pods ready", Elapsed: 0},
	{Step: "database", State: "done", Elapsed: 12 * time.Second},
	{Step: "wordpress", State: "done", Elapsed: 41 * time.Second},
	{Step: "setup", State: "running", Message: "job shop-setup running"},
	{Step: "setup", State: "done", Elapsed: 30 * time.Second},
	{Step: "ingress", State: "done", Message: "shop.127.0.0.1.nip.io", Elapsed: 0},
}

func succeedingCreate(steps []store.Progress) func(context.Context, store.CreateOptions) (*store.Store, error) {
	return func(_ context.Context, o store.CreateOptions) (*store.Store, error) {
		for _, p := range steps {
			o.OnProgress(p)
		}
		return sampleStore(o.Name), nil
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		for _, args := range [][]string{{"create", "shop"}, {"create", "shop", "-o", "json"}, {"create", "shop", "--wait=false"}} {
			name := fmt.Sprintf("%s-tty=%v", strings.Join(args, "_"), tty)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, tty)
				var got store.CreateOptions
				h.eng.create = func(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
					got = o
					s, err := succeedingCreate(createSteps)(ctx, o)
					if !o.Wait {
						s.Phase = store.PhaseProvisioning
					}
					return s, err
				}
				code := h.run(args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, h.stderr())
				}
				golden(t, "create/"+strings.ReplaceAll(name, "=", ""), h.transcript(code))
				if got.Timeout != 10*time.Minute {
					t.Errorf("timeout from the configuration: got %v", got.Timeout)
				}
				if got.Wait == slicesContains(args, "--wait=false") {
					t.Errorf("wait passed as %v for %v", got.Wait, args)
				}
				if len(h.audit.records) != 1 {
					t.Fatalf("want one audit record, got %+v", h.audit.records)
				}
				r := h.audit.records[0]
				if r.Action != "create" || r.Store != "shop" || r.Outcome != audit.OutcomeSucceeded ||
					r.Actor != "kubernetes-admin" || r.Server != "https://127.0.0.1:6443" || r.Context != "sandbox" ||
					r.ChartVersion != "0.1.0" || r.Error != "" {
					t.Errorf("audit record %+v", r)
				}
			})
		}
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestCreateJSONIsTheStoreOnStdout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.create = succeedingCreate(createSteps)
	if code := h.run("create", "shop", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, h.stdout())
	}
	for _, k := range []string{"name", "type", "namespace", "status", "reason", "message", "url", "adminUrl", "chart",
		"chartVersion", "appVersion", "revision", "releaseStatus", "readyPods", "totalPods", "components", "events", "createdAt"} {
		if _, ok := v[k]; !ok {
			t.Errorf("key %q missing from the JSON shape", k)
		}
	}
	if ev, ok := v["events"].([]any); !ok || len(ev) != 0 {
		t.Errorf("events must be an empty list, got %#v", v["events"])
	}
	if v["createdAt"] != "2026-03-14T15:04:26Z" {
		t.Errorf("createdAt %v", v["createdAt"])
	}
	if !strings.Contains(h.stderr(), "storectl credentials shop") || !strings.Contains(h.stderr(), "wp-admin") {
		t.Errorf("stderr lacks the URLs and the credentials hint:\n%s", h.stderr())
	}
}

func TestCreateFailures(t *testing.T) {
	t.Parallel()
	failedDB := &store.Error{Err: store.ErrFailed, Store: "shop", Component: "database", Reason: "ImagePullBackOff",
		Message: `pod shop-mariadb-0: Back-off pulling image "mariadb:11.8"`}
	tests := []struct {
		name    string
		err     error
		steps   []store.Progress
		code    int
		outcome string
	}{
		{name: "failed", err: failedDB, code: ExitError, outcome: audit.OutcomeFailed, steps: []store.Progress{
			{Step: "namespace", State: "done", Elapsed: time.Second},
			{Step: "database", State: "running", Message: "pulling image"},
			{Step: "database", State: "failed", Message: "ImagePullBackOff", Elapsed: 20 * time.Second},
		}},
		{name: "timeout", err: fmt.Errorf("store shop: not ready after 10m0s: %w", store.ErrTimeout), code: ExitTimeout, outcome: audit.OutcomeFailed,
			steps: []store.Progress{
				{Step: "namespace", State: "done", Elapsed: time.Second},
				{Step: "wordpress", State: "running", Message: "0/1 pods ready", Elapsed: 9 * time.Minute},
			}},
		{name: "limit", err: &store.Error{Err: store.ErrLimitReached, Store: "shop", Message: "10 of 10 stores exist"},
			code: ExitLimitReached, outcome: audit.OutcomeFailed},
		{name: "exists", err: fmt.Errorf("store shop: %w", store.ErrAlreadyExists), code: ExitAlreadyExists, outcome: audit.OutcomeFailed},
		{name: "unreachable", err: &store.Error{Err: store.ErrUnreachable, Store: "shop", Message: "dial tcp 127.0.0.1:1: connection refused"}, code: ExitUnreachable, outcome: audit.OutcomeFailed},
		{name: "forbidden", err: fmt.Errorf("create namespace: %w", store.ErrUnauthorized), code: ExitUnauthorized, outcome: audit.OutcomeFailed},
		{name: "terminating", err: fmt.Errorf("store shop: namespace store-shop: %w", store.ErrTerminating), code: ExitError, outcome: audit.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, false)
			h.eng.create = func(_ context.Context, o store.CreateOptions) (*store.Store, error) {
				for _, p := range tt.steps {
					o.OnProgress(p)
				}
				return nil, tt.err
			}
			code := h.run("create", "shop")
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, h.stderr())
			}
			if h.stdout() != "" {
				t.Errorf("stdout must stay empty on failure, got %q", h.stdout())
			}
			if tt.name != "unreachable" && !strings.Contains(h.stderr(), "storectl ") || !strings.Contains(h.stderr(), "Error:") {
				t.Errorf("the error does not name a next command:\n%s", h.stderr())
			}
			golden(t, "create/failure-"+tt.name, h.transcript(code))
			if len(h.audit.records) != 1 || h.audit.records[0].Outcome != tt.outcome || h.audit.records[0].Error == "" {
				t.Errorf("audit records %+v", h.audit.records)
			}
		})
	}
}

func TestCreateInterrupted(t *testing.T) {
	t.Parallel()
	for _, engineErr := range []string{"sentinel", "context"} {
		t.Run(engineErr, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, false)
			h.eng.create = func(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
				o.OnProgress(store.Progress{Step: "namespace", State: "done"})
				o.OnProgress(store.Progress{Step: "database", State: "running", Message: "waiting"})
				h.cancel() // what SIGINT does through signal.NotifyContext
				<-ctx.Done()
				if engineErr == "context" {
					return nil, fmt.Errorf("watch store shop: %w", ctx.Err())
				}
				return nil, &store.Error{Err: store.ErrInterrupted, Store: "shop", Reason: "Interrupted", Message: "interrupted during install"}
			}
			code := h.run("create", "shop")
			if code != ExitInterrupted {
				t.Fatalf("exit %d: %s", code, h.stderr())
			}
			if !strings.Contains(h.stderr(), "storectl create shop") || !strings.Contains(h.stderr(), "storectl delete shop --yes") {
				t.Errorf("no resume/clean-up advice:\n%s", h.stderr())
			}
			if len(h.audit.records) != 1 || h.audit.records[0].Outcome != audit.OutcomeInterrupted {
				t.Errorf("audit records %+v", h.audit.records)
			}
			if h.audit.records[0].Actor != "kubernetes-admin" {
				t.Errorf("identity not looked up after the interruption: %+v", h.audit.records[0])
			}
		})
	}
}

func TestAuditFailureIsAWarning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.audit.err = fmt.Errorf("open /x/audit.db: %w", audit.ErrLocked)
	h.eng.create = succeedingCreate(nil)
	if code := h.run("create", "shop"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	if !strings.Contains(h.stderr(), "Warning: could not record create of store \"shop\" in the audit log") {
		t.Errorf("no warning:\n%s", h.stderr())
	}
}

func TestAuditActorFallsBackToOSUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.f.Cluster = func() (*Cluster, error) {
		return &Cluster{Server: "s", Context: "c", Identity: func(context.Context) string { return "" }}, nil
	}
	h.eng.create = succeedingCreate(nil)
	if code := h.run("create", "shop"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	if got := h.audit.records[0].Actor; got != audit.OSUser() || got == "" {
		t.Errorf("actor %q, want the OS user %q", got, audit.OSUser())
	}
}

func TestValidationHappensBeforeTheEngine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"create", "Shop"}, {"create", "shop", "--set", "x"}, {"create", "-x"}, {"get", "a_b"},
		{"delete", "../../etc", "--yes"}, {"wait", "9lives"}, {"credentials", "kube-system"}, {"delete", "shop"},
	} {
		h := newHarness(t, false)
		engineBuilt := false
		h.f.Engine = func() (Engine, error) { engineBuilt = true; return h.eng, nil }
		code := h.run(args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, h.stderr())
		}
		if engineBuilt || len(h.eng.Calls()) > 0 || len(h.audit.records) > 0 {
			t.Errorf("%v: the engine or the audit log was touched", args)
		}
		if h.stdout() != "" {
			t.Errorf("%v: stdout %q", args, h.stdout())
		}
	}
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

func listStores() []store.Store {
	a := sampleStore("shop")
	b := sampleStore("outlet")
	b.Phase, b.Reason, b.ReadyPods, b.TotalPods = store.PhaseFailed, "ImagePullBackOff", 1, 2
	b.CreatedAt = testNow.Add(-26 * time.Hour)
	c := sampleStore("new")
	c.Phase, c.URL, c.AdminURL, c.Revision, c.Chart, c.ChartVersion, c.ReadyPods, c.TotalPods = store.PhaseProvisioning, "", "", 0, "", "", 0, 0
	c.CreatedAt = testNow.Add(-40 * time.Second)
	return []store.Store{*a, *b, *c}
}

func TestList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		tty  bool
	}{
		{[]string{"list"}, false},
		{[]string{"list"}, true},
		{[]string{"list", "-o", "wide"}, false},
		{[]string{"list", "-o", "wide"}, true},
		{[]string{"list", "-o", "json"}, false},
		{[]string{"list", "-o", "yaml"}, false},
		{[]string{"list", "-o", "name"}, false},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s-tty%v", strings.Join(c.args, "_"), c.tty)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, c.tty)
			h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
			code := h.run(c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, h.stderr())
			}
			golden(t, "list/"+name, h.transcript(code))
		})
	}
}

func TestListEmpty(t *testing.T) {
	t.Parallel()
	for format, want := range map[string]string{"json": "[]\n", "yaml": "[]\n", "name": "", "table": ""} {
		h := newHarness(t, false)
		if code := h.run("list", "-o", format); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if h.stdout() != want {
			t.Errorf("-o %s of no stores: stdout %q, want %q", format, h.stdout(), want)
		}
	}
	h := newHarness(t, false)
	h.run("list")
	if !strings.Contains(h.stderr(), "No stores found") {
		t.Errorf("stderr %q", h.stderr())
	}
}

func TestListSelectorAndErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.list = func(_ context.Context, o store.ListOptions) ([]store.Store, error) {
		return nil, &store.Error{Err: store.ErrUnauthorized, Message: "namespaces is forbidden: User \"dev\" cannot list resource \"namespaces\""}
	}
	if code := h.run("list", "--selector", "team=web"); code != ExitUnauthorized {
		t.Fatalf("exit %d", code)
	}
	if got := h.eng.Calls(); len(got) != 1 || got[0] != "list team=web" {
		t.Errorf("calls %v", got)
	}
	if !strings.Contains(h.stderr(), "ClusterRole") {
		t.Errorf("no next step: %s", h.stderr())
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	failing := func() *store.Store {
		s := sampleStore("shop")
		s.Phase, s.Reason, s.Message = store.PhaseFailed, "CrashLoopBackOff", "wordpress: container wordpress restarted 5 times"
		s.Components[2] = store.Component{Name: "wordpress", Ready: false, State: "failed", Reason: "CrashLoopBackOff", Message: "back-off 40s restarting"}
		s.ReadyPods = 1
		s.Events = []store.Event{
			{Time: testNow.Add(-time.Minute), Type: "Warning", Reason: "BackOff", Object: "Pod/shop-wordpress-7d9-abc", Message: "Back-off restarting failed container", Count: 5},
			{Time: testNow.Add(-2 * time.Minute), Type: "Normal", Reason: "Pulled", Object: "Pod/shop-wordpress-7d9-abc", Message: "pulled"},
		}
		return s
	}
	for _, c := range []struct {
		name string
		args []string
		tty  bool
	}{
		{"ready", []string{"get", "shop"}, false},
		{"ready-tty", []string{"get", "shop"}, true},
		{"failed", []string{"get", "shop"}, false},
		{"failed-tty", []string{"get", "shop"}, true},
		{"failed-json", []string{"get", "shop", "-o", "json"}, false},
		{"failed-yaml", []string{"get", "shop", "-o", "yaml"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, c.tty)
			h.eng.get = func(_ context.Context, name string) (*store.Store, error) {
				if strings.HasPrefix(c.name, "failed") {
					return failing(), nil
				}
				return sampleStore(name), nil
			}
			code := h.run(c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, h.stderr())
			}
			golden(t, "get/"+c.name, h.transcript(code))
		})
	}
	h := newHarness(t, false)
	if code := h.run("get", "ghost"); code != ExitNotFound {
		t.Errorf("get of a missing store: exit %d", code)
	}
	if !strings.Contains(h.stderr(), "storectl list") {
		t.Errorf("not-found error without next step: %s", h.stderr())
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.wait = func(_ context.Context, name string, o store.WaitOptions) (*store.Store, error) {
		o.OnProgress(store.Progress{Step: "wordpress", State: "done", Elapsed: 3 * time.Second})
		return sampleStore(name), nil
	}
	if code := h.run("wait", "shop", "--for", "ready", "-o", "name"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	golden(t, "wait/ready-name", h.transcript(0))

	h = newHarness(t, false)
	h.eng.wait = func(_ context.Context, name string, o store.WaitOptions) (*store.Store, error) {
		o.OnProgress(store.Progress{Step: "namespace-deletion", State: "running", Message: "1 PVC terminating"})
		return nil, fmt.Errorf("store shop: namespace store-shop still exists after 1m0s: %w", store.ErrTimeout)
	}
	code := h.run("wait", "shop", "--for", "deleted", "--timeout", "1m")
	if code != ExitTimeout {
		t.Fatalf("exit %d", code)
	}
	golden(t, "wait/deleted-timeout", h.transcript(code))
	if len(h.audit.records) != 0 {
		t.Error("wait changes nothing and must not be audited")
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	const password = "s3cr3t-Pa55word-from-the-secret"
	for _, args := range [][]string{{"credentials", "shop"}, {"credentials", "shop", "-o", "json"}} {
		h := newHarness(t, false)
		h.eng.creds = func(_ context.Context, name string) (*store.Credentials, error) {
			return &store.Credentials{Store: name, URL: "http://shop.127.0.0.1.nip.io/", AdminURL: "http://shop.127.0.0.1.nip.io/wp-admin/",
				User: "admin", Password: password}, nil
		}
		if code := h.run(args...); code != 0 {
			t.Fatalf("exit %d: %s", code, h.stderr())
		}
		if !strings.Contains(h.stdout(), password) {
			t.Errorf("%v: the password is not on stdout", args)
		}
		if strings.Contains(h.stderr(), password) {
			t.Errorf("%v: the password leaked to stderr", args)
		}
		golden(t, "credentials/"+strings.Join(args[1:], "_"), h.transcript(0))
	}
}

func TestAuditCommand(t *testing.T) {
	t.Parallel()
	seed := func(h *harness) {
		for i, r := range []audit.Record{
			{Time: testNow.Add(-48 * time.Hour), Actor: "alice", Server: "https://127.0.0.1:6443", Context: "sandbox", Action: "create", Store: "old", Outcome: "succeeded", Duration: 95 * time.Second, ChartVersion: "0.1.0"},
			{Time: testNow.Add(-time.Hour), Actor: "kubernetes-admin", Server: "https://127.0.0.1:6443", Context: "sandbox", Action: "create", Store: "shop", Outcome: "failed", Error: "store shop: database: ImagePullBackOff", Duration: 31500 * time.Millisecond, ChartVersion: "0.1.0"},
			{Time: testNow.Add(-time.Minute), Actor: "kubernetes-admin", Server: "https://127.0.0.1:6443", Context: "sandbox", Action: "delete", Store: "shop", Outcome: "interrupted", Error: "interrupted", Duration: 2 * time.Second},
		} {
			_ = i
			_ = h.audit.Append(r)
		}
	}
	for _, c := range []struct {
		name string
		args []string
		tty  bool
	}{
		{"table", []string{"audit"}, false},
		{"table-tty", []string{"audit"}, true},
		{"wide-since", []string{"audit", "-o", "wide", "--since", "24h"}, false},
		{"json-store-limit", []string{"audit", "-o", "json", "--store", "shop", "--limit", "1"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, c.tty)
			seed(h)
			if code := h.run(c.args...); code != 0 {
				t.Fatalf("exit %d: %s", code, h.stderr())
			}
			golden(t, "audit/"+c.name, h.transcript(0))
		})
	}
	h := newHarness(t, false)
	h.audit.err = fmt.Errorf("audit log /x is held by another process: %w", audit.ErrLocked)
	if code := h.run("audit"); code != ExitError || !strings.Contains(h.stderr(), "Next:") {
		t.Errorf("locked audit log: exit %d %s", code, h.stderr())
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.f.Engine = func() (Engine, error) { t.Error("version built the engine"); return nil, errors.New("no") }
	h.f.Config = nil // a nil Config would panic if version loaded the configuration
	if code := h.run("version", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	var v VersionView
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "v1.2.3" || v.Commit != "abc1234" || v.Date != "2026-03-01T00:00:00Z" || v.GoVersion == "" || v.Platform == "" {
		t.Errorf("version %+v", v)
	}
	c, err := charts.Load()
	if err != nil {
		t.Fatal(err)
	}
	if v.Chart.Name != "woocommerce" || v.Chart.Version != c.Metadata.Version || v.Chart.AppVersion != c.Metadata.AppVersion {
		t.Errorf("chart %+v, want the embedded chart %s %s", v.Chart, c.Metadata.Version, c.Metadata.AppVersion)
	}

	// An untagged build's version is the commit (git describe --always): it is said once.
	for build, want := range map[BuildInfo]string{
		{Version: "abc1234", Commit: "abc1234", Date: "d"}:           "storectl abc1234 (built d, ",
		{Version: "v1.0.0-3-gabc1234", Commit: "abc1234", Date: "d"}: "storectl v1.0.0-3-gabc1234 (built d, ",
		{Version: "v1.0.0", Commit: "abc1234", Date: "d"}:            "storectl v1.0.0 (commit abc1234, built d, ",
	} {
		h := newHarness(t, false)
		h.f.Build = build
		h.run("version")
		if !strings.HasPrefix(h.stdout(), want) || !strings.Contains(h.stdout(), "chart woocommerce "+c.Metadata.Version) {
			t.Errorf("%+v: %q, want it to start with %q and name the chart", build, h.stdout(), want)
		}
	}
}

func TestCreateExistingReadyStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.create = func(_ context.Context, o store.CreateOptions) (*store.Store, error) {
		s := sampleStore(o.Name)
		return s, &store.Error{Err: store.ErrAlreadyExists, Store: o.Name, Reason: "AlreadyExists",
			Message: "the store already exists and is Ready; nothing was changed"}
	}
	code := h.run("create", "shop", "-o", "json")
	if code != ExitAlreadyExists {
		t.Fatalf("exit %d", code)
	}
	var v StoreView
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil || v.Name != "shop" || v.Status != "Ready" {
		t.Errorf("stdout should hold the existing store: %v %q", err, h.stdout())
	}
	if !strings.Contains(h.stderr(), "nothing was changed") {
		t.Errorf("stderr %q", h.stderr())
	}
	if r := h.audit.records[0]; r.Outcome != audit.OutcomeFailed || r.ChartVersion != "0.1.0" {
		t.Errorf("audit %+v", r)
	}
}

func TestTimeoutWithoutProgressShowsComponents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.wait = func(_ context.Context, name string, o store.WaitOptions) (*store.Store, error) {
		return nil, &store.Error{Err: store.ErrTimeout, Store: name, Message: "not ready after 1m0s",
			Components: []store.Component{
				{Name: "database", Ready: true, State: "ready"},
				{Name: "wordpress", State: "progressing", Reason: "ContainersNotReady", Message: "0/1 pods ready"},
			}}
	}
	if code := h.run("wait", "shop", "--timeout", "1m"); code != ExitTimeout {
		t.Fatalf("exit %d", code)
	}
	golden(t, "wait/ready-timeout-components", h.transcript(ExitTimeout))
	if !strings.Contains(h.stderr(), "WordPress   running   0s        ContainersNotReady: 0/1 pods ready") {
		t.Errorf("last state missing:\n%s", h.stderr())
	}
}

func TestSignalDuringAnotherErrorIsAnInterruption(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) {
		h.cancel()
		return nil, fmt.Errorf("list namespaces: %w", store.ErrUnreachable)
	}
	if code := h.run("list"); code != ExitInterrupted {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(h.stderr(), "Error: interrupted: list namespaces") {
		t.Errorf("stderr %q", h.stderr())
	}
}

func deleteCalls(e *fakeEngine) []string {
	var out []string
	for _, c := range e.Calls() {
		if strings.HasPrefix(c, "delete ") {
			out = append(out, c)
		}
	}
	return out
}

func TestNoColorFlag(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"list", "--no-color"}, {"list", "--bogus", "--no-color"}} {
		h := newHarness(t, true)
		h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
		h.run(args...)
		if strings.Contains(h.stdout()+h.stderr(), "\x1b") {
			t.Errorf("%v: ANSI escapes despite --no-color:\n%q\n%q", args, h.stdout(), h.stderr())
		}
	}
	h := newHarness(t, true)
	h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
	h.run("list")
	if !strings.Contains(h.stdout(), "\x1b[") {
		t.Error("a colour terminal without --no-color shows no colour; the test above proves nothing")
	}
}

// Help, version and completion never build the configuration, the cluster clients, the engine
// or the audit log: the factory's constructors are nil here and any use would panic.
func TestOfflineCommandsBuildNothing(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--help"}, {}, {"create", "--help"}, {"delete", "-h"}, {"help", "list"}, {"help", "exit-codes"},
		{"version"}, {"version", "-o", "yaml"}, {"completion", "zsh"}, {"__complete", "completion", ""},
	} {
		h := newHarness(t, false)
		h.f.Config, h.f.Engine, h.f.Cluster, h.f.Audit = nil, nil, nil, nil
		if code := h.run(args...); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, h.stderr())
		}
		if h.stdout() == "" {
			t.Errorf("%v printed nothing", args)
		}
	}
}

func TestUnclassifiedErrorsStillSayWhatToDo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.create = func(context.Context, store.CreateOptions) (*store.Store, error) {
		return nil, errors.New("install release shop: rendered manifests contain a resource that already exists")
	}
	if code := h.run("create", "shop"); code != ExitError {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(h.stderr(), "Next: run 'storectl get shop' to see its state; running 'storectl create shop' again resumes") {
		t.Errorf("stderr %q", h.stderr())
	}
	h = newHarness(t, false)
	h.eng.del = func(context.Context, string, store.DeleteOptions) error { return errors.New("uninstall: boom") }
	h.run("delete", "shop", "--yes")
	if !strings.Contains(h.stderr(), "Next: run 'storectl delete shop --yes' again to finish") {
		t.Errorf("stderr %q", h.stderr())
	}
}

// Chart values that are storectl's are refused before the engine, the cluster or the audit
// log is reached; the operator's setting opens isolation values.
func TestCreateRefusesStorectlValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args      []string
		overrides []string
		code      int
		want      string
	}{
		{[]string{"--set", "store.name=other"}, nil, ExitUsage, "value store.name is set by storectl"},
		{[]string{"--set", "credentials.existingSecret=x"}, nil, ExitUsage, "credentials.existingSecret"},
		{[]string{"--set", "limitRange.enabled=false"}, []string{"quota"}, ExitUsage, "limitRange.enabled"},
		{[]string{"--set", `ingress.annotations.x\.io/configuration-snippet=x`}, nil, ExitUsage, "snippet"},
		{[]string{"--set", "quota.enabled=false"}, []string{"quota"}, ExitOK, ""},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, false)
			h.f.Config = func() (*config.Config, error) {
				return &config.Config{Profile: "local", Domain: "127.0.0.1.nip.io", Timeout: 10 * time.Minute, MaxStores: 10,
					IngressControllerLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, TenantIsolationOverrides: tt.overrides}, nil
			}
			engineBuilt := false
			h.f.Engine = func() (Engine, error) { engineBuilt = true; return h.eng, nil }
			h.eng.create = func(context.Context, store.CreateOptions) (*store.Store, error) { return sampleStore("shop"), nil }
			code := h.run(append([]string{"create", "shop"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, h.stderr())
			}
			if tt.code == ExitOK {
				return
			}
			if !strings.Contains(h.stderr(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, h.stderr())
			}
			if engineBuilt || len(h.eng.Calls()) > 0 || len(h.audit.records) > 0 {
				t.Errorf("refused values reached the engine (%v, %v) or the audit log (%d records)", engineBuilt, h.eng.Calls(), len(h.audit.records))
			}
		})
	}
}
