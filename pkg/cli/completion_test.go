package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/store"
)

// completionFiles maps each shell to its committed script under completions/.
var completionFiles = map[string]string{
	"bash":       "storectl.bash",
	"zsh":        "storectl.zsh",
	"fish":       "storectl.fish",
	"powershell": "storectl.powershell",
}

// The committed completion scripts are what `storectl completion <shell>` prints today.
// go test ./pkg/cli -run TestCompletionScriptsUpToDate -update regenerates them.
func TestCompletionScriptsUpToDate(t *testing.T) {
	t.Parallel()
	for _, shell := range CompletionShells {
		h := newHarness(t, false)
		if code := h.run("completion", shell); code != 0 {
			t.Fatalf("completion %s: exit %d: %s", shell, code, h.stderr())
		}
		got := h.stdout()
		if !strings.Contains(got, "storectl") || len(got) < 1000 {
			t.Fatalf("completion %s printed no script: %q", shell, got)
		}
		path := filepath.Join("..", "..", "completions", completionFiles[shell])
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (regenerate with: go test ./pkg/cli -run TestCompletionScriptsUpToDate -update)", err)
		}
		if string(want) != got {
			t.Errorf("%s is stale: regenerate with go test ./pkg/cli -run TestCompletionScriptsUpToDate -update", path)
		}
	}
}

func TestCompletionNeedsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.f.Config, h.f.Engine, h.f.Cluster, h.f.Audit = nil, nil, nil, nil // any use would panic
	if code := h.run("completion", "bash"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		h := newHarness(t, false)
		if code := h.run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestDynamicStoreNameCompletion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
	if code := h.run("__complete", "get", "s"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	lines := strings.Split(strings.TrimSpace(h.stdout()), "\n")
	if len(lines) != 2 || lines[0] != "shop\tReady" || lines[1] != ":4" {
		t.Errorf("completion of 'get s': %q", h.stdout())
	}

	// delete takes several names and does not offer one twice.
	h = newHarness(t, false)
	h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
	h.run("__complete", "delete", "shop", "")
	if out := h.stdout(); strings.Contains(out, "shop\t") || !strings.Contains(out, "outlet\t") || !strings.Contains(out, "new\t") {
		t.Errorf("completion after 'delete shop': %q", out)
	}

	// get takes one name: nothing after the first.
	h = newHarness(t, false)
	h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
	h.run("__complete", "get", "shop", "")
	if strings.Contains(h.stdout(), "\t") {
		t.Errorf("completion after 'get shop': %q", h.stdout())
	}
}

func TestDynamicCompletionGivesUpQuickly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	release := make(chan struct{})
	defer close(release)
	h.eng.list = func(ctx context.Context, _ store.ListOptions) ([]store.Store, error) {
		<-release // an API server that never answers and ignores the context
		return nil, nil
	}
	start := time.Now()
	h.run("__complete", "get", "")
	if d := time.Since(start); d > completionTimeout+time.Second {
		t.Errorf("completion took %v", d)
	}
	if strings.Contains(h.stdout(), "\t") {
		t.Errorf("completion offered names from nowhere: %q", h.stdout())
	}
	var b bytes.Buffer
	b.WriteString(h.stderr())
	if strings.Contains(b.String(), "Error") {
		t.Errorf("completion printed an error: %q", b.String())
	}
}

func TestContextHelpAndAuditCompletion(t *testing.T) {
	t.Parallel()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: prod-eu, context: {cluster: c, user: u}}, {name: dev, context: {cluster: c, user: u}}, {name: prod-us, context: {cluster: c, user: u}}]
current-context: dev
`), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, false)
	h.f.Config = func() (*config.Config, error) { return &config.Config{Kubeconfig: kc}, nil }
	h.run("__complete", "list", "--context", "prod")
	if got := h.stdout(); got != "prod-eu\nprod-us\n:4\n" {
		t.Errorf("--context prod<TAB>: %q", got)
	}

	h = newHarness(t, false)
	h.run("__complete", "help", "ex")
	if got := h.stdout(); !strings.HasPrefix(got, "exit-codes\t") {
		t.Errorf("help ex<TAB>: %q", got)
	}
	h = newHarness(t, false)
	h.run("__complete", "help", "")
	if got := h.stdout(); !strings.Contains(got, "exit-codes\t") || !strings.Contains(got, "create\t") {
		t.Errorf("help <TAB>: %q", got)
	}

	// audit --store offers the stores of the audit log, deleted ones too, not the cluster's.
	h = newHarness(t, false)
	for _, r := range []audit.Record{
		{Action: "create", Store: "gone", Outcome: "succeeded"},
		{Action: "delete", Store: "gone", Outcome: "succeeded"},
		{Action: "create", Store: "shop", Outcome: "failed"},
	} {
		_ = h.audit.Append(r)
	}
	h.run("__complete", "audit", "--store", "")
	if got := h.stdout(); got != "shop\tlast create failed\ngone\tlast delete succeeded\n:4\n" {
		t.Errorf("audit --store <TAB>: %q", got)
	}
	if calls := h.eng.Calls(); len(calls) != 0 {
		t.Errorf("audit --store completion asked the cluster: %v", calls)
	}
}
