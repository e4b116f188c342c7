package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
