package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/cli")

func init() { animateProgress = false }

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeEngine records calls and answers from its function fields.
type fakeEngine struct {
	mu    sync.Mutex
	calls []string

	create func(ctx context.Context, o store.CreateOptions) (*store.Store, error)
	list   func(ctx context.Context, o store.ListOptions) ([]store.Store, error)
	get    func(ctx context.Context, name string) (*store.Store, error)
	del    func(ctx context.Context, name string, o store.DeleteOptions) error
	wait   func(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error)
	creds  func(ctx context.Context, name string) (*store.Credentials, error)
	// changes is called by Changes; nil returns at once, as a watch that ended.
	changes func(ctx context.Context, o store.ChangesOptions, notify func()) error
}

func (e *fakeEngine) record(call string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
}

func (e *fakeEngine) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

func (e *fakeEngine) Create(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
	e.record("create " + o.Name)
	if e.create == nil {
		return nil, store.ErrFailed
	}
	return e.create(ctx, o)
}

func (e *fakeEngine) List(ctx context.Context, o store.ListOptions) ([]store.Store, error) {
	e.record("list " + o.Selector)
	if e.list == nil {
		return nil, nil
	}
	return e.list(ctx, o)
}

func (e *fakeEngine) Get(ctx context.Context, name string) (*store.Store, error) {
	e.record("get " + name)
	if e.get == nil {
		return nil, &store.Error{Err: store.ErrNotFound, Store: name, Message: "store " + name + " does not exist"}
	}
	return e.get(ctx, name)
}

func (e *fakeEngine) Delete(ctx context.Context, name string, o store.DeleteOptions) error {
	e.record("delete " + name)
	if e.del == nil {
		return nil
	}
	return e.del(ctx, name, o)
}

func (e *fakeEngine) Wait(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error) {
	e.record("wait " + name + " " + o.For)
	if e.wait == nil {
		return nil, nil
	}
	return e.wait(ctx, name, o)
}

func (e *fakeEngine) Credentials(ctx context.Context, name string) (*store.Credentials, error) {
	e.record("credentials " + name)
	if e.creds == nil {
		return nil, store.ErrNotFound
	}
	return e.creds(ctx, name)
}

func (e *fakeEngine) Changes(ctx context.Context, o store.ChangesOptions, notify func()) error {
	e.record("changes " + o.Name + o.Selector)
	if e.changes == nil {
		return nil
	}
	return e.changes(ctx, o, notify)
}

// memAudit is an in-memory audit log.
type memAudit struct {
	mu      sync.Mutex
	records []audit.Record
	err     error
}

func (a *memAudit) Append(r audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	r.ID = uint64(len(a.records) + 1)
	a.records = append(a.records, r)
	return nil
}

func (a *memAudit) Query(f audit.Filter) ([]audit.Record, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return nil, a.err
	}
	var out []audit.Record
	for i := len(a.records) - 1; i >= 0; i-- {
		r := a.records[i]
		if (f.Store == "" || r.Store == f.Store) && (f.Action == "" || r.Action == f.Action) &&
			(f.Since.IsZero() || !r.Time.Before(f.Since)) {
			out = append(out, r)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// harness is a Factory over fakes plus the buffers behind its streams.
type harness struct {
	f      *Factory
	eng    *fakeEngine
	audit  *memAudit
	bufs   output.TestStreams
	cancel context.CancelFunc
	ctx    context.Context
}

func newHarness(t *testing.T, tty bool) *harness {
	t.Helper()
	ios, bufs := output.Test()
	ios.SetTerminal(tty)
	h := &harness{eng: &fakeEngine{}, audit: &memAudit{}, bufs: bufs}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	t.Cleanup(h.cancel)
	h.f = &Factory{
		IOStreams: ios,
		Build:     BuildInfo{Version: "v1.2.3", Commit: "abc1234", Date: "2026-03-01T00:00:00Z"},
		Now:       func() time.Time { return testNow },
		Config: func() (*config.Config, error) {
			return &config.Config{Profile: "local", Domain: "127.0.0.1.nip.io", Timeout: 10 * time.Minute, MaxStores: 10}, nil
		},
		Engine: func() (Engine, error) { return h.eng, nil },
		Cluster: func() (*Cluster, error) {
			return &Cluster{Server: "https://127.0.0.1:6443", Context: "sandbox",
				Identity: func(context.Context) string { return "kubernetes-admin" }}, nil
		},
		Audit: func() (AuditLog, error) { return h.audit, nil },
	}
	return h
}

// run executes a command line and returns the exit code.
func (h *harness) run(args ...string) int {
	return Run(h.ctx, h.f, args)
}

func (h *harness) stdout() string { return h.bufs.Out.String() }
func (h *harness) stderr() string { return h.bufs.ErrOut.String() }

// golden compares got with testdata/cli/<name>.golden, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "cli", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file %s (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

// transcript joins both streams and the exit code for a golden file.
func (h *harness) transcript(code int) string {
	var b strings.Builder
	b.WriteString("# exit ")
	b.WriteString(itoa(code))
	b.WriteString("\n# stdout\n")
	b.WriteString(h.stdout())
	b.WriteString("# stderr\n")
	b.WriteString(h.stderr())
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// sampleStore is a Ready store as the engine returns it.
func sampleStore(name string) *store.Store {
	return &store.Store{
		Name: name, Type: store.TypeWooCommerce, Namespace: "store-" + name, Phase: store.PhaseReady,
		URL: "http://" + name + ".127.0.0.1.nip.io/", AdminURL: "http://" + name + ".127.0.0.1.nip.io/wp-admin/",
		Chart: "woocommerce", ChartVersion: "0.1.0", AppVersion: "6.8", Revision: 1, ReleaseStatus: "deployed",
		ReadyPods: 2, TotalPods: 2,
		Components: []store.Component{
			{Name: "namespace", Ready: true, State: "ready"},
			{Name: "database", Ready: true, State: "ready"},
			{Name: "wordpress", Ready: true, State: "ready"},
			{Name: "setup", Ready: true, State: "ready"},
			{Name: "ingress", Ready: true, State: "ready"},
		},
		Background: store.Background{Schedule: "*/5 * * * *", State: store.BackgroundOK,
			LastRun: testNow.Add(-2 * time.Minute), LastSuccess: testNow.Add(-90 * time.Second)},
		Mail:      "off",
		CreatedAt: testNow.Add(-5 * time.Minute),
	}
}
