package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/serve"
	"github.com/storectl/storectl/pkg/serve/servetest"
	"github.com/storectl/storectl/pkg/store"
)

// fakeEngine is an engine whose stores live in a map and whose operations the test drives.
type fakeEngine struct {
	mu     sync.Mutex
	stores map[string]*store.Store
	// createErr, when set, ends a create before its namespace step.
	createErr error
	// release, when set, holds creates and deletes until it is closed.
	release chan struct{}
	creates int
}

func newFakeEngine() *fakeEngine { return &fakeEngine{stores: map[string]*store.Store{}} }

func (e *fakeEngine) Create(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
	if err := store.ValidateName(o.Name); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.creates++
	e.stores[o.Name] = &store.Store{Name: o.Name, Type: store.TypeWooCommerce, Namespace: store.Namespace(o.Name),
		Phase: store.PhaseProvisioning, Components: []store.Component{}}
	err := e.createErr
	e.mu.Unlock()
	// The engine's limit and reachability errors come before it holds the store.
	if err != nil {
		return nil, err
	}
	o.OnProgress(store.Progress{Step: store.ComponentNamespace, State: store.ProgressDone})
	return e.Get(ctx, o.Name)
}

// Wait holds until release is closed, then makes the store Ready.
func (e *fakeEngine) Wait(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error) {
	e.mu.Lock()
	release := e.release
	e.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for %s", store.ErrInterrupted, name)
		}
	}
	o.OnProgress(store.Progress{Step: store.ComponentSetup, State: store.ProgressDone})
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stores[name].Phase = store.PhaseReady
	s := *e.stores[name]
	return &s, nil
}

func (e *fakeEngine) List(context.Context, store.ListOptions) ([]store.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []store.Store{}
	for _, s := range e.stores {
		out = append(out, *s)
	}
	return out, nil
}

func (e *fakeEngine) Get(_ context.Context, name string) (*store.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.stores[name]
	if !ok {
		return nil, &store.Error{Err: store.ErrNotFound, Store: name, Reason: store.ReasonNotFound, Message: "no store named " + name}
	}
	c := *s
	return &c, nil
}

func (e *fakeEngine) Delete(_ context.Context, name string, o store.DeleteOptions) error {
	if _, err := e.Get(context.Background(), name); err != nil {
		return err
	}
	o.OnProgress(store.Progress{Step: store.StepUninstall, State: store.ProgressRunning})
	e.mu.Lock()
	delete(e.stores, name)
	e.mu.Unlock()
	return nil
}

// memAudit is an audit log in memory.
type memAudit struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (m *memAudit) Append(r audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.ID = uint64(len(m.recs) + 1)
	m.recs = append([]audit.Record{r}, m.recs...)
	return nil
}

// records returns the records, newest first.
func (m *memAudit) records() []audit.Record {
	recs, _ := m.Query(audit.Filter{})
	return recs
}

func (m *memAudit) Query(audit.Filter) ([]audit.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.recs...), nil
}

// exitCode is a small stand-in for the CLI's table, enough for the cases below.
func exitCode(err error) int {
	switch {
	case errors.Is(err, store.ErrInvalidName), errors.Is(err, store.ErrInvalidValues):
		return 2
	case errors.Is(err, store.ErrNotFound):
		return 3
	case errors.Is(err, store.ErrAlreadyExists):
		return 4
	case errors.Is(err, store.ErrUnreachable):
		return 6
	case errors.Is(err, store.ErrLimitReached):
		return 8
	}
	return 1
}

type harness struct {
	eng   *fakeEngine
	audit *memAudit
	kube  *fake.Clientset
	srv   *serve.Server
	c     *servetest.Client
}

