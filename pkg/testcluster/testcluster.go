// Package testcluster gives tests a real Kubernetes API server: the storectl sandbox of hack/testcluster.sh.
//
// A test package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(testcluster.Run(m)) }
//
// and each test calls Require to get the cluster. Run uses the sandbox when one
// is already up, and otherwise starts it and stops it again once the last test
// process that needed it is done (several test packages run at once under
// `go test ./...`; the script counts them). A sandbox started by hand with
// `make sandbox` is never stopped by tests.
//
// Environment:
//   - STORECTL_TEST_KUBECONFIG: use this kubeconfig and leave the cluster's lifecycle alone.
//   - STORECTL_SKIP_CLUSTER=1: tests that call Require are skipped.
package testcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeVersion is the Kubernetes version the sandbox runs; its kubectl is cached under it.
const KubeVersion = "v1.37.2"

// Cluster is a running cluster that tests may use.
type Cluster struct {
	// Kubeconfig is the path of an admin kubeconfig for the cluster.
	Kubeconfig string
	// Config is the REST configuration read from Kubeconfig.
	Config *rest.Config
	// Client is a clientset built from Config.
	Client kubernetes.Interface

	// script is hack/testcluster.sh when the cluster is a sandbox, else "".
	script string
	// env is the environment the script runs with; a private sandbox has
	// its own state directory in it.
	env []string
}

var (
	mu        sync.Mutex
	current   *Cluster
	runErr    error
	runCalled bool
)

// Run prepares the cluster for a test package, runs its tests and lets go of
// the cluster afterwards. It returns the exit code for os.Exit.
//
// When the cluster cannot be had, Run still runs the tests, so that each one
// that calls Require fails with the reason.
func Run(m *testing.M) int {
	mu.Lock()
	runCalled = true
	mu.Unlock()
	if os.Getenv("STORECTL_SKIP_CLUSTER") == "1" {
		return m.Run()
	}

	c, release, err := acquire()
	mu.Lock()
	current, runErr = c, err
	mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		return m.Run()
	}
	code := m.Run()
	if err := release(); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Require returns the cluster of the test package. It skips the test only
// when STORECTL_SKIP_CLUSTER=1 and fails it when no cluster is available.
func Require(t testing.TB) *Cluster {
	t.Helper()
	if os.Getenv("STORECTL_SKIP_CLUSTER") == "1" {
		t.Skip("STORECTL_SKIP_CLUSTER=1: skipping a test that needs the test cluster")
	}
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		return current
	}
	if runErr != nil {
		t.Fatalf("no test cluster: %v", runErr)
	}
	if !runCalled {
		// Without TestMain nobody would stop a sandbox started here, so only
		// one that is already running (or STORECTL_TEST_KUBECONFIG) will do.
		c, err := existing()
		if err != nil {
			t.Fatalf("no test cluster: %v; call testcluster.Run from TestMain, or start the sandbox with: make sandbox", err)
		}
		current = c
		return c
	}
	t.Fatal("no test cluster")
	return nil
}

func acquire() (*Cluster, func() error, error) {
	if path := os.Getenv("STORECTL_TEST_KUBECONFIG"); path != "" {
		c, err := fromKubeconfig(path, sandboxScriptFor(path))
		return c, func() error { return nil }, err
	}
	script, err := scriptPath()
	if err != nil {
		return nil, nil, err
	}
	pid := strconv.Itoa(os.Getpid())
	out, err := runScript(script, "acquire", pid)
	if err != nil {
		return nil, nil, fmt.Errorf("start the sandbox: %w", err)
	}
	c, err := fromKubeconfig(lastLine(out), script)
	if err != nil {
		_, _ = runScript(script, "release", pid)
		return nil, nil, err
	}
	release := func() error {
		if _, err := runScript(script, "release", pid); err != nil {
			return fmt.Errorf("release the sandbox: %w", err)
		}
		return nil
	}
	return c, release, nil
}

func existing() (*Cluster, error) {
	if path := os.Getenv("STORECTL_TEST_KUBECONFIG"); path != "" {
		return fromKubeconfig(path, sandboxScriptFor(path))
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	out, err := runScript(script, "kubeconfig")
	if err != nil {
		return nil, err
	}
	return fromKubeconfig(lastLine(out), script)
}

// sandboxScriptFor returns the script when kubeconfig is the sandbox's own,
// so that StopAPIServer acts on the cluster the tests use and no other.
func sandboxScriptFor(kubeconfig string) string {
	script, err := scriptPath()
	if err != nil {
		return ""
	}
	out, err := runScript(script, "kubeconfig")
	if err != nil || filepath.Clean(lastLine(out)) != filepath.Clean(kubeconfig) {
		return ""
	}
	return script
}

func fromKubeconfig(path, script string) (*Cluster, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	// Tests create and watch a lot at once; the client-side limiter would
	// only slow them down against a cluster of their own.
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.Discovery().RESTClient().Get().AbsPath("/version").DoRaw(ctx); err != nil {
		return nil, fmt.Errorf("cluster of %s does not answer: %w", path, err)
	}
	return &Cluster{Kubeconfig: path, Config: cfg, Client: client, script: script}, nil
}

// RepoRoot returns the root of the storectl module, found by walking up from
// the working directory, which `go test` sets to the package's directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isStorectlModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the storectl repository (no go.mod of module github.com/storectl/storectl above the working directory)")
		}
		dir = parent
	}
}

func isStorectlModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == "github.com/storectl/storectl"
		}
	}
	return false
}

func scriptPath() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "hack", "testcluster.sh"), nil
}

// runScript runs hack/testcluster.sh and returns its stdout; its progress
// messages go to the test binary's stderr.
func runScript(script string, args ...string) (string, error) {
	return runScriptEnv(nil, script, args...)
}

func runScriptEnv(env []string, script string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = env
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w", filepath.Base(script), strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// KubectlPath returns the pinned kubectl the sandbox was built with, or
// "kubectl" from PATH when it has not been built.
func KubectlPath() string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	path := filepath.Join(cache, "storectl-testcluster", "kube-"+KubeVersion, "kubectl")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	return "kubectl"
}

// Kubectl runs kubectl against the cluster and returns its standard output;
// the test fails if kubectl does.
func (c *Cluster) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(KubectlPath(), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// StopAPIServer stops kube-apiserver alone, leaving etcd, the controllers and
// the simulated nodes running, as in a control-plane restart. The API server
// is started again when the test ends if the test has not done so itself.
// The test is skipped when the cluster is not the sandbox.
func (c *Cluster) StopAPIServer(t testing.TB) {
	t.Helper()
	if c.script == "" {
		t.Skip("stopping the API server needs the sandbox of hack/testcluster.sh")
	}
	if _, err := runScriptEnv(c.env, c.script, "apiserver", "stop"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := runScriptEnv(c.env, c.script, "apiserver", "start"); err != nil {
			t.Errorf("start the API server again: %v", err)
		}
	})
}

// StartAPIServer starts kube-apiserver again after StopAPIServer and returns
// once it serves requests.
func (c *Cluster) StartAPIServer(t testing.TB) {
	t.Helper()
	if c.script == "" {
		t.Skip("starting the API server needs the sandbox of hack/testcluster.sh")
	}
	if _, err := runScriptEnv(c.env, c.script, "apiserver", "start"); err != nil {
		t.Fatal(err)
	}
}

// Private starts a sandbox for the calling test alone, with its own state
// directory and ports, and stops it when the test ends. It takes some ten
// seconds and as much memory as the shared sandbox; use it for tests that
// disrupt the control plane (StopAPIServer) or count everything of a kind on
// the cluster (every store), which would otherwise fail or skew the tests
// sharing the sandbox at that moment.
func Private(t testing.TB) *Cluster {
	t.Helper()
	if os.Getenv("STORECTL_SKIP_CLUSTER") == "1" {
		t.Skip("STORECTL_SKIP_CLUSTER=1: skipping a test that needs a test cluster")
	}
	script, err := scriptPath()
	if err != nil {
		t.Fatal(err)
	}
	// Short, so that the paths below it stay readable in logs.
	state, err := os.MkdirTemp("", "storectl-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "XDG_STATE_HOME="+state)
	t.Cleanup(func() {
		if _, err := runScriptEnv(env, script, "down"); err != nil {
			t.Errorf("stop the private sandbox: %v", err)
		}
		if err := os.RemoveAll(state); err != nil {
			t.Errorf("remove the private sandbox state: %v", err)
		}
	})
	out, err := startPrivate(env, script)
	if err != nil {
		t.Fatalf("start a private sandbox: %v", err)
	}
	// Should the test binary die before its cleanups run, this stops the
	// sandbox all the same.
	if _, err := runScriptEnv(env, script, "guard", strconv.Itoa(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	c, err := fromKubeconfig(lastLine(out), script)
	if err != nil {
		t.Fatal(err)
	}
	c.env = env
	return c
}

// startPrivate runs `up` for a private sandbox, one at a time on the machine:
// tests of several packages ask for one at the same moment, and control
// planes booting together on a busy machine each take so long that they miss
// the start deadline, where one after the other each is up in seconds.
func startPrivate(env []string, script string) (string, error) {
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "storectl-private-sandbox.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close() // closing lets go of the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("wait for other private sandboxes to start: %w", err)
	}
	return runScriptEnv(env, script, "up")
}

// NewNamespace creates a namespace with a unique name starting with prefix
// and the given labels, and deletes it when the test ends. It returns once
// the controllers have given the namespace its default ServiceAccount, so
// that pods can be created in it at once (until then admission refuses them).
func (c *Cluster) NewNamespace(t testing.TB, prefix string, labels map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := c.Client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("waiting for the default ServiceAccount of namespace %s: %v", ns.Name, err)
	}
	return ns.Name
}
