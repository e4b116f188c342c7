//go:build e2e

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/testcluster"
)

type backgroundJSON struct {
	Status     string `json:"status"`
	Mail       string `json:"mail"`
	Background struct {
		Schedule    string `json:"schedule"`
		State       string `json:"state"`
		LastSuccess string `json:"lastSuccess"`
		FailedRuns  int    `json:"failedRuns"`
		Message     string `json:"message"`
	} `json:"background"`
}

// A store with SMTP mail and its scheduled-events CronJob becomes Ready, and get reports
// both; runs of the CronJob (started here as `kubectl create job --from=cronjob/...` does)
// show up as they succeed and fail.
func TestBackgroundProcessingAndMailThroughTheBinary(t *testing.T) {
	t.Parallel()
	// A failed run is only seen once the Job controller gives up on its retries (backoff of
	// 10s, 20s, ...); a private control plane keeps that from queueing behind the suite.
	c := testcluster.Private(t)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := "e2e-cron-" + hex.EncodeToString(suffix)
	r := &storectlRunner{t: t, kubeconfig: c.Kubeconfig, auditPath: filepath.Join(t.TempDir(), "audit.db")}
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })

	r.must("create", name, "--timeout", "3m",
		"--set", "mail.enabled=true", "--set", "mail.host=smtp.example.com", "--set", "mail.from=shop@example.com",
		"--set", "mail.username=shop", "--set", "mail.authSecret.name=shop-smtp")
	got := decode[backgroundJSON](t, r.must("get", name, "-o", "json").stdout)
	if got.Status != "Ready" || got.Mail != "smtp://smtp.example.com:587 starttls from shop@example.com" ||
		got.Background.Schedule != "*/5 * * * *" || got.Background.State != "waiting" {
		t.Fatalf("get after create: %+v", got)
	}
	describe := r.must("get", name).stdout
	if !strings.Contains(describe, "Background:  waiting, schedule */5 * * * * (no run yet)") ||
		!strings.Contains(describe, "Mail:        smtp://smtp.example.com:587") {
		t.Errorf("get does not show background processing and mail:\n%s", describe)
	}

	ctx := context.Background()
	ns := "store-" + name
	cron, err := c.Client.BatchV1().CronJobs(ns).Get(ctx, name+"-cron", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	startRun := func(runName string, fault bool) {
		t.Helper()
		tmpl := cron.Spec.JobTemplate.DeepCopy()
		if fault {
			if tmpl.Spec.Template.Annotations == nil {
				tmpl.Spec.Template.Annotations = map[string]string{}
			}
			tmpl.Spec.Template.Annotations["sandbox.storectl.dev/fault"] = "job-fail"
		}
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: runName, Namespace: ns, Labels: tmpl.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cron.Name, UID: cron.UID, Controller: ptr.To(true)}}},
			Spec: tmpl.Spec,
		}
		if _, err := c.Client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(state string) backgroundJSON {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			b := decode[backgroundJSON](t, r.must("get", name, "-o", "json").stdout)
			if b.Background.State == state {
				return b
			}
			if time.Now().After(deadline) {
				t.Fatalf("background never became %s: %+v", state, b.Background)
			}
			time.Sleep(time.Second)
		}
	}

	startRun(name+"-cron-1", false)
	ok := waitFor("ok")
	if ok.Background.LastSuccess == "" || ok.Status != "Ready" {
		t.Errorf("after a successful run: %+v", ok)
	}

	startRun(name+"-cron-2", true)
	failing := waitFor("failing")
	if failing.Background.FailedRuns != 1 || failing.Background.LastSuccess != ok.Background.LastSuccess ||
		!strings.Contains(failing.Background.Message, name+"-cron-2 failed") {
		t.Errorf("after a failed run: %+v", failing.Background)
	}
	// A failing background run does not make the store itself fail.
	if failing.Status != "Ready" {
		t.Errorf("the store is %s after a failed cron run", failing.Status)
	}
}