func newHarness(t *testing.T, mod func(*serve.Options)) *harness {
	t.Helper()
	v, err := servetest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{eng: newFakeEngine(), audit: &memAudit{}, kube: fake.NewClientset()}
	o := serve.Options{
		Engine: h.eng, Kube: h.kube,
		Recorder:   &audit.Recorder{Open: func() (audit.Appender, error) { return h.audit, nil }, Identity: func(context.Context) string { return "system:serviceaccount:storectl:serve" }},
		AuditQuery: h.audit.Query,
		StoreJSON:  func(s *store.Store) any { return storeView(s) },
		AuditJSON:  func(recs []audit.Record) any { return auditView(recs) },
		ExitCode:   exitCode,
		Listen:     "127.0.0.1:0",
	}
	if mod != nil {
		mod(&o)
	}
	h.srv, err = serve.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h.srv.Handler())
	t.Cleanup(ts.Close)
	h.c = &servetest.Client{Base: ts.URL, V: v}
	t.Cleanup(func() {
		for _, err := range h.c.Errs {
			t.Errorf("not as the OpenAPI document says: %v", err)
		}
	})
	return h
}

func (h *harness) do(t *testing.T, method, path, body string) servetest.Response {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	r, err := h.c.Do(method, path, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func problemOf(t *testing.T, r servetest.Response) serve.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with content type %q, want a problem: %s", r.Status, ct, r.Body)
	}
	var p serve.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreateGetDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.eng.release = make(chan struct{})
	r := h.do(t, "POST", "/api/stores", `{"name":"shop"}`)
	if r.Status != http.StatusAccepted || r.Header.Get("Location") != "/api/stores/shop" {
		t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
	}
	if s := decodeStore(t, r.Body); s.Status != "Provisioning" {
		t.Errorf("create answered %+v, want Provisioning", s)
	}
	// A second create while the first runs is refused.
	if p := problemOf(t, h.do(t, "POST", "/api/stores", `{"name":"shop"}`)); p.Status != http.StatusConflict {
		t.Errorf("duplicate create: %+v", p)
	}
	close(h.eng.release)
	waitFor(t, func() bool { return len(h.audit.records()) == 1 })
	if rec := h.audit.records()[0]; rec.Action != "create" || rec.Outcome != audit.OutcomeSucceeded || rec.Actor != "local via system:serviceaccount:storectl:serve" {
		t.Errorf("audit record %+v", rec)
	}
	if s := decodeStore(t, h.do(t, "GET", "/api/stores/shop", "").Body); s.Status != "Ready" {
		t.Errorf("get: %+v", s)
	}
	if r := h.do(t, "DELETE", "/api/stores/shop", ""); r.Status != http.StatusAccepted || decodeStore(t, r.Body).Status != "Deleting" {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	waitFor(t, func() bool { return len(h.audit.records()) == 2 })
	p := problemOf(t, h.do(t, "GET", "/api/stores/shop", ""))
	if p.Status != http.StatusNotFound || p.ExitCode != 3 {
		t.Errorf("get after delete: %+v", p)
	}
	var list struct{ Items []storeJSON }
	if err := json.Unmarshal(h.do(t, "GET", "/api/stores", "").Body, &list); err != nil || list.Items == nil || len(list.Items) != 0 {
		t.Errorf("list after delete: %+v %v", list, err)
	}
	var recs struct{ Items []map[string]any }
	if err := json.Unmarshal(h.do(t, "GET", "/api/audit?store=shop&limit=5&since=1h", "").Body, &recs); err != nil || len(recs.Items) != 2 {
		t.Errorf("audit: %+v %v", recs, err)
	}
	assertCounter(t, h, `storectl_operations_total`, map[string]string{"operation": "create", "outcome": "succeeded"}, 1)
	assertCounter(t, h, `storectl_operations_total`, map[string]string{"operation": "delete", "outcome": "succeeded"}, 1)
}

// Each refusal has its status, its exit code and a problem document.
func TestRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		createErr     error
		ready         string
		method, path  string
		contentType   string
		body          string
		status, exit  int
		failureReason string
	}{
		{name: "invalid name", method: "POST", path: "/api/stores", body: `{"name":"Shop"}`, status: 422, exit: 2},
		{name: "reserved name", method: "POST", path: "/api/stores", body: `{"name":"audit"}`, status: 422, exit: 2},
		{name: "unknown field", method: "POST", path: "/api/stores", body: `{"name":"shop","password":"x"}`, status: 400, exit: 2},
		{name: "not JSON", method: "POST", path: "/api/stores", body: `name=shop`, status: 400, exit: 2},
		{name: "two values", method: "POST", path: "/api/stores", body: `{"name":"shop"}{}`, status: 400, exit: 2},
		{name: "form body", method: "POST", path: "/api/stores", contentType: "application/x-www-form-urlencoded", body: `name=shop`, status: 415, exit: 2},
		{name: "too large", method: "POST", path: "/api/stores", body: `{"name":"shop","values":{"x":"` + strings.Repeat("a", serve.MaxBodyBytes) + `"}}`, status: 413, exit: 2},
		{name: "exists", ready: "shop", method: "POST", path: "/api/stores", body: `{"name":"shop"}`, status: 409, exit: 4},
		{name: "limit", createErr: &store.Error{Err: store.ErrLimitReached, Store: "shop", Reason: store.ReasonLimitReached, Message: "2 of 2"},
			method: "POST", path: "/api/stores", body: `{"name":"shop"}`, status: 409, exit: 8, failureReason: "LimitReached"},
		{name: "unreachable", createErr: fmt.Errorf("%w: dial", store.ErrUnreachable),
			method: "POST", path: "/api/stores", body: `{"name":"shop"}`, status: 503, exit: 6},
		{name: "missing", method: "GET", path: "/api/stores/nothere", status: 404, exit: 3},
		{name: "missing delete", method: "DELETE", path: "/api/stores/nothere", status: 404, exit: 3},
		{name: "missing events", method: "GET", path: "/api/stores/nothere/events", status: 404, exit: 3},
		{name: "bad since", method: "GET", path: "/api/audit?since=yesterday", status: 400, exit: 2},
		{name: "bad limit", method: "GET", path: "/api/stores/audit/log?limit=-1", status: 400, exit: 2},
		{name: "no route", method: "GET", path: "/api/nothing", status: 404, exit: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.eng.createErr = tc.createErr
			if tc.ready != "" {
				h.eng.stores[tc.ready] = &store.Store{Name: tc.ready, Phase: store.PhaseReady, ReleaseStatus: "deployed"}
			}
			req, _ := http.NewRequest(tc.method, h.c.Base+tc.path, strings.NewReader(tc.body))
			ct := tc.contentType
			if ct == "" && tc.body != "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p serve.Problem
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || p.Status != tc.status || p.ExitCode != tc.exit || p.Detail == "" ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%d %+v, want status %d exit %d", resp.StatusCode, p, tc.status, tc.exit)
			}
			if tc.failureReason != "" {
				assertCounter(t, h, "storectl_provision_failures_total", map[string]string{"reason": tc.failureReason}, 1)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	if _, err := serve.New(serve.Options{Engine: newFakeEngine(), Kube: fake.NewClientset(), Recorder: &audit.Recorder{},
		AuditQuery: (&memAudit{}).Query, StoreJSON: func(*store.Store) any { return nil }, AuditJSON: func([]audit.Record) any { return nil },
		Listen: "127.0.0.2:8080"}); err == nil || !strings.Contains(err.Error(), "--token-file") {
		t.Errorf("a server on 127.0.0.2 without tokens: %v", err)
	}
	h := newHarness(t, func(o *serve.Options) {
		o.Listen = "127.0.0.2:0"
		o.Tokens = map[string]string{"s3cret-token-for-alice": "alice"}
	})
	h.eng.release = make(chan struct{})
	close(h.eng.release)
	p := problemOf(t, h.do(t, "GET", "/api/stores", ""))
	if p.Status != http.StatusUnauthorized || p.ExitCode != 7 {
		t.Errorf("no token: %+v", p)
	}
	h.c.Token = "s3cret-token-for-bob!!"
	if r := h.do(t, "POST", "/api/stores", `{"name":"shop"}`); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong token: %d %v", r.Status, r.Header)
	}
	for _, public := range []string{"/livez", "/api/openapi.json"} {
		if r := h.do(t, "GET", public, ""); r.Status != http.StatusOK {
			t.Errorf("%s without a valid token: %d", public, r.Status)
		}
	}
	h.c.Token = "s3cret-token-for-alice"
	if r := h.do(t, "POST", "/api/stores", `{"name":"shop"}`); r.Status != http.StatusAccepted {
		t.Fatalf("with the token: %d %s", r.Status, r.Body)
	}
	waitFor(t, func() bool { return len(h.audit.records()) == 1 })
	if a := h.audit.records()[0].Actor; a != "alice via system:serviceaccount:storectl:serve" {
		t.Errorf("actor %q", a)
	}
}

