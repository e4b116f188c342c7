package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelRevision is on the setup Job: the release revision that rendered it.
const LabelRevision = "storectl.dev/revision"

// SetupJobName is the setup Job of a store's revision, as the chart names it. Every revision
// has its own: an upgrade or a rollback runs the setup again, and Helm deletes the previous
// revision's Job when it applies the next one.
func SetupJobName(store string, revision int) string {
	return fmt.Sprintf("%s-setup-r%d", store, revision)
}

// legacySetupJob is the setup Job of a store made with a chart that ran the setup as a Helm
// hook (chart 0.1.0): one Job for every revision, which Helm waited for, so that a release
// stayed pending until the Job ended.
func legacySetupJob(store string) string { return store + "-setup" }

// hookCharts are the chart versions whose setup Job is a Helm hook.
var hookCharts = map[string]bool{"0.1.0": true}

// hookSetup reports whether the revision being judged runs its setup as a hook. Without the
// chart version (List reads only the storage labels) the Jobs decide: a store with its
// legacy Job and none of the revision's own is a hook store.
func hookSetup(s Snapshot) bool {
	if v := s.Release.ChartVersion; v != "" {
		return hookCharts[v]
	}
	legacy := false
	for i := range s.Jobs {
		switch s.Jobs[i].Name {
		case SetupJobName(s.Name, s.Release.Revision):
			return false
		case legacySetupJob(s.Name):
			legacy = true
		}
	}
	return legacy
}

// setupJobOf returns the name of the setup Job of the revision being judged, "" when the
// store has no release yet.
func setupJobOf(s Snapshot) string {
	switch {
	case s.Release == nil || s.Release.Revision == 0:
		return ""
	case hookSetup(s):
		return legacySetupJob(s.Name)
	}
	return SetupJobName(s.Name, s.Release.Revision)
}

// currentJob returns the setup Job of the revision being judged: the Job named for it, not
// being deleted and not left from before the apply being watched (StaleJobs). A hook Job
// created before a pending revision started belongs to an earlier attempt (Helm replaces it
// when the hook runs) and must not decide anything either.
func currentJob(s Snapshot) *batchv1.Job {
	name := setupJobOf(s)
	var j *batchv1.Job
	for i := range s.Jobs {
		if name != "" && s.Jobs[i].Name == name {
			j = &s.Jobs[i]
			break
		}
	}
	if j == nil || j.DeletionTimestamp != nil || s.StaleJobs[j.UID] {
		return nil
	}
	if name == legacySetupJob(s.Name) && s.Release.Pending() && !s.Release.LastDeployed.IsZero() &&
		j.CreationTimestamp.Time.Before(s.Release.LastDeployed.Truncate(time.Second)) {
		return nil
	}
	return j
}

// jobRevision is the revision a setup Job was rendered for, 0 for a hook Job.
func jobRevision(j *batchv1.Job) int {
	n, err := strconv.Atoi(j.Labels[LabelRevision])
	if err != nil {
		return 0
	}
	return n
}

// staleSetupJobs returns the setup Jobs a deployed revision no longer needs: earlier
// revisions' Jobs that Helm did not delete (a failed revision's, which Helm does not diff
// against) and the hook Job of a store made with chart 0.1.0. Nothing is stale before the
// current revision's own Job exists, nor while a revision is being applied.
func staleSetupJobs(s Snapshot) []batchv1.Job {
	if s.Release == nil || s.Release.Pending() || hookSetup(s) {
		return nil
	}
	cur := SetupJobName(s.Name, s.Release.Revision)
	found := false
	var out []batchv1.Job
	for _, j := range s.Jobs {
		switch {
		case j.Name == cur:
			found = true
		case j.DeletionTimestamp != nil || componentOf(j.Labels) != ComponentSetup:
		case j.Name == legacySetupJob(s.Name),
			strings.HasPrefix(j.Name, s.Name+"-setup-r") && jobRevision(&j) > 0 && jobRevision(&j) < s.Release.Revision:
			out = append(out, j)
		}
	}
	if !found {
		return nil
	}
	return out
}

// removeStaleSetupJobs deletes what staleSetupJobs returns, with their pods; the caller
// holds the store's lock. It is best effort: a Job left behind is deleted by the next
// operation that finds it.
func (e *Engine) removeStaleSetupJobs(ctx context.Context, s Snapshot) {
	policy := metav1.DeletePropagationBackground
	for _, j := range staleSetupJobs(s) {
		uid := j.UID
		err := e.kube.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &policy,
			Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return
		}
	}
}
