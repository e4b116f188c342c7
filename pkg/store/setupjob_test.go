package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/storectl/storectl/pkg/release"
)

// hookJob is the setup Job of a store made with chart 0.1.0, whose setup was a Helm hook.
func hookJob(created time.Time, cond batchv1.JobConditionType) *batchv1.Job {
	j := job("shop", created, cond, "", "")
	j.Name = "shop-setup"
	delete(j.Labels, LabelRevision)
	return j
}

func TestStoreIsReadyOnlyWhenItsRevisionsSetupSucceeded(t *testing.T) {
	t.Parallel()
	rev2 := func(s *Snapshot) { s.Release.Revision = 2; s.Release.ChartVersion = "0.2.0" }
	tests := []struct {
		name   string
		mutate func(*Snapshot)
		phase  Phase
		setup  string // the setup component's state
	}{
		{name: "this revision's Job completed", phase: PhaseReady, setup: StateReady, mutate: func(s *Snapshot) {
			rev2(s)
			s.Jobs = []batchv1.Job{*jobOf("shop", 2, t0.Add(time.Second), batchv1.JobComplete, "", "")}
		}},
		{name: "only the previous revision's Job completed", phase: PhaseProvisioning, setup: StatePending, mutate: func(s *Snapshot) {
			rev2(s)
			s.Jobs = []batchv1.Job{*job("shop", t0, batchv1.JobComplete, "", "")}
		}},
		{name: "this revision's Job runs beside the previous one's", phase: PhaseProvisioning, setup: StateProgressing, mutate: func(s *Snapshot) {
			rev2(s)
			s.Jobs = []batchv1.Job{*job("shop", t0, batchv1.JobComplete, "", ""), *jobOf("shop", 2, t0.Add(time.Second), "", "", "")}
		}},
		{name: "this revision's Job failed", phase: PhaseFailed, setup: StateFailed, mutate: func(s *Snapshot) {
			rev2(s)
			s.Jobs = []batchv1.Job{*job("shop", t0, batchv1.JobComplete, "", ""), *jobOf("shop", 2, t0.Add(time.Second), batchv1.JobFailed, "BackoffLimitExceeded", "x")}
		}},
		{name: "a chart 0.1.0 store judges its hook Job", phase: PhaseReady, setup: StateReady, mutate: func(s *Snapshot) {
			s.Release.ChartVersion = "0.1.0"
			s.Jobs = []batchv1.Job{*hookJob(t0, batchv1.JobComplete)}
		}},
		{name: "List (no chart version) judges a hook store by its Jobs", phase: PhaseReady, setup: StateReady, mutate: func(s *Snapshot) {
			s.Jobs = []batchv1.Job{*hookJob(t0, batchv1.JobComplete)}
		}},
		{name: "a migrated store is not judged by its leftover hook Job", phase: PhaseProvisioning, setup: StateProgressing, mutate: func(s *Snapshot) {
			rev2(s)
			s.Jobs = []batchv1.Job{*hookJob(t0, batchv1.JobComplete), *jobOf("shop", 2, t0.Add(time.Second), "", "", "")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := healthy()
			if tc.mutate != nil {
				tc.mutate(&s)
			}
			st := Compute(s, DefaultFailFast)
			if st.Phase != tc.phase {
				t.Errorf("phase = %s (%s: %s), want %s", st.Phase, st.Reason, st.Message, tc.phase)
			}
			for _, c := range st.Components {
				if c.Name == ComponentSetup && c.State != tc.setup {
					t.Errorf("setup state = %s (%s), want %s", c.State, c.Message, tc.setup)
				}
			}
		})
	}
}

func TestStaleSetupJobsAreRemovedOnceTheRevisionsOwnExists(t *testing.T) {
	t.Parallel()
	rel := &release.Release{Name: "shop", Namespace: "store-shop", Revision: 3, Status: release.StatusDeployed, ChartVersion: "0.2.0"}
	failedRev := jobOf("shop", 2, t0, batchv1.JobFailed, "BackoffLimitExceeded", "x")
	later := jobOf("shop", 4, t0, "", "", "")
	cron := job("shop", t0, batchv1.JobComplete, "", "")
	cron.Name, cron.Labels = "shop-cron-123", compLabels("shop", ComponentCron)
	current := jobOf("shop", 3, t0, batchv1.JobComplete, "", "")
	kc := fake.NewClientset(hookJob(t0, batchv1.JobComplete), failedRev, later, cron, current)
	e, err := New(Options{Kube: kc, Releases: &pendingManager{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list := func() map[string]bool {
		l, err := kc.BatchV1().Jobs("store-shop").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, j := range l.Items {
			out[j.Name] = true
		}
		return out
	}
	snap := func() Snapshot {
		l, _ := kc.BatchV1().Jobs("store-shop").List(ctx, metav1.ListOptions{})
		return Snapshot{Name: "shop", Release: rel, Jobs: l.Items}
	}

	// Nothing goes while the revision's own Job is missing, or while a revision is applied.
	s := snap()
	s.Jobs = s.Jobs[:0]
	for _, j := range snap().Jobs {
		if j.Name != current.Name {
			s.Jobs = append(s.Jobs, j)
		}
	}
	e.removeStaleSetupJobs(ctx, s)
	pending := snap()
	pending.Release = &release.Release{Name: "shop", Revision: 3, Status: release.StatusPendingUpgrade, ChartVersion: "0.2.0"}
	e.removeStaleSetupJobs(ctx, pending)
	if got := list(); len(got) != 5 {
		t.Fatalf("jobs after no-op cleanups = %v, want all five", got)
	}

	e.removeStaleSetupJobs(ctx, snap())
	got := list()
	for _, gone := range []string{"shop-setup", SetupJobName("shop", 2)} {
		if got[gone] {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, kept := range []string{current.Name, later.Name, cron.Name} {
		if !got[kept] {
			t.Errorf("%s was deleted", kept)
		}
	}
}

func TestDiffComparesSetupJobsAcrossRevisions(t *testing.T) {
	t.Parallel()
	doc := func(rev, image string) string {
		return "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: shop-setup-r" + rev + "\n  labels:\n    storectl.dev/revision: \"" + rev +
			"\"\nspec:\n  template:\n    spec:\n      containers:\n      - image: " + image + "\n"
	}
	if ch := diffManifests(doc("1", "cli:1"), doc("2", "cli:1")); len(ch) != 0 {
		t.Errorf("the same Job at two revisions differs: %+v", ch)
	}
	ch := diffManifests(doc("1", "cli:1"), doc("2", "cli:2"))
	if len(ch) != 1 || ch[0].Object != "Job/shop-setup" || ch[0].Change != ChangeChanged {
		t.Errorf("changes = %+v, want Job/shop-setup changed", ch)
	}
}

// Helm records the revision deployed without waiting for the setup Job; when the Job fails,
// the create that watched it reports the setup and records the revision failed.
func TestFailedSetupRecordsTheRevisionFailed(t *testing.T) {
	t.Parallel()
	env := newEnv(t, Settings{Domain: "example.test", Profile: "local"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.simulate(ctx, "shop", false, func(p *corev1.Pod) { p.Status.Conditions[1].Status = corev1.ConditionTrue })
	go func() {
		for ctx.Err() == nil {
			if r, err := env.rel.Get(ctx, "store-shop", "shop"); err == nil && r.Status == release.StatusDeployed {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		j := job("shop", time.Now().Add(time.Second), batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
		_, _ = env.kube.BatchV1().Jobs("store-shop").Create(context.Background(), j, metav1.CreateOptions{})
	}()
	_, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: true, Timeout: 20 * time.Second})
	var se *Error
	if !errors.As(err, &se) || !errors.Is(err, ErrFailed) || se.Component != ComponentSetup || se.Job != SetupJobName("shop", 1) {
		t.Fatalf("Create = %v, want the setup Job %s failed", err, SetupJobName("shop", 1))
	}
	r, err := env.rel.Get(ctx, "store-shop", "shop")
	if err != nil || r.Revision != 1 || r.Status != release.StatusFailed || !strings.Contains(r.Description, "BackoffLimitExceeded") {
		t.Errorf("release after the failed setup = %+v, %v; want revision 1 failed with the reason", r, err)
	}
}