func TestParseTokens(t *testing.T) {
	t.Parallel()
	got, err := serve.ParseTokens([]byte("# ops\nalice:0123456789abcdef0\n\n  bob : fedcba9876543210x \nabcdefghijklmnopq\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"0123456789abcdef0": "alice", "fedcba9876543210x": "bob", "abcdefghijklmnopq": "token-3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "# only a comment\n", "alice:short\n", "al ice:0123456789abcdef0\n",
		"a:0123456789abcdef0\na:0123456789abcdef1\n", "a:0123456789abcdef0\nb:0123456789abcdef0\n"} {
		_, err := serve.ParseTokens([]byte(bad))
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

func TestIsLocal(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true,
		"127.0.0.2:8080": false, "0.0.0.0:8080": false, ":8080": false, "10.0.0.1:80": false, "nonsense": false} {
		if got := serve.IsLocal(addr); got != want {
			t.Errorf("IsLocal(%q) = %v", addr, got)
		}
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *serve.Options) { o.ReadOnly = true })
	for _, r := range []servetest.Response{h.do(t, "POST", "/api/stores", `{"name":"shop"}`), h.do(t, "DELETE", "/api/stores/shop", "")} {
		if p := problemOf(t, r); p.Status != http.StatusMethodNotAllowed {
			t.Errorf("read-only: %+v", p)
		}
	}
	if h.eng.creates != 0 {
		t.Errorf("a read-only server created %d stores", h.eng.creates)
	}
	if r := h.do(t, "GET", "/api/stores", ""); r.Status != http.StatusOK {
		t.Errorf("read-only list: %d", r.Status)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *serve.Options) { o.RateLimit = 2 })
	for i := range 2 {
		if r := h.do(t, "POST", "/api/stores", `{"name":"Bad"}`); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("request %d: %d", i+1, r.Status)
		}
	}
	r := h.do(t, "POST", "/api/stores", `{"name":"Bad"}`)
	if p := problemOf(t, r); p.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.Header.Get("Retry-After") == "0" {
		t.Errorf("third request: %+v Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	// Reads are not limited.
	if r := h.do(t, "GET", "/api/stores", ""); r.Status != http.StatusOK {
		t.Errorf("a read past the limit: %d", r.Status)
	}
}

// A server without tokens answers only requests addressed to this machine.
func TestForeignHostRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	req, _ := http.NewRequest("GET", h.c.Base+"/api/stores", nil)
	req.Host = "evil.example:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %d", resp.StatusCode)
	}
}

