//go:build e2e

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/testcluster"
)

// storectlBinary is the built binary when the test run names one (make test builds
// bin/storectl with its version stamps), else this test binary acting as storectl.
func storectlBinary() string {
	if p := os.Getenv("STORECTL_TEST_BINARY"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "storectl"
}

// testTimings shorten the waits of the engine in the binary (a build with the e2e tag, as
// make test builds, reads them; see pkg/cli/testtimings_e2e.go). The sandbox shows a
// failure within seconds, so waiting out production's grace periods only slows the tests:
// an image pull is in ImagePullBackOff from about 2s to 12s after its pod starts, and a
// crash loop restarts after 2s. The graces that guard against passing states (a pod not
// yet scheduled while its volume is provisioned) stay at several seconds.
const testTimings = "STORECTL_TEST_TIMINGS=lock-lease=6s,image-pull-grace=5s,crash-loop-restarts=1," +
	"volume-grace=5s,config-error-grace=5s"

// testUnschedulableGrace is the unschedulable-grace setting of the tests' runs: the graces
// that guard against passing states (a pod not yet scheduled while its volume is
// provisioned) stay at several seconds.
const testUnschedulableGrace = "STORECTL_UNSCHEDULABLE_GRACE=8s"

// result is one storectl run.
type result struct {
	code           int
	stdout, stderr string
}

// storectlRunner runs the real binary against the test cluster with its own audit log.
type storectlRunner struct {
	t          *testing.T
	kubeconfig string
	auditPath  string
	outputs    []string // every byte storectl printed, except what credentials printed
}

func (r *storectlRunner) run(args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, storectlBinary(), args...)
	cmd.Env = r.environ()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		r.t.Fatalf("storectl %v: %v", args, err)
	}
	if args[0] != "credentials" {
		r.outputs = append(r.outputs, res.stdout, res.stderr)
	} else {
		r.outputs = append(r.outputs, res.stderr)
	}
	return res
}

func (r *storectlRunner) must(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("storectl %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, res.code, res.stdout, res.stderr)
	}
	return res
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

type storeJSON struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	URL        string `json:"url"`
	AdminURL   string `json:"adminUrl"`
	Revision   int    `json:"revision"`
	Components []struct {
		Name  string `json:"name"`
		Ready bool   `json:"ready"`
	} `json:"components"`
}

// The lifecycle of issue-free stores through the real binary: create (with a slow WordPress
// start), list, get, credentials, a repeated create, delete, and the audit log of it all.
func TestLifecycleThroughTheBinary(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	a, b := "e2e-a-"+hex.EncodeToString(suffix), "e2e-b-"+hex.EncodeToString(suffix)
	r := &storectlRunner{t: t, kubeconfig: c.Kubeconfig, auditPath: filepath.Join(t.TempDir(), "audit.db")}
	t.Cleanup(func() {
		r.run("delete", a, b, "--yes", "--ignore-not-found", "--timeout", "2m")
	})

	// A store whose WordPress takes 3 seconds to become ready.
	start := time.Now()
	res := r.must("create", a, "-o", "json", "--set", `wordpress.podAnnotations.sandbox\.storectl\.dev/ready-delay=3s`)
	created := decode[storeJSON](t, res.stdout)
	if created.Status != "Ready" || created.Name != a || !strings.HasPrefix(created.URL, "http://"+a+".") {
		t.Fatalf("create returned %+v", created)
	}
	if time.Since(start) < 3*time.Second {
		t.Errorf("create returned before the simulated WordPress start delay")
	}
	if !strings.Contains(res.stderr, "storectl credentials "+a) || !strings.Contains(res.stderr, "step=wordpress state=done") {
		t.Errorf("create's stderr lacks progress or the credentials hint:\n%s", res.stderr)
	}

	// A second store submitted without waiting, then waited for.
	r.must("create", b, "--wait=false")
	r.must("wait", b, "--for", "ready", "--timeout", "3m")

	// Both are listed at once.
	list := decode[[]storeJSON](t, r.must("list", "-o", "json").stdout)
	seen := map[string]string{}
	for _, s := range list {
		seen[s.Name] = s.Status
	}
	if seen[a] != "Ready" || seen[b] != "Ready" {
		t.Errorf("list shows %v", seen)
	}
	names := r.must("list", "-o", "name").stdout
	if !strings.Contains(names, a+"\n") || !strings.Contains(names, b+"\n") {
		t.Errorf("list -o name:\n%s", names)
	}
	table := r.must("list").stdout
	if !strings.HasPrefix(table, "NAME") || !strings.Contains(table, a) {
		t.Errorf("list table:\n%s", table)
	}

	got := decode[storeJSON](t, r.must("get", a, "-o", "json").stdout)
	if got.Status != "Ready" || got.Revision < 1 || len(got.Components) == 0 {
		t.Errorf("get: %+v", got)
	}
	for _, comp := range got.Components {
		if !comp.Ready {
			t.Errorf("component %s is not ready", comp.Name)
		}
	}
	if describe := r.must("get", a).stdout; !strings.Contains(describe, "storectl credentials "+a) {
		t.Errorf("get does not say how to see the credentials:\n%s", describe)
	}

	// credentials prints exactly the password of the store's Secret.
	secret, err := c.Client.CoreV1().Secrets("store-"+a).Get(context.Background(), a+"-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	password := string(secret.Data["wordpress-admin-password"])
	if len(password) < 12 {
		t.Fatalf("implausible password of %d characters", len(password))
	}
	creds := decode[map[string]string](t, r.must("credentials", a, "-o", "json").stdout)
	if creds["password"] != password || creds["user"] == "" || creds["adminUrl"] != created.AdminURL {
		t.Errorf("credentials do not match the Secret (user %q, admin URL %q)", creds["user"], creds["adminUrl"])
	}

	// Creating a Ready store again changes nothing and says so.
	again := r.run("create", a)
	if again.code != 4 || !strings.Contains(again.stderr, "already exists") {
		t.Errorf("create again: exit %d\n%s", again.code, again.stderr)
	}
	if rev := decode[storeJSON](t, r.must("get", a, "-o", "json").stdout).Revision; rev != got.Revision {
		t.Errorf("create again changed the release: revision %d -> %d", got.Revision, rev)
	}

	// Delete both; nothing is left.
	del := r.must("delete", a, b, "--yes")
	if !strings.Contains(del.stderr, "step=namespace-deletion state=done") {
		t.Errorf("delete progress:\n%s", del.stderr)
	}
	for _, name := range []string{a, b} {
		ns := "store-" + name
		if _, err := c.Client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s still exists (%v)", ns, err)
		}
		pvs, err := c.Client.CoreV1().PersistentVolumes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, pv := range pvs.Items {
			if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
				t.Errorf("volume %s of %s survived", pv.Name, ns)
			}
		}
	}
	if res := r.run("get", a); res.code != 3 {
		t.Errorf("get after delete: exit %d", res.code)
	}

	// The audit log holds every mutating action with its outcome and duration.
	type rec struct {
		Action, Store, Outcome, Actor, Server string
		DurationSeconds                       float64
	}
	recs := decode[[]rec](t, r.must("audit", "-o", "json").stdout)
	var lines []string
	for i := len(recs) - 1; i >= 0; i-- {
		x := recs[i]
		lines = append(lines, fmt.Sprintf("%s %s %s", x.Action, x.Store, x.Outcome))
		if x.Actor == "" || x.Server == "" || x.DurationSeconds <= 0 {
			t.Errorf("incomplete record %+v", x)
		}
	}
	want := []string{
		"create " + a + " succeeded", "create " + b + " succeeded", "create " + a + " failed",
		"delete " + a + " succeeded", "delete " + b + " succeeded",
	}
	if len(lines) == len(want) {
		// The two stores are deleted together: their records come in the order they end.
		sort.Strings(lines[3:])
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	// The password appeared nowhere but in the output of credentials.
	for _, out := range r.outputs {
		if strings.Contains(out, password) {
			t.Errorf("the password leaked into output: %q", out)
		}
	}
	raw, err := os.ReadFile(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(password)) {
		t.Error("the password is in the audit file")
	}
}

