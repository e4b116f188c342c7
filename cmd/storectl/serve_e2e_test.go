//go:build e2e

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/serve"
	"github.com/storectl/storectl/pkg/serve/servetest"
	"github.com/storectl/storectl/pkg/testcluster"
)

// server is a storectl serve run by a test, with a client that checks every answer
// against the OpenAPI document.
type server struct {
	t    *testing.T
	r    *storectlRunner
	p    *process
	base string
	c    *servetest.Client
}

var listeningRE = regexp.MustCompile(`"msg":"listening","address":"([^"]+)"`)

// startServer runs `storectl serve` with args (a --listen with port 0 among them) and waits
// until it is ready. extraEnv entries override the runner's.
func startServer(t *testing.T, r *storectlRunner, extraEnv []string, args ...string) *server {
	t.Helper()
	v, err := servetest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	p := startWithEnv(t, append(r.environ(), extraEnv...), append([]string{"serve"}, args...)...)
	var addr string
	eventually(t, 30*time.Second, "the server to listen", func() bool {
		if m := listeningRE.FindStringSubmatch(p.stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited %d:\n%s", p.code, p.stderr.String())
		default:
		}
		return false
	})
	s := &server{t: t, r: r, p: p, base: "http://" + addr}
	s.c = &servetest.Client{Base: s.base, V: v, HTTP: &http.Client{Timeout: time.Minute}}
	eventually(t, time.Minute, "the server to be ready", func() bool {
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Cleanup(func() {
		for _, err := range s.c.Errs {
			t.Errorf("not as the OpenAPI document says: %v", err)
		}
	})
	return s
}

// startWithEnv is storectlRunner.start with an environment of the caller's.
func startWithEnv(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(storectlBinary(), args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start storectl %v: %v", args, err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.exited = time.Now()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (s *server) do(method, path, body string) servetest.Response {
	s.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	res, err := s.c.Do(method, path, b)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

func (s *server) problem(res servetest.Response) serve.Problem {
	s.t.Helper()
	var p serve.Problem
	if err := json.Unmarshal(res.Body, &p); err != nil || res.Header.Get("Content-Type") != "application/problem+json" {
		s.t.Fatalf("status %d is not a problem: %v\n%s", res.Status, err, res.Body)
	}
	return p
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ kind, data string }

// events opens an event stream and returns its events; each data is checked against the
// schema of its kind.
func (s *server) events(path string) <-chan sseEvent {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+path, nil)
	if s.c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.c.V.Check("GET", path, req.Header, nil, resp.StatusCode, resp.Header, nil); err != nil {
		s.c.Errs = append(s.c.Errs, err)
	}
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	schemas := map[string]string{"store": "Store", "progress": "Progress", "deleted": "Deleted"}
	ch := make(chan sseEvent, 1024)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		servetest.ReadEvents(resp.Body, func(kind, data string) {
			if err := s.c.V.CheckSchema(schemas[kind], []byte(data)); err != nil {
				ch <- sseEvent{kind: "invalid", data: err.Error()}
			}
			ch <- sseEvent{kind: kind, data: data}
		})
	}()
	return ch
}

// until reads events until one satisfies cond, failing on an invalid one or the timeout.
func until(t *testing.T, ch <-chan sseEvent, timeout time.Duration, what string, cond func(sseEvent) bool) sseEvent {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before %s", what)
			}
			if ev.kind == "invalid" {
				t.Errorf("an event is not as the document says: %s", ev.data)
			}
			if cond(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %s within %s", what, timeout)
		}
	}
}

func statusIs(name, status string) func(sseEvent) bool {
	return func(ev sseEvent) bool {
		if ev.kind != "store" {
			return false
		}
		var s storeJSON
		_ = json.Unmarshal([]byte(ev.data), &s)
		return s.Name == name && s.Status == status
	}
}