// The event streams follow the shared cache: a store whose namespace appears is sent to the
// fleet stream, and one whose namespace goes is sent as deleted.
func TestEventStreams(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A store there before the server starts is in the snapshot.
	h.eng.stores["old"] = &store.Store{Name: "old", Namespace: "store-old", Phase: store.PhaseReady}
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	waitFor(t, func() bool {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusOK
	})
	resp, err := http.Get(base + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := readEvents(resp)
	if ev := <-events; ev.kind != "store" || !strings.Contains(ev.data, `"name":"old"`) {
		t.Fatalf("first event %+v, want the snapshot of old", ev)
	}
	h.eng.mu.Lock()
	h.eng.stores["new"] = &store.Store{Name: "new", Namespace: "store-new", Phase: store.PhaseProvisioning}
	h.eng.mu.Unlock()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "store-new",
		Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: "new"}}}
	if _, err := h.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, events); ev.kind != "store" || !strings.Contains(ev.data, `"name":"new"`) {
		t.Fatalf("after the namespace appeared: %+v", ev)
	}
	h.eng.mu.Lock()
	delete(h.eng.stores, "new")
	h.eng.mu.Unlock()
	if err := h.kube.CoreV1().Namespaces().Delete(ctx, "store-new", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, events); ev.kind != "deleted" || ev.data != `{"name":"new"}` {
		t.Fatalf("after the namespace went: %+v", ev)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop")
	}
}