// SIGTERM in the middle of a create stops it within two seconds; running the same create
// again resumes it to Ready, and the audit log tells both stories.
func TestInterruptedCreateResumes(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := "e2e-int-" + hex.EncodeToString(suffix)
	r := &storectlRunner{t: t, kubeconfig: c.Kubeconfig, auditPath: filepath.Join(t.TempDir(), "audit.db")}
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })

	cmd := exec.Command(storectlBinary(), "create", name, "--set", `wordpress.podAnnotations.sandbox\.storectl\.dev/ready-delay=30s`)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "STORECTL_AUDIT_PATH="+r.auditPath, "STORECTL_MAX_STORES=100", testTimings, testUnschedulableGrace)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the install is under way: WordPress is being watched.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "step=wordpress state=running") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("create never started watching WordPress:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	err := cmd.Wait()
	if took := time.Since(sent); took > 2*time.Second {
		t.Errorf("create stopped %v after SIGTERM, want under 2s", took)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "storectl create "+name) {
		t.Errorf("no advice on resuming:\n%s", stderr.String())
	}

	res := r.must("create", name, "-o", "json")
	if s := decode[storeJSON](t, res.stdout); s.Status != "Ready" {
		t.Errorf("resumed create: %+v", s)
	}
	type rec struct{ Action, Store, Outcome string }
	recs := decode[[]rec](t, r.must("audit", "-o", "json", "--store", name).stdout)
	if len(recs) != 2 || recs[1].Outcome != "interrupted" || recs[0].Outcome != "succeeded" {
		t.Errorf("audit records %+v", recs)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The binary under test reads the engine timings the tests give it: one that ignored them
// would still pass, only waiting out production's grace periods in every failure test.
func TestBinaryTakesTestTimings(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	cmd := exec.Command(storectlBinary(), "list")
	cmd.Env = append(r.environ(), "STORECTL_TEST_TIMINGS=lock-lease=soon")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatalf("%s ignores STORECTL_TEST_TIMINGS: build it with the e2e tag (make build-e2e) and name it in STORECTL_TEST_BINARY", storectlBinary())
	}
	if !strings.Contains(stderr.String(), "STORECTL_TEST_TIMINGS") || !strings.Contains(stderr.String(), "lock-lease=soon") {
		t.Errorf("list with unreadable test timings: %v\n%s", err, stderr.String())
	}
}
