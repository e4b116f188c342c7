//go:build e2e

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/testcluster"
)

// nameRule is the part of every invalid-name message that states the rule.
const nameRule = "a store name is 1-40 characters of lowercase letters, digits and hyphens"

// writeKubeconfig writes a kubeconfig for server with a bearer token and returns its path.
func writeKubeconfig(t *testing.T, c *testcluster.Cluster, server, token string) string {
	t.Helper()
	cluster := &clientcmdapi.Cluster{Server: server}
	if c != nil {
		tls := c.Config.TLSClientConfig
		cluster.CertificateAuthorityData = tls.CAData
		if len(tls.CAData) == 0 && tls.CAFile != "" {
			ca, err := os.ReadFile(tls.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			cluster.CertificateAuthorityData = ca
		}
		cluster.InsecureSkipTLSVerify = tls.Insecure
	} else {
		cluster.InsecureSkipTLSVerify = true
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sandbox"] = cluster
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["sandbox"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: "user"}
	cfg.CurrentContext = "sandbox"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// serviceAccountToken creates a ServiceAccount in ns and returns a token of it.
func serviceAccountToken(t *testing.T, c *testcluster.Cluster, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Status.Token
}

// Invalid store names are refused before any API call: with the real cluster nothing is
// created, and with an unreachable one the answer is still the usage error, not exit 6.
func TestInvalidStoreNamesChangeNothing(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	real := newRunner(t, c.Kubeconfig)
	offline := newRunner(t, writeKubeconfig(t, nil, "https://127.0.0.1:1", "x"))
	names := []struct{ what, name string }{
		{"empty", ""},
		{"too long", "s" + strings.Repeat("x", 40)},
		{"uppercase", "Shop"},
		{"underscore", "my_shop"},
		{"dot", "my.shop"},
		{"leading digit", "1shop"},
		{"leading hyphen", "-shop"},
		{"trailing hyphen", "shop-"},
		{"unicode", "café"},
		{"unicode lookalike", "shоp"}, // Cyrillic o
		{"whitespace", "my shop"},
		{"newline", "shop\n"},
		{"shell metacharacters", "shop;rm -rf ~"},
		{"command substitution", "$(id)"},
		{"path traversal", "../../etc/passwd"},
		{"slash", "a/b"},
		{"reserved word", "default"},
		{"reserved prefix", "kube-shop"},
	}
	before := storeNamespaces(t, c)
	for _, tt := range names {
		t.Run(tt.what, func(t *testing.T) {
			for _, r := range []*storectlRunner{real, offline} {
				// "--" lets a name that starts with a hyphen through as an argument.
				res := r.run("create", "--", tt.name)
				if res.code != 2 {
					t.Errorf("create %q (kubeconfig %s): exit %d, want 2\n%s", tt.name, r.kubeconfig, res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, nameRule) {
					t.Errorf("create %q: the message does not state the rule:\n%s", tt.name, res.stderr)
				}
				if res.stdout != "" {
					t.Errorf("create %q printed data: %q", tt.name, res.stdout)
				}
			}
			if res := real.run("delete", "--yes", "--", tt.name); res.code != 2 || !strings.Contains(res.stderr, nameRule) {
				t.Errorf("delete %q: exit %d\n%s", tt.name, res.code, res.stderr)
			}
		})
	}
	if recs := real.must("audit", "-o", "json").stdout; strings.TrimSpace(recs) != "[]" {
		t.Errorf("refused commands were recorded as actions: %s", recs)
	}
	// Other tests create stores meanwhile; none of the refused names may appear.
	for ns := range storeNamespaces(t, c) {
		if before[ns] {
			continue
		}
		for _, tt := range names {
			if tt.name != "" && strings.Contains(ns, tt.name) {
				t.Errorf("namespace %s appeared", ns)
			}
		}
	}
}

func storeNamespaces(t *testing.T, c *testcluster.Cluster) map[string]bool {
	t.Helper()
	list, err := c.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=storectl"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range list.Items {
		out[n.Name] = true
	}
	return out
}

// Bad input other than the name, and a cluster that cannot be reached or refuses the
// caller: each has its exit code and a next step, and leaves no namespace behind.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badYAML := write("bad-syntax.yaml", "max-stores: [1\n")
	badKey := write("bad-key.yaml", "colour: red\n")
	badValue := write("bad-value.yaml", "max-stores: lots\n")
	badValues := write("values.yaml", "wordpress: [\n")

	sandbox := c.Config.Host
	forbiddenNS := c.NewNamespace(t, "e2e-nobody", nil)
	forbidden := writeKubeconfig(t, c, sandbox, serviceAccountToken(t, c, forbiddenNS, "nobody"))
	unknownToken := writeKubeconfig(t, c, sandbox, "not-a-token-the-cluster-issued")
	unreachable := writeKubeconfig(t, nil, "https://127.0.0.1:1", "x")

	tests := []struct {
		what       string
		kubeconfig string
		args       []string
		code       int
		want       []string
		within     time.Duration
	}{
		{"unknown type", "", []string{"--type", "magento"}, 2, []string{`unknown store type "magento"`, `"woocommerce"`}, 0},
		{"set without value", "", []string{"--set", "wordpress.replicas"}, 2, []string{"malformed --set", "key=value", "--help"}, 0},
		{"set with broken index", "", []string{"--set", "a.b[=x"}, 2, []string{"malformed --set", "key=value"}, 0},
		{"missing values file", "", []string{"--values", filepath.Join(dir, "nope.yaml")}, 2, []string{"does not exist", "YAML file"}, 0},
		{"values file not YAML", "", []string{"--values", badValues}, 2, []string{"not a YAML map"}, 0},
		{"config file not YAML", "", []string{"--config", badYAML}, 2, []string{"invalid config file", "not valid YAML"}, 0},
		{"config file unknown key", "", []string{"--config", badKey}, 2, []string{"invalid config file", `unknown key "colour"`, "allowed keys"}, 0},
		{"config file bad value", "", []string{"--config", badValue}, 2, []string{"invalid config file", "whole number"}, 0},
		{"values storectl does not let users set", "", []string{"--set", "wordpress.replicaCount=2"}, 2, []string{"wordpress.replicaCount", "not a chart value", "correct the chart value"}, 0},
		{"unreachable cluster", unreachable, nil, 6, []string{"127.0.0.1:1", "check that the cluster is running"}, 10 * time.Second},
		{"unknown credentials", unknownToken, nil, 7, []string{"refresh your credentials"}, 10 * time.Second},
		{"forbidden identity", forbidden, nil, 7, []string{"forbidden", "ClusterRole"}, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			t.Parallel()
			kc := tt.kubeconfig
			if kc == "" {
				kc = c.Kubeconfig
			}
			r := newRunner(t, kc)
			name := uniqueStore("bad")
			t.Cleanup(func() {
				if namespaceExists(t, c, name) {
					newRunner(t, c.Kubeconfig).run("delete", name, "--yes", "--ignore-not-found")
				}
			})
			start := time.Now()
			res := r.run(append([]string{"create", name}, tt.args...)...)
			took := time.Since(start)
			t.Logf("exit %d after %s: %s", res.code, took.Round(time.Millisecond), lastLine(res.stderr))
			if res.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", res.code, tt.code, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("message lacks %q:\n%s", w, res.stderr)
				}
			}
			if tt.within > 0 && took > tt.within {
				t.Errorf("took %s, want within %s", took, tt.within)
			}
			if res.stdout != "" {
				t.Errorf("printed data on stdout: %q", res.stdout)
			}
			if namespaceExists(t, c, name) {
				t.Errorf("the refused create left namespace store-%s behind", name)
			}
		})
	}
}