// An idle stream gets a comment line now and then, so that proxies keep it open.
func TestEventStreamKeepAlive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *serve.Options) { o.KeepAlive = 50 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.srv.Serve(ctx, ln) }()
	var resp *http.Response
	hc := &http.Client{Timeout: 10 * time.Second} // a stream without keep-alives fails, not hangs
	waitFor(t, func() bool {
		resp, err = hc.Get("http://" + ln.Addr().String() + "/api/events")
		if err == nil && resp.StatusCode != http.StatusOK {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == ": keep-alive" {
			return
		}
	}
	t.Fatalf("the stream ended without a keep-alive line: %v", sc.Err())
}

// On shutdown an operation under way goes on for the grace, then is interrupted and
// recorded as such.
func TestShutdownInterruptsAfterGrace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *serve.Options) { o.ShutdownGrace = 200 * time.Millisecond })
	h.eng.release = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	h.c.Base = "http://" + ln.Addr().String()
	if r := h.do(t, "POST", "/api/stores", `{"name":"shop"}`); r.Status != http.StatusAccepted {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop")
	}
	if len(h.audit.records()) != 1 || h.audit.records()[0].Outcome != audit.OutcomeInterrupted {
		t.Errorf("audit after shutdown: %+v", h.audit.records())
	}
}

type sse struct{ kind, data string }

func readEvents(resp *http.Response) <-chan sse {
	ch := make(chan sse, 16)
	go func() {
		defer close(ch)
		servetest.ReadEvents(resp.Body, func(kind, data string) { ch <- sse{kind: kind, data: data} })
	}()
	return ch
}

func nextEvent(t *testing.T, ch <-chan sse) sse {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return sse{}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func assertCounter(t *testing.T, h *harness, name string, labels map[string]string, want float64) {
	t.Helper()
	fams, err := servetest.ParseMetrics(string(h.do(t, "GET", "/metrics", "").Body))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := servetest.Value(fams, name, labels)
	if !ok || got != want {
		t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
	}
}

// Every request is counted by the route pattern it matched and its status, never by its
// path, so that a store's name never becomes a label.
func TestHTTPMetricsByRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for range 3 {
		h.do(t, "GET", "/api/stores", "")
	}
	h.do(t, "GET", "/api/stores/nosuch", "")
	h.do(t, "GET", "/api/stores/other", "")
	fams, err := servetest.ParseMetrics(string(h.do(t, "GET", "/metrics", "").Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		route, code string
		want        float64
	}{
		{"GET /api/stores", "200", 3},
		{"GET /api/stores/{name}", "404", 2},
	} {
		if got, ok := servetest.Value(fams, "storectl_http_requests_total", map[string]string{"route": c.route, "code": c.code}); !ok || got != c.want {
			t.Errorf("storectl_http_requests_total{route=%q,code=%q} = %v (present %v), want %v", c.route, c.code, got, ok, c.want)
		}
	}
	if n, ok := servetest.Value(fams, "storectl_http_request_duration_seconds", map[string]string{"route": "GET /api/stores"}); !ok || n != 3 {
		t.Errorf("duration samples of GET /api/stores = %v (present %v), want 3", n, ok)
	}
	for _, m := range fams["storectl_http_requests_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if strings.Contains(lp.GetValue(), "nosuch") || strings.Contains(lp.GetValue(), "other") {
				t.Errorf("a label carries a path: %s=%s", lp.GetName(), lp.GetValue())
			}
		}
	}
}
