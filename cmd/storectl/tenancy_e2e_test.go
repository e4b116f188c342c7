//go:build e2e

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/testcluster"
)

// configure writes the runner's default config file (its XDG_CONFIG_HOME is its own).
func configure(t *testing.T, r *storectlRunner, content string) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(r.auditPath), "storectl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Chart values that decide a store's identity, credentials, isolation or host name are
// storectl's: given with --set or --values they are refused with exit 2 naming the key, both
// against the sandbox and against a cluster that cannot be reached (so no API call was made),
// nothing is created and nothing is recorded.
func TestUserValuesCannotOverrideStorectl(t *testing.T) {
	c := testcluster.Require(t)
	dir := t.TempDir()
	valuesFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		what string
		args []string
		want []string
	}{
		{"another store's host name", []string{"--set", "store.name=neighbour"}, []string{"store.name", "identity"}},
		{"a host name under another domain", []string{"--set", "store.domain=evil.example.com"}, []string{"store.domain", "--domain"}},
		{"another Secret", []string{"--set", "credentials.existingSecret=neighbour-credentials"}, []string{"credentials.existingSecret"}},
		{"no quota", []string{"--set", "quota.enabled=false"}, []string{"quota.enabled", "tenant-isolation-overrides"}},
		{"a larger quota", []string{"--set", `quota.hard.limits\.cpu=64`}, []string{"quota.hard[limits.cpu]"}},
		{"no limit range", []string{"--set", "limitRange.enabled=false"}, []string{"limitRange.enabled", "tenant-isolation-overrides"}},
		{"network policy", []string{"--set", "networkPolicy.dns.namespace=default"}, []string{"networkPolicy.dns.namespace"}},
		{"pull policy", []string{"--set", "image.pullPolicy=Never"}, []string{"image.pullPolicy", "--image-pull-policy"}},
		{"ingress class", []string{"--set", "ingress.className=internal"}, []string{"ingress.className"}},
		{"TLS", []string{"--set", "ingress.tls.enabled=false"}, []string{"ingress.tls.enabled"}},
		{"server snippet", []string{"--set", `ingress.annotations.nginx\.ingress\.kubernetes\.io/server-snippet=return 302 https://evil.example.com;`},
			[]string{"nginx.ingress.kubernetes.io/server-snippet", "snippet"}},
		{"configuration snippet", []string{"--set", `ingress.annotations.nginx\.ingress\.kubernetes\.io/configuration-snippet=x`},
			[]string{"nginx.ingress.kubernetes.io/configuration-snippet"}},
		{"external DNS host name", []string{"--set", `ingress.annotations.external-dns\.alpha\.kubernetes\.io/hostname=neighbour.127.0.0.1.nip.io`},
			[]string{"external-dns.alpha.kubernetes.io/hostname"}},
		{"skip grant tables", []string{"--set", "mariadb.extraArgs={--skip-grant-tables}"}, []string{"mariadb.extraArgs[0]", "--skip-grant-tables"}},
		{"database account", []string{"--set", "mariadb.user=root"}, []string{"mariadb.user"}},
		{"mesh opt-out", []string{"--set", `wordpress.podAnnotations.sidecar\.istio\.io/inject=false`}, []string{"sidecar.istio.io/inject"}},
		{"unknown value", []string{"--set", "wordpress.replicaCount=2"}, []string{"wordpress.replicaCount", "not a chart value"}},
		{"values file", []string{"-f", valuesFile("takeover.yaml", "store:\n  name: neighbour\nquota:\n  enabled: false\n")},
			[]string{"store.name", "quota.enabled"}},
		{"NUL in the title", []string{"-f", valuesFile("nul.yaml", "store:\n  title: \"Shop\\0X\"\n")}, []string{"store.title", "U+0000"}},
		{"newline in an environment value", []string{"-f", valuesFile("newline.yaml", "store:\n  city: \"Paris\\nEVIL=1\"\n")}, []string{"store.city", "U+000A"}},
		{"PHP in a size", []string{"--set", "wordpress.phpMemoryLimit=1');system('id"}, []string{"wordpress.phpMemoryLimit"}},
	}
	offline := writeKubeconfig(t, nil, "https://127.0.0.1:1", "x")
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			t.Parallel()
			name := uniqueStore("tenant")
			for _, kc := range []string{c.Kubeconfig, offline} {
				r := newRunner(t, kc)
				start := time.Now()
				res := r.run(append([]string{"create", name}, tt.args...)...)
				if res.code != 2 {
					t.Errorf("kubeconfig %s: exit %d, want 2\n%s", kc, res.code, res.stderr)
				}
				for _, w := range append(tt.want, "correct the chart value") {
					if !strings.Contains(res.stderr, w) {
						t.Errorf("message lacks %q:\n%s", w, res.stderr)
					}
				}
				if res.stdout != "" {
					t.Errorf("printed data: %q", res.stdout)
				}
				if took := time.Since(start); took > 10*time.Second {
					t.Errorf("refused after %s", took)
				}
				if recs := r.must("audit", "-o", "json").stdout; strings.TrimSpace(recs) != "[]" {
					t.Errorf("the refused create was recorded: %s", recs)
				}
			}
			if namespaceExists(t, c, name) {
				t.Errorf("the refused create left namespace store-%s behind", name)
				newRunner(t, c.Kubeconfig).run("delete", name, "--yes", "--ignore-not-found")
			}
		})
	}
}

