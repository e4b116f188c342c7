//go:build e2e

package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/storectl/storectl/pkg/testcluster"
)

// These tests hold storectl to what it must never do: touch a namespace that is not a store,
// make passwords a database will not accept, leave a drifted release unrepaired, wait for
// volumes that never go, or outlive --timeout against an API server that does not answer.

// storeStatus is the part of `get -o json` these tests judge.
type storeStatus struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func getStatus(t *testing.T, r *storectlRunner, name string) storeStatus {
	t.Helper()
	return decode[storeStatus](t, r.must("get", name, "-o", "json").stdout)
}

func listed(t *testing.T, r *storectlRunner, name string) *storeStatus {
	t.Helper()
	var all []struct {
		Name string `json:"name"`
		storeStatus
	}
	if err := json.Unmarshal([]byte(r.must("list", "-o", "json").stdout), &all); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Name == name {
			return &s.storeStatus
		}
	}
	return nil
}

func wants(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
}

// A namespace named like a store is a store only with both labels storectl gives it.
// Every command agrees, and delete leaves anything else untouched.
func TestNamespacesThatAreNotStores(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	ctx := context.Background()
	r := newRunner(t, c.Kubeconfig)
	for _, tt := range []struct {
		name   string
		labels func(store string) map[string]string
	}{
		{"managed-by only", func(string) map[string]string { return map[string]string{"app.kubernetes.io/managed-by": "storectl"} }},
		{"store label of another store", func(string) map[string]string {
			return map[string]string{"app.kubernetes.io/managed-by": "storectl", "storectl.dev/store": "other"}
		}},
		{"store label without managed-by", func(s string) map[string]string { return map[string]string{"storectl.dev/store": s} }},
		{"no labels", func(string) map[string]string { return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := uniqueStore("foreign")
			ns := "store-" + name
			if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
				Name: ns, Labels: tt.labels(name)}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
			if _, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "data"}},
				metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if s := listed(t, r, name); s != nil {
				t.Errorf("list shows it: %+v", s)
			}
			for _, args := range [][]string{
				{"get", name},
				{"credentials", name},
				{"wait", name, "--for", "ready", "--timeout", "10s"},
				{"delete", name, "--yes", "--timeout", "10s"},
				{"delete", name, "--yes", "--ignore-not-found", "--timeout", "10s"},
			} {
				res := r.run(args...)
				if res.code != 3 {
					t.Errorf("storectl %v: exit %d, want 3\n%s", args, res.code, res.stderr)
				}
				wants(t, strings.Join(args, " "), res.stderr, `no store named "`+name+`"`)
			}
			// There is no store of that name, so there is none to wait for either.
			if res := r.run("wait", name, "--for", "deleted", "--timeout", "10s"); res.code != 0 {
				t.Errorf("wait --for deleted: exit %d, want 0\n%s", res.code, res.stderr)
			}
			if res := r.run("create", name, "--timeout", "10s"); res.code != 4 || !strings.Contains(res.stderr, "not created by storectl") {
				t.Errorf("create: exit %d, want 4\n%s", res.code, res.stderr)
			}
			n, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil || n.DeletionTimestamp != nil {
				t.Fatalf("the namespace was deleted or is terminating (%v)", err)
			}
			if _, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, "data", metav1.GetOptions{}); err != nil {
				t.Errorf("its contents are gone: %v", err)
			}
		})
	}
}

