//go:build e2e

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/storectl/storectl/pkg/store"
	"github.com/storectl/storectl/pkg/testcluster"
)

type doctorJSON struct {
	OK     bool `json:"ok"`
	Checks []struct {
		ID      string `json:"id"`
		Result  string `json:"result"`
		Message string `json:"message"`
	} `json:"checks"`
}

func (d doctorJSON) result(id string) (string, string) {
	for _, c := range d.Checks {
		if c.ID == id {
			return c.Result, c.Message
		}
	}
	return "", ""
}

// The sandbox as set up passes doctor --pre; each broken precondition is named by its
// check and exits 1, and create refuses before any namespace exists.
func TestDoctorOnTheSandbox(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	r := newRunner(t, c.Kubeconfig)

	// Other tests make namespaces that look like stores and do not enforce Pod Security, on
	// purpose; doctor rightly fails policy.pod-security for them, so it is checked on a
	// private sandbox (TestDoctorFindsBrokenStores).
	res := r.run("doctor", "--pre", "--skip", "policy.pod-security", "-o", "json")
	d := decode[doctorJSON](t, res.stdout)
	if res.code != 0 || !d.OK {
		t.Fatalf("doctor --pre on the sandbox: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, id := range []string{"stores.pending", "stores.orphaned", "stores.failed", "stores.chart-version"} {
		if got, _ := d.result(id); got != "skipped" {
			t.Errorf("--pre: %s is %q, want skipped", id, got)
		}
	}
	for _, id := range []string{"cluster.reachable", "cluster.credentials", "permissions.operator", "storage.class", "ingress.class"} {
		if got, msg := d.result(id); got != "ok" {
			t.Errorf("%s is %q (%s), want ok", id, got, msg)
		}
	}

	t.Run("missing IngressClass", func(t *testing.T) {
		t.Parallel()
		res := r.run("doctor", "--pre", "--ingress-class", "no-such-class", "-o", "json")
		got, msg := decode[doctorJSON](t, res.stdout).result("ingress.class")
		if res.code != 1 || got != "failed" || !strings.Contains(msg, "no-such-class") {
			t.Errorf("exit %d, ingress.class %q: %s", res.code, got, msg)
		}
		name := uniqueStore("noclass")
		res = r.run("create", name, "--ingress-class", "no-such-class")
		if res.code != 1 || !strings.Contains(res.stderr, "ingress.class") || !strings.Contains(res.stderr, "no-such-class") {
			t.Errorf("create with a missing IngressClass: exit %d\n%s", res.code, res.stderr)
		}
		if namespaceExists(t, c, name) {
			t.Errorf("create with a missing IngressClass made namespace %s", store.Namespace(name))
			newRunner(t, c.Kubeconfig).run("delete", name, "--yes")
		}
	})

	t.Run("missing StorageClass", func(t *testing.T) {
		t.Parallel()
		res := r.run("doctor", "--pre", "--storage-class", "no-such-class", "-o", "json")
		got, msg := decode[doctorJSON](t, res.stdout).result("storage.class")
		if res.code != 1 || got != "failed" || !strings.Contains(msg, "no-such-class") {
			t.Errorf("exit %d, storage.class %q: %s", res.code, got, msg)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		res := newRunner(t, writeKubeconfig(t, nil, "https://127.0.0.1:1", "x")).run("doctor", "-o", "json")
		d := decode[doctorJSON](t, res.stdout)
		if got, _ := d.result("cluster.reachable"); res.code != 6 || got != "failed" {
			t.Errorf("exit %d, cluster.reachable %q\n%s", res.code, got, res.stderr)
		}
		if got, _ := d.result("storage.class"); got != "skipped" {
			t.Errorf("storage.class after an unreachable cluster is %q, want skipped", got)
		}
	})

	t.Run("refused credentials", func(t *testing.T) {
		t.Parallel()
		res := newRunner(t, writeKubeconfig(t, c, c.Config.Host, "not-a-token")).run("doctor")
		if res.code != 7 || !strings.Contains(res.stdout, "cluster.credentials") {
			t.Errorf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	})
}

// An identity bound to docs/rbac.yaml minus one verb is told exactly which one it lacks.
func TestDoctorNamesAMissingVerb(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	ns, token := leastPrivilegeServiceAccount(t, c)
	kc := writeKubeconfig(t, c, c.Config.Host, token)
	r := newRunner(t, kc)
	res := r.run("doctor", "--pre", "--skip", "local", "-o", "json")
	if got, msg := decode[doctorJSON](t, res.stdout).result("permissions.operator"); got != "ok" {
		t.Fatalf("the identity of docs/rbac.yaml: permissions.operator %q: %s\n%s", got, msg, res.stderr)
	}

	// Trim watch on jobs from the account's copy of the operator role.
	ctx := context.Background()
	var role *rbacv1.ClusterRole
	roles, err := c.Client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range roles.Items {
		for _, s := range b.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == ns {
				if role, err = c.Client.RbacV1().ClusterRoles().Get(ctx, b.RoleRef.Name, metav1.GetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if role == nil {
		t.Fatal("no ClusterRole bound to the account")
	}
	for i, rule := range role.Rules {
		if len(rule.Resources) == 1 && rule.Resources[0] == "jobs" {
			role.Rules[i].Verbs = []string{"get", "list"}
		}
	}
	if _, err := c.Client.RbacV1().ClusterRoles().Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "doctor to see the trimmed role", func() bool {
		res = r.run("doctor", "--pre", "--skip", "local", "-o", "json")
		got, msg := decode[doctorJSON](t, res.stdout).result("permissions.operator")
		return res.code == 1 && got == "failed" && strings.Contains(msg, "watch jobs.batch") && strings.Contains(msg, "1 of ")
	})
}

// A store namespace without a release, and a release left pending by a process that is
// gone, are each reported. Made by hand in a private sandbox, which doctor reads whole.
func TestDoctorFindsBrokenStores(t *testing.T) {
	c := testcluster.Private(t)
	t.Parallel()
	ctx := context.Background()
	orphan := uniqueStore("orphan")
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   store.Namespace(orphan),
		Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: orphan, store.LabelType: store.TypeWooCommerce, "pod-security.kubernetes.io/enforce": "restricted"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, c.Kubeconfig)

	// The sandbox as set up passes, and its one (hand-made) store namespace enforces
	// restricted.
	res := r.run("doctor", "--pre", "-o", "json")
	if d := decode[doctorJSON](t, res.stdout); res.code != 0 || !d.OK {
		t.Fatalf("doctor --pre on a new sandbox: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, id := range []string{"cluster.version", "permissions.create-lock", "policy.pod-security"} {
		if got, msg := decode[doctorJSON](t, res.stdout).result(id); got != "ok" {
			t.Errorf("%s on a new sandbox: %q (%s)", id, got, msg)
		}
	}

	// A create killed while its release is pending-install (the setup Job runs 40s).
	pending := uniqueStore("pending")
	p := r.start(append([]string{"create", pending}, annotation("setup", "ready-delay", "40s")...)...)
	eventually(t, 2*time.Minute, "the release to be pending-install", func() bool {
		return namespaceExists(t, c, pending) && hasStatus(releaseStatuses(t, c, pending), "pending-install")
	})
	r.signal(p, syscall.SIGKILL)
	// The killed process's lease runs out after the e2e build's lock-lease of 6s.
	eventually(t, 30*time.Second, "the pending release to be reported", func() bool {
		res := r.run("doctor", "-o", "json")
		got, msg := decode[doctorJSON](t, res.stdout).result("stores.pending")
		return res.code == 1 && got == "failed" && strings.Contains(msg, pending+" (pending-install)")
	})

	// Orphaned only once older than the grace a create needs (a minute).
	eventually(t, 100*time.Second, "the namespace without a release to be reported", func() bool {
		res := r.run("doctor", "-o", "json")
		got, msg := decode[doctorJSON](t, res.stdout).result("stores.orphaned")
		return res.code == 1 && got == "failed" && strings.Contains(msg, store.Namespace(orphan))
	})
	res = r.run("doctor", "--pre", "-o", "json")
	if got, _ := decode[doctorJSON](t, res.stdout).result("stores.orphaned"); got != "skipped" {
		t.Errorf("--pre reports stores.orphaned %q", got)
	}

	// No StorageClass is the default any more: doctor names it, and create refuses before
	// any namespace exists.
	sc, err := c.Client.StorageV1().StorageClasses().Get(ctx, "standard", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(sc.Annotations, "storageclass.kubernetes.io/is-default-class")
	if _, err := c.Client.StorageV1().StorageClasses().Update(ctx, sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res = r.run("doctor", "--pre", "-o", "json")
	if got, msg := decode[doctorJSON](t, res.stdout).result("storage.class"); res.code != 1 || got != "failed" || !strings.Contains(msg, "default") {
		t.Errorf("without a default StorageClass: exit %d, storage.class %q: %s", res.code, got, msg)
	}
	name := uniqueStore("nodefault")
	res = r.run("create", name)
	if res.code != 1 || !strings.Contains(res.stderr, "storage.class") {
		t.Errorf("create without a default StorageClass: exit %d\n%s", res.code, res.stderr)
	}
	if namespaceExists(t, c, name) {
		t.Errorf("create without a default StorageClass made namespace %s", store.Namespace(name))
	}
}

// kwokLogs makes kwok serve the log files of a pod's containers.
func kwokLogs(t *testing.T, c *testcluster.Cluster, ns, pod string, containers map[string][2]string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	var logs []any
	for ctr, files := range containers {
		l := map[string]any{"containers": []any{ctr}, "logsFile": files[0], "follow": true}
		if files[1] != "" {
			l["previousLogsFile"] = files[1]
		}
		logs = append(logs, l)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs",
		"metadata": map[string]any{"name": pod},
		"spec":     map[string]any{"selector": map[string]any{"matchNamespaces": []any{ns}, "matchNames": []any{pod}}, "logs": logs},
	}}
	gvr := schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "clusterlogs"}
	if _, err := dyn.Resource(gvr).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// criLine is one line of a container log file in the CRI format kwok reads.
func criLine(i int, text string) string {
	return fmt.Sprintf("2026-12-01T10:00:%02d.000000000Z stdout F %s\n", i, text)
}

// storectl logs through kwok's local pod logs: component selection, --previous, and -f
// following a file that grows. A private sandbox, because serving logs needs its kwok
// configured for it (hack/testcluster.sh does so for a new sandbox).
func TestLogsThroughKwok(t *testing.T) {
	c := testcluster.Private(t)
	t.Parallel()
	ctx := context.Background()
	name := uniqueStore("logs")
	ns := store.Namespace(name)
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: name, store.LabelType: store.TypeWooCommerce},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the default ServiceAccount", func() bool {
		_, err := c.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	dir := t.TempDir()
	write := func(file string, lines ...string) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wp := write("wp.log", criLine(0, "wordpress starts"), criLine(1, "wordpress serves"))
	wpPrev := write("wp-prev.log", criLine(0, "wordpress crashed"))
	db := write("db.log", criLine(0, "mariadb ready"))
	for pod, comp := range map[string]string{name + "-wordpress-0": store.ComponentWordPress, name + "-mariadb-0": store.ComponentDatabase} {
		if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: pod, Labels: map[string]string{store.LabelStore: name, store.LabelComponent: comp}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: comp, Image: "example.invalid/" + comp}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kwokLogs(t, c, ns, name+"-wordpress-0", map[string][2]string{store.ComponentWordPress: {wp, wpPrev}})
	kwokLogs(t, c, ns, name+"-mariadb-0", map[string][2]string{store.ComponentDatabase: {db, ""}})
	r := newRunner(t, c.Kubeconfig)
	eventually(t, 60*time.Second, "both pods to run", func() bool {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return err == nil && running == 2
	})

	res := r.must("logs", name, "--component", "wordpress")
	if res.stdout != "wordpress starts\nwordpress serves\n" {
		t.Errorf("logs --component wordpress:\n%q", res.stdout)
	}
	res = r.must("logs", name)
	for _, want := range []string{"[" + name + "-wordpress-0/wordpress] wordpress serves", "[" + name + "-mariadb-0/database] mariadb ready"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("logs of every component lack %q:\n%s", want, res.stdout)
		}
	}
	res = r.must("logs", name, "--component", "wordpress", "--previous")
	if res.stdout != "wordpress crashed\n" {
		t.Errorf("logs --previous:\n%q", res.stdout)
	}
	res = r.must("logs", name, "--component", "database", "-o", "json")
	if !strings.Contains(res.stdout, `"component":"database"`) || !strings.Contains(res.stdout, `"line":"mariadb ready"`) {
		t.Errorf("logs -o json:\n%s", res.stdout)
	}

	p := r.start("logs", name, "--component", "wordpress", "-f")
	eventually(t, 20*time.Second, "the followed log to print what is there", func() bool {
		return strings.Contains(p.stdout.String(), "wordpress serves")
	})
	f, err := os.OpenFile(wp, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(criLine(2, "a new order")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	eventually(t, 20*time.Second, "the followed log to print the new line", func() bool {
		return strings.Contains(p.stdout.String(), "a new order")
	})
}

type statsJSON struct {
	Source       string `json:"source"`
	Provisioning int    `json:"provisioning"`
	Actions      []struct {
		Action    string  `json:"action"`
		Count     int     `json:"count"`
		Succeeded int     `json:"succeeded"`
		N         int     `json:"n"`
		MaxSecs   float64 `json:"maxSeconds"`
	} `json:"actions"`
}

// Two machines (two audit logs) each create a store: each one's stats show its own create,
// and stats --cluster shows both, the same from either. Then the events of a store, all
// types, and -w following a new one. A private sandbox, so that no other test's store counts.
func TestStatsAndEventsAcrossMachines(t *testing.T) {
	c := testcluster.Private(t)
	t.Parallel()
	a, b := newRunner(t, c.Kubeconfig), newRunner(t, c.Kubeconfig)
	nameA, nameB := uniqueStore("stats-a"), uniqueStore("stats-b")
	a.must("create", nameA)
	b.must("create", nameB)

	for _, r := range []*storectlRunner{a, b} {
		s := decode[statsJSON](t, r.must("stats", "-o", "json").stdout)
		if s.Source != "audit-log" || len(s.Actions) != 1 || s.Actions[0].Count != 1 || s.Actions[0].Succeeded != 1 || s.Actions[0].N != 1 {
			t.Errorf("local stats: %+v", s)
		}
	}
	fromA, fromB := a.must("stats", "--cluster", "-o", "json").stdout, b.must("stats", "--cluster", "-o", "json").stdout
	if fromA != fromB {
		t.Errorf("stats --cluster differ between machines:\n%s\n%s", fromA, fromB)
	}
	s := decode[statsJSON](t, fromA)
	if s.Source != "cluster" || s.Provisioning != 0 || len(s.Actions) != 1 || s.Actions[0].Count != 2 || s.Actions[0].Succeeded != 2 ||
		s.Actions[0].N != 2 || s.Actions[0].MaxSecs <= 0 {
		t.Errorf("stats --cluster: %+v", s)
	}

	type eventJSON struct {
		Type, Reason, Object string
	}
	evs := decode[[]eventJSON](t, a.must("events", nameA, "-o", "json").stdout)
	normal := false
	for _, e := range evs {
		normal = normal || e.Type == "Normal"
	}
	if len(evs) == 0 || !normal {
		t.Errorf("events of a new store: %+v, want Normal ones among them", evs)
	}
	if out := a.must("get", nameA, "--events").stdout; !strings.Contains(out, "Events:") || !strings.Contains(out, "Normal") {
		t.Errorf("get --events:\n%s", out)
	}
	p := a.start("events", nameA, "-w", "-o", "json")
	eventually(t, 20*time.Second, "the watch to print the existing events", func() bool {
		return strings.Count(p.stdout.String(), "\n") >= len(evs)
	})
	ctx := context.Background()
	if _, err := c.Client.CoreV1().Events(store.Namespace(nameA)).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: "e2e-"},
		InvolvedObject: corev1.ObjectReference{Kind: "Namespace", Name: store.Namespace(nameA), Namespace: store.Namespace(nameA)},
		Type:           "Warning", Reason: "E2EWatched", Message: "recorded while watched",
		LastTimestamp: metav1.Now(), Count: 1,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the watch to print the new event", func() bool {
		return strings.Contains(p.stdout.String(), `"reason":"E2EWatched"`)
	})
}