func metricValue(t *testing.T, s *server, name string, labels map[string]string) float64 {
	t.Helper()
	res := s.do("GET", "/metrics", "")
	fams, err := servetest.ParseMetrics(string(res.Body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	v, ok := servetest.Value(fams, name, labels)
	if !ok {
		t.Fatalf("/metrics has no %s%v", name, labels)
	}
	return v
}

// A store's life through the API of the real binary: create, its events to Ready, list
// and get, a refused duplicate, a refusal at max-stores, delete, 404; then the audit log
// and the metrics of it all.
func TestServeLifecycle(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("e2e-srv")
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	s := startServer(t, r, nil, "--listen", "127.0.0.1:0")
	fleet := s.events("/api/events")

	res := s.do("POST", "/api/stores", fmt.Sprintf(`{"name":%q}`, name))
	if res.Status != http.StatusAccepted || res.Header.Get("Location") != "/api/stores/"+name {
		t.Fatalf("create: %d %v\n%s", res.Status, res.Header, res.Body)
	}
	if st := decode[storeJSON](t, string(res.Body)); st.Status != "Provisioning" || st.Name != name {
		t.Errorf("create answered %+v", st)
	}
	one := s.events("/api/stores/" + name + "/events")
	until(t, one, 3*time.Minute, "a progress event", func(ev sseEvent) bool { return ev.kind == "progress" })
	until(t, one, 3*time.Minute, name+" Ready on its stream", statusIs(name, "Ready"))
	until(t, fleet, time.Minute, name+" Ready on the fleet stream", statusIs(name, "Ready"))

	list := decode[struct{ Items []storeJSON }](t, string(s.do("GET", "/api/stores", "").Body))
	found := false
	for _, st := range list.Items {
		found = found || (st.Name == name && st.Status == "Ready")
	}
	if !found {
		t.Errorf("list has no Ready %s: %+v", name, list.Items)
	}
	if st := decode[storeJSON](t, string(s.do("GET", "/api/stores/"+name, "").Body)); st.Status != "Ready" || st.URL == "" {
		t.Errorf("get: %+v", st)
	}
	if p := s.problem(s.do("POST", "/api/stores", fmt.Sprintf(`{"name":%q}`, name))); p.Status != http.StatusConflict || p.ExitCode != 4 {
		t.Errorf("duplicate create: %+v", p)
	}
	// With this test's store in the cluster, a limit of one is reached whatever else runs.
	limited := startServer(t, r, []string{"STORECTL_MAX_STORES=1"}, "--listen", "127.0.0.1:0")
	other := uniqueStore("e2e-srv-max")
	t.Cleanup(func() { r.run("delete", other, "--yes", "--ignore-not-found", "--timeout", "2m") })
	if p := limited.problem(limited.do("POST", "/api/stores", fmt.Sprintf(`{"name":%q}`, other))); p.Status != http.StatusConflict || p.ExitCode != 8 {
		t.Errorf("create at max-stores: %+v", p)
	}
	if v := metricValue(t, limited, "storectl_provision_failures_total", map[string]string{"reason": "LimitReached"}); v != 1 {
		t.Errorf("provision failures for LimitReached: %v, want 1", v)
	}

	res = s.do("DELETE", "/api/stores/"+name, "")
	if st := decode[storeJSON](t, string(res.Body)); res.Status != http.StatusAccepted || st.Status != "Deleting" {
		t.Errorf("delete: %d %+v", res.Status, st)
	}
	until(t, one, 3*time.Minute, name+" deleted on its stream", func(ev sseEvent) bool { return ev.kind == "deleted" })
	until(t, fleet, time.Minute, name+" deleted on the fleet stream", func(ev sseEvent) bool {
		return ev.kind == "deleted" && ev.data == fmt.Sprintf(`{"name":%q}`, name)
	})
	if p := s.problem(s.do("GET", "/api/stores/"+name, "")); p.Status != http.StatusNotFound || p.ExitCode != 3 {
		t.Errorf("get after delete: %+v", p)
	}

	type rec struct{ Action, Outcome, Actor string }
	eventually(t, 30*time.Second, "the delete's audit record", func() bool {
		return len(decode[struct{ Items []rec }](t, string(s.do("GET", "/api/audit?store="+name, "").Body)).Items) == 2
	})
	recs := decode[struct{ Items []rec }](t, string(s.do("GET", "/api/stores/audit/log?store="+name, "").Body)).Items
	if recs[0].Action != "delete" || recs[1].Action != "create" || recs[0].Outcome != "succeeded" || recs[1].Outcome != "succeeded" ||
		!strings.HasPrefix(recs[0].Actor, "local via ") {
		t.Errorf("audit records %+v", recs)
	}
	for op, want := range map[string]float64{"create": 1, "delete": 1} {
		if v := metricValue(t, s, "storectl_operations_total", map[string]string{"operation": op, "outcome": "succeeded"}); v != want {
			t.Errorf("%s operations succeeded: %v, want %v", op, v, want)
		}
		if v := metricValue(t, s, "storectl_operation_duration_seconds", map[string]string{"operation": op}); v != want {
			t.Errorf("%s durations observed: %v, want %v", op, v, want)
		}
	}
	metricValue(t, s, "storectl_stores", map[string]string{"phase": "Ready"})
	embedded, err := charts.Load()
	if err != nil {
		t.Fatal(err)
	}
	if v := metricValue(t, s, "storectl_build_info", map[string]string{"chart_version": embedded.Metadata.Version}); v != 1 {
		t.Errorf("build info for chart %s: %v, want 1", embedded.Metadata.Version, v)
	}
	s.do("GET", "/api/metrics", "")
	s.do("GET", "/api/health", "")
	s.do("GET", "/api/openapi.json", "")
}

// Off 127.0.0.1 a token is required: 401 without it, the token's name in the audit log
// with it, and mutating requests past the rate limit get 429 with Retry-After.
func TestServeTokensAndRateLimit(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("# e2e\nci-bot:"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// 127.0.0.2 is this machine too, but storectl serves only 127.0.0.1, ::1 and localhost
	// without a token.
	if res := r.run("serve", "--listen", "127.0.0.2:0"); res.code != 2 || !strings.Contains(res.stderr, "--token-file") {
		t.Errorf("serve on 127.0.0.2 without tokens: exit %d\n%s", res.code, res.stderr)
	}
	s := startServer(t, r, nil, "--listen", "127.0.0.2:0", "--token-file", tokens, "--rate-limit", "2")
	if p := s.problem(s.do("GET", "/api/stores", "")); p.Status != http.StatusUnauthorized || p.ExitCode != 7 {
		t.Errorf("without a token: %+v", p)
	}
	s.c.Token = strings.Repeat("x", 32)
	if res := s.do("GET", "/api/stores", ""); res.Status != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d", res.Status)
	}
	if res := s.do("GET", "/livez", ""); res.Status != http.StatusOK {
		t.Errorf("/livez without a valid token: %d", res.Status)
	}
	s.c.Token = token
	if res := s.do("GET", "/api/stores", ""); res.Status != http.StatusOK {
		t.Errorf("with the token: %d %s", res.Status, res.Body)
	}
	for i := range 2 {
		if res := s.do("POST", "/api/stores", `{"name":"Not-A-Name"}`); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("request %d within the limit: %d", i+1, res.Status)
		}
	}
	res := s.do("POST", "/api/stores", `{"name":"Not-A-Name"}`)
	if p := s.problem(res); p.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("past the limit: %+v, Retry-After %q", p, res.Header.Get("Retry-After"))
	}
	if res := s.do("GET", "/api/stores", ""); res.Status != http.StatusOK {
		t.Errorf("a read past the limit: %d", res.Status)
	}
	// The token is rotated in the file; SIGHUP makes the server read it at once.
	_, _ = rand.Read(b)
	rotated := hex.EncodeToString(b)
	if err := os.WriteFile(tokens, []byte("ci-bot:"+rotated+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the server to reload its tokens", func() bool {
		return strings.Contains(s.p.stderr.String(), `"msg":"tokens reloaded"`)
	})
	if res := s.do("GET", "/api/stores", ""); res.Status != http.StatusUnauthorized {
		t.Errorf("the rotated-out token after SIGHUP: %d, want 401", res.Status)
	}
	s.c.Token = rotated
	if res := s.do("GET", "/api/stores", ""); res.Status != http.StatusOK {
		t.Errorf("the new token after SIGHUP: %d %s", res.Status, res.Body)
	}
	r.signal(s.p, syscall.SIGTERM)
	for _, tok := range []string{token, rotated} {
		if strings.Contains(s.p.stderr.String(), tok) {
			t.Error("the server logged a token")
		}
	}
}

