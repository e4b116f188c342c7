package kube

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: prod
  context: {cluster: c, user: u}
- name: dev
  context: {cluster: c, user: u}
current-context: %s
users:
- name: u
  user: {token: t}
`

func writeKubeconfig(t *testing.T, current string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(twoContexts, current)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// What a newcomer meets when the kubeconfig selects no cluster: the files looked for, the
// contexts that exist, and how to choose.
func TestNewClientsExplainsTheKubeconfig(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	dir := t.TempDir()
	missing := filepath.Join(dir, "a") + string(os.PathListSeparator) + filepath.Join(dir, "b")
	good := writeKubeconfig(t, "dev")
	for _, tt := range []struct {
		name, kubeconfigEnv, path, context string
		want                               []string
	}{
		{"no file", missing, "", "", []string{"no kubeconfig found: looked for " + filepath.Join(dir, "a") + ", " + filepath.Join(dir, "b"), "--kubeconfig <file> or KUBECONFIG=<file>"}},
		{"missing --kubeconfig", "", filepath.Join(dir, "nope"), "", []string{"kubeconfig " + filepath.Join(dir, "nope") + " does not exist"}},
		{"unknown context", "", good, "staging", []string{`context "staging" is not in the kubeconfig`, "its contexts are: dev, prod"}},
		{"dangling current context", "", writeKubeconfig(t, "gone"), "", []string{`current context "gone" does not exist`, "--context", "dev, prod"}},
		{"no current context", "", writeKubeconfig(t, `""`), "", []string{"sets no current context", "dev, prod"}},
	} {
		t.Setenv("KUBECONFIG", tt.kubeconfigEnv)
		_, err := NewClients(tt.path, tt.context)
		if Classify(err) != KindConfig {
			t.Errorf("%s: %v is not a config error", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tt.name, err, w)
			}
		}
	}
	if _, err := NewClients(good, "prod"); err != nil {
		t.Errorf("an existing context: %v", err)
	}
	names, err := ContextNames(good)
	if err != nil || strings.Join(names, ",") != "dev,prod" {
		t.Errorf("ContextNames = %v, %v", names, err)
	}
}

// An unreachable server is named by its URL, not by the request's URL and label selector.
func TestWithServerNamesTheServer(t *testing.T) {
	t.Parallel()
	cause := &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/api/v1/namespaces?labelSelector=a%3Db", Err: syscall.ECONNREFUSED}
	err := WithServer(fmt.Errorf("list store namespaces: %w", cause), "https://10.0.0.1:6443")
	want := "list store namespaces: cannot reach the API server https://10.0.0.1:6443: connection refused"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || Classify(err) != KindUnreachable {
		t.Errorf("the rewritten error lost what it wraps: %v", err)
	}
	other := errors.New("quota exceeded")
	if got := WithServer(other, "https://x"); !errors.Is(got, other) || got.Error() != other.Error() || WithServer(nil, "https://x") != nil {
		t.Error("errors that are not about reaching the server must pass unchanged")
	}
}

// In a pod, no kubeconfig is no mistake: the pod's ServiceAccount is the identity (storectl
// serve in a cluster). Outside one it is explained, as above.
func TestInClusterNeedsNoKubeconfig(t *testing.T) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = ""
	t.Setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
	if err := checkSelection(rules, &clientcmdapi.Config{}, ""); err != nil {
		t.Errorf("in a pod without a kubeconfig: %v", err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if err := checkSelection(rules, &clientcmdapi.Config{}, ""); err == nil {
		t.Error("outside a pod, no kubeconfig passed")
	}
}
