package store

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBackgroundOf(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	deploy := func(cron, mail string) appsv1.Deployment {
		return appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "shop-wordpress", Labels: compLabels("shop", ComponentWordPress),
			Annotations: map[string]string{AnnotationCron: cron, AnnotationMail: mail}}}
	}
	run := func(name string, at time.Time, cond batchv1.JobConditionType) batchv1.Job {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: compLabels("shop", ComponentCron), CreationTimestamp: metav1.NewTime(at)},
			Status: batchv1.JobStatus{StartTime: &metav1.Time{Time: at}}}
		if cond != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"}}
			j.Status.CompletionTime = &metav1.Time{Time: at.Add(time.Minute)}
		}
		return j
	}
	setup := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "shop-setup", Labels: compLabels("shop", ComponentSetup)},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}}}

	tests := []struct {
		name       string
		snap       Snapshot
		state      string
		failedRuns int
		success    time.Time
	}{
		{"not deployed", Snapshot{Name: "shop"}, BackgroundWaiting, 0, time.Time{}},
		{"off", Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("off", "off")}}, BackgroundOff, 0, time.Time{}},
		{"no run yet; the setup Job is not a run", Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("*/5 * * * *", "off")}, Jobs: []batchv1.Job{setup}}, BackgroundWaiting, 0, time.Time{}},
		{"last run succeeded", Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("*/5 * * * *", "off")},
			Jobs: []batchv1.Job{run("c2", t0.Add(5*time.Minute), batchv1.JobComplete), run("c1", t0, batchv1.JobFailed)}}, BackgroundOK, 0, t0.Add(6 * time.Minute)},
		{"failing since the last success", Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("*/5 * * * *", "off")},
			Jobs: []batchv1.Job{run("c3", t0.Add(10*time.Minute), batchv1.JobFailed), run("c1", t0, batchv1.JobComplete), run("c2", t0.Add(5*time.Minute), batchv1.JobFailed)}}, BackgroundFailing, 2, t0.Add(time.Minute)},
		{"runs created within one second are ordered by name", Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("*/5 * * * *", "off")},
			Jobs: []batchv1.Job{run("c3", t0, batchv1.JobFailed), run("c2", t0, batchv1.JobComplete)}}, BackgroundFailing, 1, t0.Add(time.Minute)},
		{"running", Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("*/5 * * * *", "off")},
			Jobs: []batchv1.Job{run("c1", t0, batchv1.JobComplete), run("c2", t0.Add(5*time.Minute), "")}}, BackgroundRunning, 0, t0.Add(time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backgroundOf(tt.snap)
			if b.State != tt.state || b.FailedRuns != tt.failedRuns || !b.LastSuccess.Equal(tt.success) {
				t.Errorf("got %+v, want state %s, %d failed runs, last success %v", b, tt.state, tt.failedRuns, tt.success)
			}
			if b.State == BackgroundFailing && b.Message != "run c3 failed: Job was active longer than specified deadline" {
				t.Errorf("message %q", b.Message)
			}
		})
	}
	if got := mailOf(Snapshot{Name: "shop", Deployments: []appsv1.Deployment{deploy("off", "smtp://mx:587 starttls from a@b.c")}}); got != "smtp://mx:587 starttls from a@b.c" {
		t.Errorf("mailOf = %q", got)
	}
}
