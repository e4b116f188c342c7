package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func (b *bench) command(ctx context.Context, kubeconfig string, extra []string, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(append([]string(nil), b.env...), "KUBECONFIG="+kubeconfig), extra...)
	return cmd
}

// prepareHelm makes what helm needs to install the chart as storectl installed store from,
// under the name to: the namespace with the same Pod Security labels, a copy of the
// credentials Secret, and storectl's values with the name replaced. It returns the values file.
func (b *bench) prepareHelm(ctx context.Context, from, to string) (string, error) {
	r, err := b.helmRun(ctx, "get", "values", from, "-n", "store-"+from, "-o", "json")
	if err != nil {
		return "", err
	}
	values := filepath.Join(b.dir, to+".values.json")
	if err := os.WriteFile(values, []byte(strings.ReplaceAll(r.stdout, from, to)), 0o600); err != nil {
		return "", err
	}
	src, err := b.client.CoreV1().Namespaces().Get(ctx, "store-"+from, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	labels := map[string]string{}
	for k, v := range src.Labels {
		if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			labels[k] = v
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "store-" + to, Labels: labels}}
	if _, err := b.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	b.made["ns/store-"+to] = true
	sec, err := b.client.CoreV1().Secrets("store-"+from).Get(ctx, from+"-credentials", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	cp := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: to + "-credentials", Namespace: "store-" + to}, Type: sec.Type, Data: sec.Data}
	if _, err := b.client.CoreV1().Secrets("store-"+to).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	return values, nil
}

func (b *bench) helmInstallArgs(name, values string) []string {
	return []string{"install", name, b.chart, "-n", "store-" + name, "-f", values, "--wait", "--wait-for-jobs", "--timeout", "8m"}
}

func (b *bench) helmInstall(ctx context.Context, name, values string) (runResult, error) {
	return b.helmRun(ctx, b.helmInstallArgs(name, values)...)
}

// dropHelm deletes the namespaces made for helm, and with wait, waits until they are gone
// so that helm list -A counts the same releases as storectl list.
func (b *bench) dropHelm(ctx context.Context, wait bool) error {
	var names []string
	for k := range b.made {
		if ns, ok := strings.CutPrefix(k, "ns/"); ok {
			names = append(names, ns)
		}
	}
	for _, ns := range names {
		err := b.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	if !wait {
		return nil
	}
	deadline := time.Now().Add(5 * time.Minute)
	for _, ns := range names {
		for {
			_, err := b.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				delete(b.made, "ns/"+ns)
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("namespace %s still exists after 5m", ns)
			}
			if err := sleep(ctx, time.Second); err != nil {
				return err
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// stores returns the storectl stores the bench made that exist.
func (b *bench) stores() []string {
	var out []string
	for k := range b.made {
		if s, ok := strings.CutPrefix(k, "store/"); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// growFleet creates stores with storectl (not waiting for them) until there are n, -grow
// at a time, and waits until their pods exist, so that list and get see a settled cluster.
// The stores are real ones, made as a user makes them, so that list and get read what a
// fleet of that size holds: workloads, pods, events and release records.
func (b *bench) growFleet(ctx context.Context, n int) error {
	have := len(b.stores())
	if have >= n {
		return nil
	}
	if err := b.ensureNodes(ctx, n); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.grow)
	for i := have; i < n; i++ {
		name := fmt.Sprintf("%sf%03d", b.prefix, i)
		b.made["store/"+name] = true
		g.Go(func() error {
			_, err := b.storectl(gctx, "create", name, "--wait=false", "--timeout", "5m")
			return err
		})
	}
	started := time.Now()
	if err := g.Wait(); err != nil {
		return err
	}
	b.logf("%d stores created in %s", n-have, time.Since(started).Round(time.Second))
	return b.settle(ctx, n)
}

// settle waits until the stores' pods number at least two per store and have not changed
// for two checks a second apart.
func (b *bench) settle(ctx context.Context, n int) error {
	last, stable := -1, 0
	deadline := time.Now().Add(3 * time.Minute)
	for stable < 2 && time.Now().Before(deadline) {
		pods, err := b.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=storectl"})
		if err != nil {
			return err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded {
				running++
			}
		}
		if running == last && running >= 2*n {
			stable++
		} else {
			stable = 0
		}
		last = running
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	b.logf("%d stores, %d pods running or done", n, last)
	return nil
}

// ensureNodes adds simulated nodes to a private sandbox so that a fleet of n stores fits
// (a store requests about 0.4 CPU and 1 GiB; a sandbox node has 4 CPUs and 16 GiB).
func (b *bench) ensureNodes(ctx context.Context, stores int) error {
	if b.o.kubeconfig != "" {
		return nil // never add nodes to a cluster the bench does not own
	}
	tmpl, err := b.client.CoreV1().Nodes().Get(ctx, "sandbox-worker-1", metav1.GetOptions{})
	if err != nil {
		return err
	}
	for i := range stores/8 + 1 {
		name := fmt.Sprintf("bench-worker-%d", i)
		labels := map[string]string{}
		for k, v := range tmpl.Labels {
			labels[k] = v
		}
		labels["kubernetes.io/hostname"] = name
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}}}
		if _, err := b.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// deleteMade removes what the bench made on a cluster it does not own.
func (b *bench) deleteMade() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if s := b.stores(); len(s) > 0 {
		if _, err := b.storectl(ctx, append([]string{"delete", "--yes", "--ignore-not-found"}, s...)...); err != nil {
			b.logf("delete the bench's stores: %v", err)
		}
	}
	if err := b.dropHelm(ctx, false); err != nil {
		b.logf("delete the bench's helm namespaces: %v", err)
	}
}
