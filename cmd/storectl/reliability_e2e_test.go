//go:build e2e

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storectl/storectl/pkg/testcluster"
)

// These tests drive the built binary through the failures an operator meets: a killed or
// interrupted process, a store that exists or does not, and a slow, failing or refusing
// cluster. Each uses its own store names and audit log, so they share the sandbox with others.

// uniqueStore returns a store name no other test run uses.
func uniqueStore(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// newRunner returns a runner with a fresh audit log.
func newRunner(t *testing.T, kubeconfig string) *storectlRunner {
	return &storectlRunner{t: t, kubeconfig: kubeconfig, auditPath: filepath.Join(t.TempDir(), "audit.db")}
}

// environ is the environment storectlRunner.run gives the binary.
func (r *storectlRunner) environ() []string {
	return append(os.Environ(),
		"KUBECONFIG="+r.kubeconfig,
		"STORECTL_AUDIT_PATH="+r.auditPath,
		"STORECTL_MAX_STORES=100", // the shared sandbox may hold other tests' stores
		"XDG_CONFIG_HOME="+filepath.Dir(r.auditPath),
		testTimings, testUnschedulableGrace,
	)
}

// process is a storectl run in the background, to be signalled or killed.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	code           int
	exited         time.Time
}

// start runs storectl in the background. The process is killed at the end of the test if it
// is still running.
func (r *storectlRunner) start(args ...string) *process {
	r.t.Helper()
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(storectlBinary(), args...)
	p.cmd.Env = r.environ()
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		r.t.Fatalf("start storectl %v: %v", args, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.exited = time.Now()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			p.code = exit.ExitCode()
		}
		close(p.done)
	}()
	r.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// signal sends sig and returns how long the process took to exit after it.
func (r *storectlRunner) signal(p *process, sig syscall.Signal) time.Duration {
	r.t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("storectl still runs 30s after %v:\n%s", sig, p.stderr.String())
	}
	r.outputs = append(r.outputs, p.stdout.String(), p.stderr.String())
	return p.exited.Sub(sent)
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// namespaceExists reports whether the store's namespace exists (terminating or not).
func namespaceExists(t *testing.T, c *testcluster.Cluster, name string) bool {
	t.Helper()
	_, err := c.Client.CoreV1().Namespaces().Get(context.Background(), "store-"+name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("read namespace store-%s: %v", name, err)
	}
	return err == nil
}

// releaseStatuses returns the status label of each stored revision of the store's Helm
// release, oldest first, as the secret storage driver records them.
func releaseStatuses(t *testing.T, c *testcluster.Cluster, name string) []string {
	t.Helper()
	secrets, err := c.Client.CoreV1().Secrets("store-"+name).List(context.Background(),
		metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		t.Fatalf("list release records of %s: %v", name, err)
	}
	out := make([]string, len(secrets.Items)+1)
	for _, s := range secrets.Items {
		var v int
		if _, err := fmt.Sscan(s.Labels["version"], &v); err == nil && v > 0 && v < len(out) {
			out[v] = s.Labels["status"]
		}
	}
	return out[1:]
}

func hasStatus(statuses []string, want string) bool {
	for _, s := range statuses {
		if s == want {
			return true
		}
	}
	return false
}

// podCount returns the number of pods of the store.
func podCount(t *testing.T, c *testcluster.Cluster, name string) int {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods("store-"+name).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods of %s: %v", name, err)
	}
	return len(pods.Items)
}

// auditOutcomes returns "action outcome" of each audit record of the store, oldest first.
func auditOutcomes(r *storectlRunner, name string) []string {
	r.t.Helper()
	type rec struct{ Action, Store, Outcome string }
	recs := decode[[]rec](r.t, r.must("audit", "-o", "json", "--store", name, "--audit-path", r.auditPath).stdout)
	var out []string
	for i := len(recs) - 1; i >= 0; i-- {
		out = append(out, recs[i].Action+" "+recs[i].Outcome)
	}
	return out
}