// A deleted credentials Secret is a failure with a way back, never a reason for new passwords.
func TestMissingCredentialsSecret(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	ctx := context.Background()
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("nocreds")
	ns, secretName := "store-"+name, name+"-credentials"
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
	r.must("create", name)
	saved, err := c.Client.CoreV1().Secrets(ns).Get(ctx, secretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Client.CoreV1().Secrets(ns).Delete(ctx, secretName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	if s := getStatus(t, r, name); s.Status != "Failed" || s.Reason != "CredentialsMissing" {
		t.Errorf("get: %+v, want Failed CredentialsMissing", s)
	}
	res := r.run("get", name)
	wants(t, "get", res.stdout+res.stderr, "CredentialsMissing", secretName, "docs/reliability.md")
	// list reads no Secret (docs/rbac.yaml lets an operator read them only inside stores); it
	// still shows the store, and get is where the missing Secret is diagnosed.
	if s := listed(t, r, name); s == nil {
		t.Errorf("list does not show the store")
	}
	for _, args := range [][]string{{"credentials", name}, {"create", name}, {"wait", name, "--timeout", "30s"}} {
		res := r.run(args...)
		if res.code != 1 {
			t.Errorf("storectl %v: exit %d, want 1\n%s", args, res.code, res.stderr)
		}
		wants(t, strings.Join(args, " "), res.stderr, "CredentialsMissing", "restore the Secret", "docs/reliability.md")
		if strings.Contains(res.stderr, "already exists") {
			t.Errorf("storectl %v says the store already exists:\n%s", args, res.stderr)
		}
	}
	if _, err := c.Client.CoreV1().Secrets(ns).Get(ctx, secretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a new credentials Secret was generated (err %v)", err)
	}

	// Restoring the Secret from a backup is the way back.
	restored := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: ns, Labels: saved.Labels},
		Type: saved.Type, Data: saved.Data}
	if _, err := c.Client.CoreV1().Secrets(ns).Create(ctx, restored, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := getStatus(t, r, name); s.Status != "Ready" {
		t.Errorf("after restoring the Secret: %+v, want Ready", s)
	}
	r.must("credentials", name)
}

// Objects of a deployed release that were deleted or changed are reported and repaired.
func TestDriftedReleaseIsRepaired(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	ctx := context.Background()
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("drift")
	ns := "store-" + name
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
	r.must("create", name, "--set", "wordpress.resources.limits.memory=700Mi")

	t.Run("statefulset deleted", func(t *testing.T) {
		if err := c.Client.AppsV1().StatefulSets(ns).Delete(ctx, name+"-mariadb", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "the StatefulSet to be gone", func() bool {
			_, err := c.Client.AppsV1().StatefulSets(ns).Get(ctx, name+"-mariadb", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
		s := getStatus(t, r, name)
		if s.Status != "Failed" || s.Reason != "ReleaseDrift" {
			t.Errorf("get: %+v, want Failed ReleaseDrift", s)
		}
		wants(t, "get message", s.Message, "StatefulSet "+name+"-mariadb missing")
		res := r.run("wait", name, "--timeout", "2m")
		if res.code != 1 {
			t.Errorf("wait: exit %d, want 1 (it cannot become Ready by waiting)\n%s", res.code, res.stderr)
		}
		wants(t, "wait", res.stderr, "storectl create "+name)
		r.must("create", name, "--timeout", "3m")
		if s := getStatus(t, r, name); s.Status != "Ready" {
			t.Errorf("after create: %+v, want Ready", s)
		}
		if _, err := c.Client.AppsV1().StatefulSets(ns).Get(ctx, name+"-mariadb", metav1.GetOptions{}); err != nil {
			t.Errorf("the StatefulSet was not re-created: %v", err)
		}
	})

	t.Run("deployment scaled to zero", func(t *testing.T) {
		patch := []byte(`{"spec":{"replicas":0}}`)
		if _, err := c.Client.AppsV1().Deployments(ns).Patch(ctx, name+"-wordpress", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		s := getStatus(t, r, name)
		if s.Status != "Failed" || s.Reason != "ReleaseDrift" {
			t.Errorf("get: %+v, want Failed ReleaseDrift", s)
		}
		wants(t, "get message", s.Message, "Deployment "+name+"-wordpress spec.replicas changed")
		r.must("create", name, "--timeout", "3m")
		d, err := c.Client.AppsV1().Deployments(ns).Get(ctx, name+"-wordpress", metav1.GetOptions{})
		if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			t.Fatalf("replicas not restored: %v %v", err, d.Spec.Replicas)
		}
		// The repair kept the values the store was created with.
		if got := d.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String(); got != "700Mi" {
			t.Errorf("memory limit after the repair = %s, want the 700Mi the store was created with", got)
		}
		if s := getStatus(t, r, name); s.Status != "Ready" {
			t.Errorf("after create: %+v, want Ready", s)
		}
	})
}

// Volumes whose reclaim policy is Retain are reported, not waited for, and a later store of
// the same name is not held up by them.
func TestDeleteWithRetainedVolumes(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	ctx := context.Background()
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("retain")
	class := "e2e-retain-" + name
	retain := corev1.PersistentVolumeReclaimRetain
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class},
		Provisioner: "storectl.dev/sandbox-hostpath", ReclaimPolicy: &retain, VolumeBindingMode: &wait}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	volumes := func() []string {
		pvs, err := c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, pv := range pvs.Items {
			if pv.Spec.StorageClassName == class {
				out = append(out, pv.Name)
			}
		}
		return out
	}
	t.Cleanup(func() {
		r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m")
		for _, pv := range volumes() {
			_ = c.Client.CoreV1().PersistentVolumes().Delete(context.Background(), pv, metav1.DeleteOptions{})
		}
		_ = c.Client.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
	})

	var earlier []string
	for round := 1; round <= 2; round++ {
		r.must("create", name, "--storage-class", class)
		res := r.run("delete", name, "--yes", "--timeout", "2m")
		if res.code != 0 {
			t.Fatalf("round %d: delete exit %d, want 0\n%s", round, res.code, res.stderr)
		}
		all := volumes()
		if len(all) != 2*round {
			t.Fatalf("round %d: %d volumes of class %s, want %d", round, len(all), class, 2*round)
		}
		wants(t, "delete", res.stderr, "reclaim policy is Retain", "kubectl delete pv", "docs/reliability.md")
		for _, pv := range all {
			isEarlier := strings.Contains(strings.Join(earlier, " "), pv)
			if mentioned := strings.Contains(res.stderr, pv); mentioned == isEarlier {
				t.Errorf("round %d: volume %s (earlier store: %v) mentioned: %v\n%s", round, pv, isEarlier, mentioned, res.stderr)
			}
		}
		if namespaceExists(t, c, name) {
			t.Errorf("round %d: delete succeeded but the namespace exists", round)
		}
		if res := r.run("wait", name, "--for", "deleted", "--timeout", "20s"); res.code != 0 {
			t.Errorf("round %d: wait --for deleted: exit %d\n%s", round, res.code, res.stderr)
		}
		earlier = all
	}
}

// apiProxy forwards TCP connections on a loopback port to the API server until told to go
// silent (accept, then never answer) or to refuse (close the listener).
type apiProxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	silent bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *apiProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{t: t, ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.stop)
	return p
}

func (p *apiProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, in)
		silent := p.silent
		p.mu.Unlock()
		if silent {
			continue // held open, never answered
		}
		out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
	}
}