// lastLine returns the "Error:" line of s, else its last non-empty line, for test logs.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "Error:") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}

// nextStep returns the "Next:" line printed after the last error, or "".
func nextStep(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "Error:") {
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "Next:") {
				return lines[i+1]
			}
			return ""
		}
	}
	return ""
}

// A corrupt audit file is reported with the command that moves it aside and is never
// rewritten; a locked one is reported after the lock timeout. A mutating command still does
// its work and warns that it could not record it.
func TestDamagedAuditLog(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("audit")

	t.Run("corrupt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "corrupt.db")
		junk := make([]byte, 16384)
		_, _ = rand.Read(junk)
		if err := os.WriteFile(path, junk, 0o600); err != nil {
			t.Fatal(err)
		}
		res := r.run("audit", "--audit-path", path)
		if res.code != 1 {
			t.Errorf("audit of a corrupt file: exit %d, want 1\n%s", res.code, res.stderr)
		}
		for _, w := range []string{"corrupt", "mv " + path} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("message lacks %q:\n%s", w, res.stderr)
			}
		}
		res = r.run("delete", name, "--yes", "--ignore-not-found", "--audit-path", path)
		if res.code != 0 || !strings.Contains(res.stderr, "could not record delete") || !strings.Contains(res.stderr, "corrupt") {
			t.Errorf("delete with a corrupt audit file: exit %d\n%s", res.code, res.stderr)
		}
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(after, junk) {
			t.Errorf("the corrupt audit file was changed (%v)", err)
		}
	})

	t.Run("locked", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.db")
		r.must("delete", name, "--yes", "--ignore-not-found", "--audit-path", path)
		// Hold the file the way another storectl process would: bbolt's own lock.
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res := r.run("audit", "--audit-path", path)
		took := time.Since(start)
		t.Logf("audit of a locked file: exit %d after %s", res.code, took.Round(time.Millisecond))
		if res.code != 1 {
			t.Errorf("audit of a locked file: exit %d, want 1\n%s", res.code, res.stderr)
		}
		for _, w := range []string{"locked", "retry"} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("message lacks %q:\n%s", w, res.stderr)
			}
		}
		if took > 15*time.Second {
			t.Errorf("waited %s for the lock", took)
		}
		res = r.run("delete", name, "--yes", "--ignore-not-found", "--audit-path", path)
		if res.code != 0 || !strings.Contains(res.stderr, "could not record delete") || !strings.Contains(res.stderr, "locked") {
			t.Errorf("delete with a locked audit file: exit %d\n%s", res.code, res.stderr)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// Released, the log is intact and holds the record written before the lock.
		type rec struct{ Action, Store, Outcome string }
		recs := decode[[]rec](t, r.must("audit", "-o", "json", "--audit-path", path).stdout)
		if len(recs) != 1 || recs[0].Store != name || recs[0].Outcome != "succeeded" {
			t.Errorf("audit records after the lock: %+v", recs)
		}
	})
}