// SIGTERM while the server creates a store: the server stops within its grace, the create
// is recorded as interrupted, and `storectl wait` then sees the store to Ready.
func TestServeSIGTERMDuringCreate(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("e2e-srv-term")
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	s := startServer(t, r, nil, "--listen", "127.0.0.1:0", "--shutdown-grace", "1s")
	body := fmt.Sprintf(`{"name":%q,"values":{"wordpress":{"podAnnotations":{"sandbox.storectl.dev/ready-delay":"20s"}}}}`, name)
	if res := s.do("POST", "/api/stores", body); res.Status != http.StatusAccepted {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	until(t, s.events("/api/stores/"+name+"/events"), 2*time.Minute, "WordPress being watched", func(ev sseEvent) bool {
		return ev.kind == "progress" && strings.Contains(ev.data, `"component":"wordpress","state":"running"`)
	})
	took := r.signal(s.p, syscall.SIGTERM)
	if s.p.code != 0 {
		t.Errorf("serve exited %d after SIGTERM:\n%s", s.p.code, s.p.stderr.String())
	}
	if took > 15*time.Second {
		t.Errorf("serve took %s to stop with a 1s grace", took)
	}
	type rec struct{ Action, Outcome string }
	recs := decode[[]rec](t, r.must("audit", "--store", name, "-o", "json").stdout)
	if len(recs) != 1 || recs[0].Action != "create" || recs[0].Outcome != "interrupted" {
		t.Errorf("audit after SIGTERM: %+v", recs)
	}
	res := r.must("wait", name, "--for", "ready", "--timeout", "3m", "-o", "json")
	if st := decode[storeJSON](t, res.stdout); st.Status != "Ready" {
		t.Errorf("wait after SIGTERM: %+v", st)
	}
}

// The server runs with nothing but docs/rbac.yaml's roles, as in a cluster under a
// ServiceAccount: its cache syncs, it creates and deletes a store, and the audit log names
// the caller and the account.
func TestServeAsLeastPrivilegeServiceAccount(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ns, token := leastPrivilegeServiceAccount(t, c)
	r := newRunner(t, writeKubeconfig(t, c, c.Config.Host, token))
	eventually(t, 30*time.Second, "the binding to take effect", func() bool { return r.run("list").code == 0 })
	name := uniqueStore("e2e-srv-sa")
	t.Cleanup(func() {
		newRunner(t, c.Kubeconfig).run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m")
	})
	s := startServer(t, r, nil, "--listen", "127.0.0.1:0")
	if res := s.do("POST", "/api/stores", fmt.Sprintf(`{"name":%q}`, name)); res.Status != http.StatusAccepted {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	one := s.events("/api/stores/" + name + "/events")
	until(t, one, 3*time.Minute, name+" Ready", statusIs(name, "Ready"))
	if res := s.do("DELETE", "/api/stores/"+name, ""); res.Status != http.StatusAccepted {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	until(t, one, 3*time.Minute, name+" deleted", func(ev sseEvent) bool { return ev.kind == "deleted" })
	type rec struct{ Action, Outcome, Actor string }
	want := "local via system:serviceaccount:" + ns + ":storectl-ci"
	eventually(t, 30*time.Second, "both audit records", func() bool {
		return len(decode[struct{ Items []rec }](t, string(s.do("GET", "/api/audit?store="+name, "").Body)).Items) == 2
	})
	for _, rc := range decode[struct{ Items []rec }](t, string(s.do("GET", "/api/audit?store="+name, "").Body)).Items {
		if rc.Outcome != "succeeded" || rc.Actor != want {
			t.Errorf("audit record %+v, want outcome succeeded and actor %q", rc, want)
		}
	}
}
