//go:build e2e

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/store"
	"github.com/storectl/storectl/pkg/testcluster"
)

// list -w on the real API server: a store that appears is printed when the watch reports
// it, with no polling, and printed once more as Deleted when it is gone; Ctrl-C ends the
// watch with exit code 0. The store is a bare store namespace with a label only this test
// selects, so the test sees no other store and costs the cluster no pods.
func TestListWatchFollowsTheCluster(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	id := hex.EncodeToString(suffix)
	name := "e2e-watch-" + id
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cmd := exec.Command(storectlBinary(), "list", "-w", "-l", "e2e-watch="+id, "--no-headers")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "STORECTL_AUDIT_PATH="+t.TempDir()+"/audit.db")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		for !ok(stdout.String()) {
			if ctx.Err() != nil {
				t.Fatalf("list -w never showed %s:\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("that no store matches", func(string) bool { return strings.Contains(stderr.String(), "No stores found") })
	time.Sleep(time.Second) // the informers are listing; what follows must come from their watch

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: store.Namespace(name), Labels: map[string]string{
		store.LabelManagedBy: store.ManagedBy, store.LabelStore: name, store.LabelType: store.TypeWooCommerce, "e2e-watch": id}}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	waitFor("the new store", func(s string) bool { return strings.HasPrefix(s, name+" ") })
	if strings.Contains(stdout.String(), "NAME") {
		t.Errorf("--no-headers printed a header:\n%s", stdout.String())
	}

	if err := c.Client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("the store deleted", func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, name+" ") && strings.Contains(l, "Deleted") {
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("Ctrl-C must end a watch with exit 0: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "Error") {
		t.Errorf("stderr: %s", stderr.String())
	}
}