func annotation(component, key, value string) []string {
	return []string{"--set", fmt.Sprintf(`%s.podAnnotations.sandbox\.storectl\.dev/%s=%s`, component, key, value)}
}

// SIGKILL at each point of a create leaves a state that the next create turns into a Ready
// store, with no manual cleanup in between.
func TestKilledCreateConverges(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	slow := append(annotation("setup", "ready-delay", "25s"), annotation("wordpress", "ready-delay", "40s")...)
	points := []struct {
		name string
		// reached tells when to kill; describe reports what the kill left behind.
		reached func(t *testing.T, name string, p *process) bool
	}{
		{"at-start", func(t *testing.T, name string, p *process) bool {
			return strings.Contains(p.stderr.String(), "Creating store")
		}},
		{"after-namespace", func(t *testing.T, name string, p *process) bool {
			return namespaceExists(t, c, name)
		}},
		{"release-pending-install", func(t *testing.T, name string, p *process) bool {
			return namespaceExists(t, c, name) && hasStatus(releaseStatuses(t, c, name), "pending-install")
		}},
		{"while-waiting", func(t *testing.T, name string, p *process) bool {
			if !namespaceExists(t, c, name) {
				return false
			}
			st := releaseStatuses(t, c, name)
			return len(st) > 0 && st[len(st)-1] == "deployed" && podCount(t, c, name) > 0
		}},
	}
	for _, pt := range points {
		t.Run(pt.name, func(t *testing.T) {
			t.Parallel()
			name := uniqueStore("kill-" + strings.SplitN(pt.name, "-", 2)[0])
			r := newRunner(t, c.Kubeconfig)
			t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })

			p := r.start(append([]string{"create", name}, slow...)...)
			eventually(t, 2*time.Minute, pt.name, func() bool {
				select {
				case <-p.done:
					t.Fatalf("create ended (exit %d) before the kill point:\n%s", p.code, p.stderr.String())
				default:
				}
				return pt.reached(t, name, p)
			})
			if took := r.signal(p, syscall.SIGKILL); took > time.Second {
				t.Errorf("SIGKILL took %s", took)
			}
			t.Logf("killed %s: %s", pt.name, leftBehind(t, c, name))

			start := time.Now()
			res := r.must("create", name, "-o", "json", "--timeout", "3m")
			t.Logf("create after the kill %s: exit 0 after %s", pt.name, time.Since(start).Round(100*time.Millisecond))
			if s := decode[storeJSON](t, res.stdout); s.Status != "Ready" {
				t.Fatalf("create after the kill returned %+v\n%s", s, res.stderr)
			}
			final := releaseStatuses(t, c, name)
			if len(final) == 0 || final[len(final)-1] != "deployed" {
				t.Errorf("release records after resuming: %v, want the last deployed", final)
			}
			for _, s := range final {
				if strings.HasPrefix(s, "pending-") {
					t.Errorf("a release record is still %s: %v", s, final)
				}
			}
			if out := auditOutcomes(r, name); len(out) != 1 || out[0] != "create succeeded" {
				// The killed process could not record itself; the resuming one did.
				t.Errorf("audit records %v, want only the resuming create", out)
			}
		})
	}
}

// leftBehind describes what a killed create left in the cluster.
func leftBehind(t *testing.T, c *testcluster.Cluster, name string) string {
	if !namespaceExists(t, c, name) {
		return "no namespace"
	}
	return fmt.Sprintf("namespace, release records %v, %d pods", releaseStatuses(t, c, name), podCount(t, c, name))
}