// Image pull errors, a crash-looping database, a failing setup Job, volumes that cannot be
// provisioned and pods the namespace quota refuses end create within seconds of being
// certain, far below the 10 minute default timeout, naming the component, the reason and
// what to do.
func TestFailFastThroughTheBinary(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	tests := []struct {
		name   string
		args   []string
		labels []string // the failing component is one of these
		reason string
		within time.Duration
	}{
		{"image-pull", annotation("wordpress", "fault", "image-pull"), []string{"wordpress"}, "ImagePullBackOff", 90 * time.Second},
		{"crashloop", annotation("mariadb", "fault", "crashloop"), []string{"database"}, "CrashLoopBackOff", 90 * time.Second},
		{"job-fail", annotation("setup", "fault", "job-fail"), []string{"setup"}, "BackoffLimitExceeded", 120 * time.Second},
		// A StorageClass that does not exist is refused by create's preflight before any
		// namespace exists (doctor's storage check, TestDoctorOnTheSandbox); an unbound
		// claim is diagnosed by the engine's own sandbox tests.
		// The operator lets users size the quota (tenant-isolation-overrides) for this one.
		{"quota", []string{"--set", `quota.hard.requests\.memory=300Mi`}, []string{"database", "wordpress", "setup"}, "FailedCreate", 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t, c.Kubeconfig)
			if tt.name == "quota" {
				configure(t, r, "tenant-isolation-overrides: [quota]\n")
			}
			name := uniqueStore("ff-" + tt.name)
			t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
			start := time.Now()
			res := r.run(append([]string{"create", name}, tt.args...)...)
			took := time.Since(start)
			t.Logf("%s: exit %d after %s: %s", tt.name, res.code, took.Round(100*time.Millisecond), lastLine(res.stderr))
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
			}
			if took > tt.within {
				t.Errorf("failed after %s, want within %s (default timeout 10m)", took, tt.within)
			}
			errLine := lastLine(res.stderr)
			named := false
			for _, l := range tt.labels {
				named = named || strings.Contains(errLine, l+": "+tt.reason)
			}
			if !named {
				t.Errorf("error does not name one of %v with %s: %s", tt.labels, tt.reason, errLine)
			}
			if tt.name == "job-fail" && !strings.Contains(res.stderr, "WooCommerce from https://downloads.wordpress.org/plugin/woocommerce.") {
				t.Errorf("a failed setup does not say where WooCommerce came from:\n%s", res.stderr)
			}
			if next := nextStep(res.stderr); !strings.Contains(next, "storectl create "+name) {
				t.Errorf("error lacks the next step: %s / %s", errLine, next)
			}
			if !strings.Contains(res.stderr, "Last state seen") {
				t.Errorf("no last state of the components:\n%s", res.stderr)
			}
			noForeignLogLines(t, res.stderr)
			if s := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout); s.Status != "Failed" {
				t.Errorf("get after the failure: %s, want Failed", s.Status)
			}
			if got := auditOutcomes(r, name); len(got) != 1 || got[0] != "create failed" {
				t.Errorf("audit: %v", got)
			}
		})
	}
}

// noForeignLogLines fails on klog-formatted lines ("E1125 23:18:18.001783 ...") in stderr:
// every line there is storectl's own.
func noForeignLogLines(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if len(line) > 6 && strings.ContainsRune("IWEF", rune(line[0])) && strings.Trim(line[1:5], "0123456789") == "" && line[5] == ' ' {
			t.Errorf("a client library's log line reached stderr: %s", line)
		}
	}
}

// A store that never becomes ready times out at --timeout with exit 5, the last state of
// each component and the command that keeps waiting.
func TestTimeoutShowsLastState(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("timeout")
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
	start := time.Now()
	res := r.run(append([]string{"create", name, "--timeout", "20s"}, annotation("wordpress", "fault", "never-ready")...)...)
	took := time.Since(start)
	t.Logf("never-ready: exit %d after %s: %s", res.code, took.Round(100*time.Millisecond), lastLine(res.stderr))
	if res.code != 5 {
		t.Fatalf("exit %d, want 5\n%s", res.code, res.stderr)
	}
	if took < 20*time.Second || took > 30*time.Second {
		t.Errorf("timed out after %s, want about 20s", took)
	}
	for _, w := range []string{"Last state seen", "WordPress", "not ready", "Database", "storectl wait " + name + " --for ready"} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("timeout message lacks %q:\n%s", w, res.stderr)
		}
	}
	noForeignLogLines(t, res.stderr)
	// Timing out changes nothing: the store is still provisioning, not failed.
	if s := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout); s.Status != "Provisioning" {
		t.Errorf("get after the timeout: %s, want Provisioning", s.Status)
	}
}
