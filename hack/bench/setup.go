package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// bench holds what every measure needs.
type bench struct {
	o    options
	root string // the repository
	dir  string // scratch: audit log, config, helm's caches, values files
	bin  string // storectl
	// launcher runs each measured tool and reports its time and peak memory (hack/bench/launch)
	launcher string
	helm     string // the helm CLI
	chart    string // the chart storectl embeds, as a directory helm installs
	kcfg     string // kubeconfig of the cluster
	env      []string
	client   kubernetes.Interface
	finish   *finishWatcher
	proxy    *countingProxy
	res      *results
	prefix   string
	// made lists every store and helm release the bench made, by kind, for cleanup on a
	// cluster that is not private.
	made map[string]bool
	// oneCreate and oneDelete are storectl's single-store baselines (ms, runs).
	oneCreate float64
	oneDelete *Tool
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// setUp builds both tools, starts a private sandbox unless a kubeconfig is given, and
// starts the watcher and the counting proxy. cleanup undoes what was started.
func setUp(ctx context.Context, o options) (*bench, func(), error) {
	root, err := repoRoot()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "storectl-bench-")
	if err != nil {
		return nil, nil, err
	}
	b := &bench{o: o, root: root, dir: dir, chart: filepath.Join(root, "charts", "woocommerce"), res: newResults(),
		prefix: "bnch-", made: map[string]bool{}}
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		_ = os.RemoveAll(dir)
	}
	if b.launcher, err = buildLauncher(ctx, root, dir); err != nil {
		return nil, cleanup, err
	}
	if b.bin, err = buildStorectl(ctx, root, dir); err != nil {
		return nil, cleanup, err
	}
	if b.helm, b.res.HelmVersion, err = buildHelm(ctx, root); err != nil {
		return nil, cleanup, err
	}
	b.kcfg = o.kubeconfig
	if b.kcfg == "" {
		kcfg, stop, err := privateSandbox(ctx, root, dir)
		undo = append(undo, stop)
		if err != nil {
			return nil, cleanup, err
		}
		b.kcfg = kcfg
	} else {
		undo = append(undo, func() { b.deleteMade() })
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", b.kcfg)
	if err != nil {
		return nil, cleanup, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	if b.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, cleanup, err
	}
	if b.proxy, err = startProxy(cfg, filepath.Join(dir, "proxy.kubeconfig")); err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, b.proxy.close)
	if b.finish, err = startFinishWatcher(ctx, b.client); err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, b.finish.close)
	b.env = append(os.Environ(),
		"STORECTL_AUDIT_PATH="+filepath.Join(dir, "audit.db"),
		"STORECTL_MAX_STORES=100000",
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HELM_CACHE_HOME="+filepath.Join(dir, "helm-cache"),
		"HELM_CONFIG_HOME="+filepath.Join(dir, "helm-config"),
		"HELM_DATA_HOME="+filepath.Join(dir, "helm-data"),
		"NO_COLOR=1",
	)
	b.res.Machine = machine()
	return b, cleanup, nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if !strings.HasSuffix(mod, "go.mod") {
		return "", fmt.Errorf("run the bench inside the storectl module (go env GOMOD = %q)", mod)
	}
	return filepath.Dir(mod), nil
}

// buildLauncher builds the launcher every tool is run through (hack/bench/launch).
func buildLauncher(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "launch")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./hack/bench/launch")
	cmd.Dir, cmd.Stderr = root, os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the launcher: %w", err)
	}
	return bin, nil
}

// buildStorectl builds storectl as a release is built.
func buildStorectl(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "storectl")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/storectl/storectl/pkg/cli.version=bench", "-o", bin, "./cmd/storectl")
	cmd.Dir, cmd.Stderr = root, os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build storectl: %w", err)
	}
	return bin, nil
}

// buildHelm builds the helm CLI at the version of the Helm SDK in go.mod, from the module
// proxy, into the sandbox's binary cache, once per version.
func buildHelm(ctx context.Context, root string) (string, string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", "helm.sh/helm/v3")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("read the Helm version of go.mod: %w", err)
	}
	version := strings.TrimSpace(string(out))
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	dir := filepath.Join(cache, "storectl-testcluster", "helm-"+version)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin, version, nil
	}
	fmt.Fprintf(os.Stderr, "bench: building helm %s into %s (a few minutes, once)\n", version, dir)
	partial := dir + ".partial"
	_ = os.RemoveAll(partial)
	cmd = exec.CommandContext(ctx, "go", "install", "-trimpath",
		"-ldflags", "-s -w -X helm.sh/helm/v3/internal/version.version="+version, "helm.sh/helm/v3/cmd/helm@"+version)
	cmd.Dir, cmd.Stderr = os.TempDir(), os.Stderr
	cmd.Env = append(os.Environ(), "GOBIN="+partial, "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("build helm %s: %w", version, err)
	}
	if err := os.Rename(partial, dir); err != nil {
		return "", "", err
	}
	return bin, version, nil
}

// privateSandbox starts a sandbox of its own (hack/testcluster.sh with its own state
// directory), so that the fleet sizes are exact and nobody else's tests are slowed or
// counted; stop removes it with every store in it.
func privateSandbox(ctx context.Context, root, dir string) (string, func(), error) {
	script := filepath.Join(root, "hack", "testcluster.sh")
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	stop := func() {
		cmd := exec.Command(script, "down")
		cmd.Env, cmd.Stderr = env, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: stop the private sandbox: %v\n", err)
		}
	}
	t := time.Now()
	cmd := exec.CommandContext(ctx, script, "up")
	cmd.Env, cmd.Stderr = env, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", stop, fmt.Errorf("start a private sandbox: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	kcfg := lines[len(lines)-1]
	fmt.Fprintf(os.Stderr, "bench: private sandbox up in %s: %s\n", time.Since(t).Round(100*time.Millisecond), kcfg)
	return kcfg, stop, nil
}