// goSilent drops every connection and answers none from now on.
func (p *apiProxy) goSilent() { p.setSilent(true) }

// resume answers new connections again. The connections held silent are closed, so that
// clients dial anew instead of waiting on them.
func (p *apiProxy) resume() { p.setSilent(false) }

// setSilent switches the proxy and closes every connection it holds.
func (p *apiProxy) setSilent(silent bool) {
	p.mu.Lock()
	p.silent = silent
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

func (p *apiProxy) stop() {
	p.ln.Close()
	p.goSilent()
	p.wg.Wait()
}

// kubeconfigVia writes a copy of the sandbox kubeconfig whose server is the proxy.
func kubeconfigVia(t *testing.T, c *testcluster.Cluster, p *apiProxy) string {
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cfg.Clusters {
		cl.Server = "https://" + p.ln.Addr().String()
		if cl.TLSServerName == "" {
			cl.TLSServerName = "127.0.0.1"
		}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func apiAddr(t *testing.T, c *testcluster.Cluster) string {
	host := strings.TrimPrefix(strings.TrimPrefix(c.Config.Host, "https://"), "http://")
	if _, _, err := net.SplitHostPort(host); err != nil {
		t.Fatalf("API server address %q: %v", c.Config.Host, err)
	}
	return host
}

// Every wait ends by its deadline, with exit 6 when the API server cannot be reached.
func TestWaitsEndByTheirDeadline(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	ctx := context.Background()
	// bound is how much past --timeout a run may end: process start-up and the bounded
	// re-read after the deadline, far below the unbounded retries this guards against.
	const bound = 4 * time.Second

	t.Run("silent API", func(t *testing.T) {
		t.Parallel()
		p := startProxy(t, apiAddr(t, c))
		p.goSilent()
		r := newRunner(t, kubeconfigVia(t, c, p))
		for _, args := range [][]string{
			{"wait", uniqueStore("silent"), "--for", "deleted", "--timeout", "5s"},
			{"wait", uniqueStore("silent"), "--for", "ready", "--timeout", "5s"},
			{"delete", uniqueStore("silent"), "--yes", "--timeout", "5s"},
			{"create", uniqueStore("silent"), "--timeout", "5s"},
		} {
			start := time.Now()
			res := r.run(args...)
			took := time.Since(start)
			if res.code != 6 {
				t.Errorf("storectl %v: exit %d, want 6\n%s", args, res.code, res.stderr)
			}
			if took > 5*time.Second+bound {
				t.Errorf("storectl %v ended %s after it started, past its 5s timeout", args, took.Round(time.Millisecond))
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		r := newRunner(t, writeKubeconfig(t, nil, "https://127.0.0.1:1", "x"))
		res := r.run("wait", uniqueStore("refused"), "--for", "deleted", "--timeout", "5s")
		if res.code != 6 {
			t.Errorf("exit %d, want 6\n%s", res.code, res.stderr)
		}
	})

	// The connection drops after the DELETE while the namespace is still terminating, and the
	// namespace then goes. If the API server answers again by the deadline, delete re-reads
	// and succeeds; if not, it ends by its deadline with 6. Never with its stale cache's
	// "still terminating" and 5.
	for _, tt := range []struct {
		name     string
		comeBack bool
		timeout  time.Duration
		code     int
	}{
		{"connection lost during delete", false, 15 * time.Second, 6},
		// Long enough for the namespace to go while the API is silent, on a busy machine.
		{"connection lost and back during delete", true, 45 * time.Second, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			direct := newRunner(t, c.Kubeconfig)
			name := uniqueStore("lost")
			ns := "store-" + name
			t.Cleanup(func() { direct.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
			direct.must("create", name)
			if _, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
				Name: "e2e-hold", Finalizers: []string{"e2e.storectl.dev/hold"}}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			letGo := func() {
				_, err := c.Client.CoreV1().ConfigMaps(ns).Patch(context.Background(), "e2e-hold", types.MergePatchType,
					[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("release the hold: %v", err)
				}
			}
			t.Cleanup(letGo)
			p := startProxy(t, apiAddr(t, c))
			r := newRunner(t, kubeconfigVia(t, c, p))
			proc := r.start("delete", name, "--yes", "--timeout", tt.timeout.String())
			eventually(t, time.Minute, "the namespace to terminate", func() bool {
				n, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
				return err == nil && n.DeletionTimestamp != nil
			})
			time.Sleep(time.Second) // the delete is now watching
			p.goSilent()
			letGo()
			eventually(t, time.Minute, "the namespace to be gone", func() bool { return !namespaceExists(t, c, name) })
			if tt.comeBack {
				p.resume()
			}
			select {
			case <-proc.done:
			case <-time.After(tt.timeout + bound + 5*time.Second):
				t.Fatalf("delete still runs past its timeout:\n%s", proc.stderr.String())
			}
			if proc.code != tt.code {
				t.Errorf("delete: exit %d, want %d\n%s", proc.code, tt.code, proc.stderr.String())
			}
			if strings.Contains(proc.stderr.String(), "not deleted after") {
				t.Errorf("delete reported its stale cache as a timeout:\n%s", proc.stderr.String())
			}
		})
	}
}