// SIGINT and SIGTERM stop create and delete within two seconds with exit code 130, say how
// to go on, are recorded as interrupted, and the next run finishes the job.
func TestSignalsStopCreateAndDelete(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			name := uniqueStore("sig-" + map[syscall.Signal]string{syscall.SIGINT: "int", syscall.SIGTERM: "term"}[sig])
			r := newRunner(t, c.Kubeconfig)
			ctx := context.Background()
			t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })

			// Interrupt a create while it waits for a slow WordPress.
			p := r.start(append([]string{"create", name, "--audit-path", r.auditPath}, annotation("wordpress", "ready-delay", "60s")...)...)
			eventually(t, 2*time.Minute, "create to watch WordPress", func() bool {
				return strings.Contains(p.stderr.String(), "step=wordpress state=running")
			})
			took := r.signal(p, sig)
			t.Logf("create stopped %s after %v with exit %d", took.Round(time.Millisecond), sig, p.code)
			if took > 2*time.Second {
				t.Errorf("create took %s to stop after %v, want at most 2s", took, sig)
			}
			if p.code != 130 {
				t.Errorf("create exit %d after %v, want 130\n%s", p.code, sig, p.stderr.String())
			}
			for _, want := range []string{"storectl create " + name, "storectl delete " + name + " --yes"} {
				if !strings.Contains(p.stderr.String(), want) {
					t.Errorf("interrupted create does not mention %q:\n%s", want, p.stderr.String())
				}
			}
			if got := auditOutcomes(r, name); len(got) != 1 || got[0] != "create interrupted" {
				t.Errorf("audit after the interrupted create: %v", got)
			}
			res := r.must("create", name, "-o", "json", "--timeout", "3m")
			if s := decode[storeJSON](t, res.stdout); s.Status != "Ready" {
				t.Fatalf("create after the interruption: %+v", s)
			}

			// Interrupt a delete while the namespace terminates: a finalizer the test
			// owns keeps it terminating until the test lets go.
			ns := "store-" + name
			_, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
				Name: "e2e-hold", Finalizers: []string{"e2e.storectl.dev/hold"}}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			release := func() {
				_, err := c.Client.CoreV1().ConfigMaps(ns).Patch(ctx, "e2e-hold", types.MergePatchType,
					[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("release the hold on %s: %v", ns, err)
				}
			}
			t.Cleanup(release)
			p = r.start("delete", name, "--yes", "--audit-path", r.auditPath)
			eventually(t, 2*time.Minute, "delete to wait for the namespace", func() bool {
				return strings.Contains(p.stderr.String(), "step=namespace-deletion state=running")
			})
			took = r.signal(p, sig)
			t.Logf("delete stopped %s after %v with exit %d", took.Round(time.Millisecond), sig, p.code)
			if took > 2*time.Second {
				t.Errorf("delete took %s to stop after %v, want at most 2s", took, sig)
			}
			if p.code != 130 {
				t.Errorf("delete exit %d after %v, want 130\n%s", p.code, sig, p.stderr.String())
			}
			// Either next step finishes the job: deleting again, or waiting for the
			// namespace deletion the cluster carries on with.
			if !strings.Contains(p.stderr.String(), "storectl delete "+name+" --yes") &&
				!strings.Contains(p.stderr.String(), "storectl wait "+name+" --for deleted") {
				t.Errorf("interrupted delete does not say how to finish:\n%s", p.stderr.String())
			}
			t.Logf("interrupted delete: %s", lastLine(p.stderr.String()))
			if got := auditOutcomes(r, name); len(got) != 3 || got[2] != "delete interrupted" {
				t.Errorf("audit after the interrupted delete: %v", got)
			}
			if !namespaceExists(t, c, name) {
				t.Fatalf("namespace %s vanished while held", ns)
			}
			release()
			start := time.Now()
			r.must("delete", name, "--yes", "--timeout", "2m")
			t.Logf("delete after the %v interruption: exit 0 after %s", sig, time.Since(start).Round(100*time.Millisecond))
			if namespaceExists(t, c, name) {
				t.Errorf("namespace %s survived the resumed delete", ns)
			}
			if got := auditOutcomes(r, name); len(got) != 4 || got[3] != "delete succeeded" {
				t.Errorf("audit after the resumed delete: %v", got)
			}
		})
	}
}