// An operator opens an isolation value to users in storectl's configuration, and only then
// does a user's quota reach the store; the user's own values (an allowed Ingress annotation)
// reach it too, while the host name stays <name>.<domain>.
func TestOperatorOpensIsolationInConfiguration(t *testing.T) {
	c := testcluster.Require(t)
	t.Parallel()
	name := uniqueStore("opened")
	args := []string{"create", name, "--wait=false", "--set", "quota.hard.pods=7",
		"--set", `ingress.annotations.nginx\.ingress\.kubernetes\.io/proxy-body-size=128m`}

	closed := newRunner(t, c.Kubeconfig)
	if res := closed.run(args...); res.code != 2 || !strings.Contains(res.stderr, "quota.hard.pods") {
		t.Fatalf("without the setting: exit %d, want 2 naming quota.hard.pods\n%s", res.code, res.stderr)
	}
	// Values cannot open it themselves.
	if res := closed.run(append(args, "--set", "tenant-isolation-overrides=quota")...); res.code != 2 {
		t.Fatalf("a value naming the setting: exit %d, want 2\n%s", res.code, res.stderr)
	}

	r := newRunner(t, c.Kubeconfig)
	configure(t, r, "tenant-isolation-overrides: [quota]\n")
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
	r.must(args...)
	ctx := context.Background()
	ns := "store-" + name
	quotas, err := c.Client.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(quotas.Items) != 1 {
		t.Fatalf("quotas of %s: %v, %v", ns, quotas, err)
	}
	if pods := quotas.Items[0].Spec.Hard["pods"]; pods.String() != "7" {
		t.Errorf("quota pods = %s, want 7 from the user's value", pods.String())
	}
	ings, err := c.Client.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(ings.Items) != 1 {
		t.Fatalf("ingresses of %s: %v", ns, err)
	}
	ing := ings.Items[0]
	if got := ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"]; got != "128m" {
		t.Errorf("proxy-body-size = %q, want the user's 128m", got)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != name+".127.0.0.1.nip.io" {
		t.Errorf("ingress rules = %+v, want the host %s.127.0.0.1.nip.io", ing.Spec.Rules, name)
	}
	// A group the operator did not open stays closed.
	other := uniqueStore("opened")
	if res := r.run("create", other, "--set", "limitRange.enabled=false"); res.code != 2 || !strings.Contains(res.stderr, "limitRange.enabled") {
		t.Errorf("limitRange with only quota opened: exit %d\n%s", res.code, res.stderr)
	}
	// The setting names isolation groups only; the store's identity is never opened.
	bad := newRunner(t, c.Kubeconfig)
	configure(t, bad, "tenant-isolation-overrides: [store.name]\n")
	if res := bad.run("create", other, "--set", "store.name=x"); res.code != 2 || !strings.Contains(res.stderr, `invalid tenant-isolation-overrides "store.name"`) {
		t.Errorf("opening store.name: exit %d\n%s", res.code, res.stderr)
	}
	if namespaceExists(t, c, other) {
		t.Errorf("namespace store-%s was created", other)
	}
}

// Files that never end or are too large are refused with exit 2 and a message naming the
// file and the limit, within seconds, without reading them until memory runs out and
// without a Go stack dump.
func TestUnboundedInputsAreRefused(t *testing.T) {
	c := testcluster.Require(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token-dev-zero.kubeconfig")
	kc, err := os.ReadFile(writeKubeconfig(t, c, c.Config.Host, "unused"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(strings.Replace(string(kc), "token: unused", "tokenFile: /dev/zero", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		what       string
		kubeconfig string
		args       []string
		want       []string
	}{
		{"kubeconfig flag /dev/zero", "", []string{"--kubeconfig", "/dev/zero"}, []string{"/dev/zero", "not a regular file"}},
		{"KUBECONFIG /dev/zero", "/dev/zero", nil, []string{"/dev/zero", "not a regular file"}},
		{"kubeconfig token file /dev/zero", tokenFile, nil, []string{"tokenFile", "/dev/zero"}},
		{"config /dev/zero", "", []string{"--config", "/dev/zero"}, []string{"config file /dev/zero", "larger than 1 MiB"}},
		{"large config", "", []string{"--config", big}, []string{"config file " + big, "larger than 1 MiB"}},
		{"values /dev/urandom", "", []string{"-f", "/dev/urandom"}, []string{"--values file /dev/urandom", "larger than 1 MiB"}},
		{"values /dev/zero", "", []string{"--values", "/dev/zero"}, []string{"--values file /dev/zero", "larger than 1 MiB"}},
		{"large values", "", []string{"-f", big}, []string{"larger than 1 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			t.Parallel()
			kubeconfig := tt.kubeconfig
			if kubeconfig == "" {
				kubeconfig = c.Kubeconfig
			}
			r := newRunner(t, kubeconfig)
			name := uniqueStore("bounded")
			start := time.Now()
			res := r.run(append([]string{"create", name}, tt.args...)...)
			took := time.Since(start)
			t.Logf("exit %d after %s: %s", res.code, took.Round(time.Millisecond), lastLine(res.stderr))
			if res.code != 2 {
				t.Errorf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("message lacks %q:\n%s", w, res.stderr)
				}
			}
			if strings.Contains(res.stderr, "goroutine ") || strings.Contains(res.stderr, "runtime:") {
				t.Errorf("a stack dump reached stderr:\n%.2000s", res.stderr)
			}
			if took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			if namespaceExists(t, c, name) {
				t.Errorf("namespace store-%s was created", name)
			}
		})
	}
}
