package store

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// ComponentCron labels the runs of a store's scheduled events. It is not one of the
// components a store waits for: a store is Ready before its first run.
const ComponentCron = "cron"

// Annotations the chart puts on its objects to say how the store is set up.
const (
	AnnotationCron = "storectl.dev/cron"
	AnnotationMail = "storectl.dev/mail"
	// AnnotationWooCommerceSource is on the setup Job: where its WooCommerce archive comes from.
	AnnotationWooCommerceSource = "storectl.dev/woocommerce-source"
)

// Background states.
const (
	BackgroundOff     = "off"
	BackgroundWaiting = "waiting"
	BackgroundRunning = "running"
	BackgroundOK      = "ok"
	BackgroundFailing = "failing"
)

// Background is the state of a store's background processing: the CronJob that runs
// WordPress's scheduled events and WooCommerce's Action Scheduler queue.
type Background struct {
	// Schedule is the cron expression, "" when background processing is off.
	Schedule string `json:"schedule"`
	// State is off, waiting (no run yet), running, ok (the last run succeeded) or failing
	// (the last run failed).
	State       string    `json:"state"`
	LastRun     time.Time `json:"lastRun,omitzero"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// FailedRuns counts the failed runs since the last success that Kubernetes still keeps.
	FailedRuns int    `json:"failedRuns"`
	Message    string `json:"message,omitempty"`
}

// backgroundOf reads a store's background processing from its snapshot: the schedule the
// chart recorded on the WordPress Deployment and the Jobs of its CronJob.
func backgroundOf(s Snapshot) Background {
	d := findDeploy(s.Deployments, s.Name+"-wordpress", ComponentWordPress)
	if d == nil {
		return Background{State: BackgroundWaiting, Message: "WordPress is not deployed yet"}
	}
	schedule := d.Annotations[AnnotationCron]
	if schedule == "" || schedule == BackgroundOff {
		return Background{State: BackgroundOff, Message: "scheduled events run only on visitors' requests"}
	}
	b := Background{Schedule: schedule, State: BackgroundWaiting, Message: "no run yet"}
	var runs []batchv1.Job
	for _, j := range s.Jobs {
		if componentOf(j.Labels) == ComponentCron {
			runs = append(runs, j)
		}
	}
	// Creation times have a resolution of a second; the CronJob names its runs after their
	// scheduled time, so the name orders runs created within one second.
	sort.Slice(runs, func(i, k int) bool {
		a, b := runs[i].CreationTimestamp, runs[k].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return runs[i].Name < runs[k].Name
	})
	for i := range runs {
		j := &runs[i]
		if j.Status.StartTime != nil {
			b.LastRun = j.Status.StartTime.Time
		}
		switch {
		case jobComplete(j):
			b.State, b.FailedRuns, b.Message = BackgroundOK, 0, ""
			b.LastSuccess = j.CreationTimestamp.Time
			if j.Status.CompletionTime != nil {
				b.LastSuccess = j.Status.CompletionTime.Time
			}
		case jobFailedCondition(j) != nil:
			c := jobFailedCondition(j)
			b.State = BackgroundFailing
			b.FailedRuns++
			b.Message = fmt.Sprintf("run %s failed: %s", j.Name, orDefault(c.Message, c.Reason))
		default:
			b.State, b.Message = BackgroundRunning, "run "+j.Name+" is running"
		}
	}
	return b
}

func jobFailedCondition(j *batchv1.Job) *batchv1.JobCondition {
	for i, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// mailOf reads how the store sends mail, as the chart recorded it on the WordPress
// Deployment: "off", or the SMTP server and sender (never a secret).
func mailOf(s Snapshot) string {
	if d := findDeploy(s.Deployments, s.Name+"-wordpress", ComponentWordPress); d != nil {
		return d.Annotations[AnnotationMail]
	}
	return ""
}