// delete of a store that does not exist: exit 3 and what to do; --ignore-not-found makes it
// a success for scripts.
func TestDeleteOfMissingStore(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("missing")
	res := r.run("delete", name, "--yes")
	if res.code != 3 {
		t.Errorf("delete of a missing store: exit %d, want 3\n%s", res.code, res.stderr)
	}
	for _, want := range []string{`no store named "` + name + `"`, "storectl list"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("delete of a missing store does not say %q:\n%s", want, res.stderr)
		}
	}
	if res.stdout != "" {
		t.Errorf("delete printed data for a missing store: %q", res.stdout)
	}
	if res := r.run("delete", name, "--yes", "--ignore-not-found"); res.code != 0 {
		t.Errorf("delete --ignore-not-found of a missing store: exit %d\n%s", res.code, res.stderr)
	}
	if res := r.run("get", name); res.code != 3 {
		t.Errorf("get of a missing store: exit %d, want 3", res.code)
	}
	if namespaceExists(t, c, name) {
		t.Errorf("deleting a missing store created its namespace")
	}
}

// create of a Ready store changes nothing, whether asked for the same type or another.
func TestCreateOfExistingStore(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := context.Background()
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("exists")
	ns := "store-" + name
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
	first := decode[storeJSON](t, r.must("create", name, "-o", "json").stdout)
	secret, err := c.Client.CoreV1().Secrets(ns).Get(ctx, name+"-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	records := releaseStatuses(t, c, name)

	unchanged := func(t *testing.T) {
		t.Helper()
		if got := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout); got.Revision != first.Revision || got.Status != "Ready" {
			t.Errorf("store changed: revision %d -> %d, status %s", first.Revision, got.Revision, got.Status)
		}
		if got := releaseStatuses(t, c, name); strings.Join(got, ",") != strings.Join(records, ",") {
			t.Errorf("release records changed: %v -> %v", records, got)
		}
		s, err := c.Client.CoreV1().Secrets(ns).Get(ctx, name+"-credentials", metav1.GetOptions{})
		if err != nil || s.ResourceVersion != secret.ResourceVersion {
			t.Errorf("credentials Secret changed (%v)", err)
		}
	}

	t.Run("same type", func(t *testing.T) {
		res := r.run("create", name, "--type", "woocommerce")
		if res.code != 4 {
			t.Errorf("exit %d, want 4\n%s", res.code, res.stderr)
		}
		for _, want := range []string{"already exists", "nothing was changed", "storectl get " + name} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("message lacks %q:\n%s", want, res.stderr)
			}
		}
		// With -o json a script still gets the store it asked for.
		res = r.run("create", name, "-o", "json")
		if res.code != 4 || decode[storeJSON](t, res.stdout).Name != name {
			t.Errorf("create -o json of an existing store: exit %d, stdout %q", res.code, res.stdout)
		}
		unchanged(t)
	})

	t.Run("unknown type", func(t *testing.T) {
		res := r.run("create", name, "--type", "magento")
		if res.code != 2 || !strings.Contains(res.stderr, `the only store type is "woocommerce"`) {
			t.Errorf("exit %d\n%s", res.code, res.stderr)
		}
		unchanged(t)
	})

	// Only one type exists, so the namespace is relabelled as a store of another type.
	t.Run("different type", func(t *testing.T) {
		relabel := func(typ string) {
			patch := fmt.Sprintf(`{"metadata":{"labels":{"storectl.dev/type":%q}}}`, typ)
			if _, err := c.Client.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		relabel("magento")
		t.Cleanup(func() { relabel("woocommerce") })
		res := r.run("create", name)
		if res.code != 4 {
			t.Errorf("exit %d, want 4\n%s", res.code, res.stderr)
		}
		for _, want := range []string{`type "magento"`, "storectl delete " + name} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("message lacks %q:\n%s", want, res.stderr)
			}
		}
		relabel("woocommerce")
		unchanged(t)
	})
}
