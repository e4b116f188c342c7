package testcluster_test

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"

	"github.com/storectl/storectl/pkg/testcluster"
)

func TestFaultImagePull(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "fault-pull", restrictedLabels)

	tpl := podTemplate(nil, map[string]string{annFault: "image-pull"})
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, barePod("pull", tpl), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The reasons a kubelet shows, in its order: ErrImagePull first, then
	// ImagePullBackOff, and after the back-off ErrImagePull again.
	var seen []string
	last := ""
	pod := watchPod(t, ctx, c, ns, "pull", func(p *corev1.Pod) bool {
		if podCondition(p, corev1.PodReady) == corev1.ConditionTrue || p.Status.Phase != corev1.PodPending {
			t.Fatalf("pod with an image that cannot be pulled reached phase %s, Ready %s", p.Status.Phase, podCondition(p, corev1.PodReady))
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Waiting != nil && s.State.Waiting.Reason != last {
				last = s.State.Waiting.Reason
				seen = append(seen, last)
			}
		}
		return len(seen) >= 4
	})
	want := []string{"ContainerCreating", "ErrImagePull", "ImagePullBackOff", "ErrImagePull"}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("waiting reasons %v, want %v", seen, want)
		}
	}
	if msg := pod.Status.ContainerStatuses[0].State.Waiting.Message; msg == "" {
		t.Error("ErrImagePull carries no message")
	}
	events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=pull,type=Warning"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no Warning events for the failed pulls")
	}
}

func TestFaultCrashLoop(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "fault-crash", restrictedLabels)

	tpl := podTemplate(nil, map[string]string{annFault: "crashloop"})
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, barePod("crash", tpl), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	backoffs := 0
	inBackoff := false
	pod := watchPod(t, ctx, c, ns, "crash", func(p *corev1.Pod) bool {
		if podCondition(p, corev1.PodReady) == corev1.ConditionTrue {
			t.Fatal("a crashing pod became Ready")
		}
		if len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		s := p.Status.ContainerStatuses[0]
		waiting := s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff"
		if waiting && !inBackoff {
			backoffs++
		}
		inBackoff = waiting
		return waiting && s.RestartCount >= 2
	})
	s := pod.Status.ContainerStatuses[0]
	if backoffs < 3 {
		t.Errorf("entered CrashLoopBackOff %d times by restart %d, want one back-off per crash", backoffs, s.RestartCount)
	}
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running (the kubelet keeps restarting)", pod.Status.Phase)
	}
	if s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 1 || s.LastTerminationState.Terminated.Reason != "Error" {
		t.Errorf("last state %+v, want terminated with exit code 1 and reason Error", s.LastTerminationState)
	}
}

func TestFaultNeverReady(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "fault-unready", restrictedLabels)

	// Beside it, a healthy pod with the same delay: once that one is Ready,
	// the faulty one has had every chance.
	for name, ann := range map[string]map[string]string{
		"unready": {annFault: "never-ready", annReadyDelay: "1s"},
		"healthy": {annReadyDelay: "1s"},
	} {
		if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, barePod(name, podTemplate(nil, ann)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	watchPod(t, ctx, c, ns, "healthy", func(p *corev1.Pod) bool {
		return podCondition(p, corev1.PodReady) == corev1.ConditionTrue
	})
	time.Sleep(2 * time.Second)
	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, "unready", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !running(pod) {
		t.Errorf("never-ready pod is not running: phase %s, statuses %+v", pod.Status.Phase, pod.Status.ContainerStatuses)
	}
	if podCondition(pod, corev1.PodReady) != corev1.ConditionFalse || pod.Status.ContainerStatuses[0].Ready {
		t.Errorf("never-ready pod: Ready %s, container ready %v; want not ready", podCondition(pod, corev1.PodReady), pod.Status.ContainerStatuses[0].Ready)
	}
}

func TestFaultJobFail(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "fault-job", restrictedLabels)

	j := job("setup", 0, podTemplate(nil, map[string]string{annFault: "job-fail", annReadyDelay: "1s"}))
	if _, err := c.Client.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lw := cache.NewListWatchFromClient(c.Client.BatchV1().RESTClient(), "jobs", ns, fields.OneTermEqualSelector("metadata.name", "setup"))
	var failed batchv1.JobCondition
	got := watchObject(t, ctx, lw, &batchv1.Job{}, func(j *batchv1.Job) bool {
		for _, cond := range j.Status.Conditions {
			if cond.Status == corev1.ConditionTrue && (cond.Type == batchv1.JobFailed || cond.Type == batchv1.JobComplete) {
				failed = cond
				return true
			}
		}
		return false
	})
	if failed.Type != batchv1.JobFailed || failed.Reason != "BackoffLimitExceeded" {
		t.Fatalf("job ended with %s/%s, want Failed/BackoffLimitExceeded", failed.Type, failed.Reason)
	}
	if got.Status.Succeeded != 0 || got.Status.Failed != 1 {
		t.Errorf("job succeeded=%d failed=%d, want 0 and 1", got.Status.Succeeded, got.Status.Failed)
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=setup"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("%d job pods, want 1", len(pods.Items))
	}
	p := pods.Items[0]
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("job pod phase %s, want Failed", p.Status.Phase)
	}
	if s := p.Status.ContainerStatuses; len(s) != 1 || s[0].State.Terminated == nil || s[0].State.Terminated.ExitCode != 1 {
		t.Errorf("job pod container status %+v, want terminated with exit code 1", s)
	}
}

// readyAfter creates a pod and measures, on the watch, how long it runs
// before it is Ready.
func readyAfter(t *testing.T, ctx context.Context, c *testcluster.Cluster, ns, name string, annotations map[string]string) time.Duration {
	t.Helper()
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, barePod(name, podTemplate(nil, annotations)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var started time.Time
	watchPod(t, ctx, c, ns, name, func(p *corev1.Pod) bool {
		if started.IsZero() && running(p) {
			started = time.Now()
		}
		return podCondition(p, corev1.PodReady) == corev1.ConditionTrue
	})
	if started.IsZero() {
		t.Fatalf("pod %s became Ready without being seen running first", name)
	}
	return time.Since(started)
}

func TestReadyDelay(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 90*time.Second)
	ns := c.NewNamespace(t, "delay", restrictedLabels)

	cm, err := c.Client.CoreV1().ConfigMaps("kube-public").Get(ctx, "storectl-sandbox", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the sandbox publishes its settings in kube-public/storectl-sandbox: %v", err)
	}
	def, err := time.ParseDuration(cm.Data["ready-delay"])
	if err != nil {
		t.Fatalf("ready-delay %q: %v", cm.Data["ready-delay"], err)
	}

	// Watch timing is subject to scheduling on a busy machine: allow a
	// little early (clock granularity) and generous late.
	const slack = 300 * time.Millisecond
	cases := []struct {
		name        string
		annotations map[string]string
		want        time.Duration
	}{
		{"default", nil, def},
		{"instant", map[string]string{annReadyDelay: "0s"}, 0},
		{"slow", map[string]string{annReadyDelay: "5s"}, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := readyAfter(t, ctx, c, ns, tc.name, tc.annotations)
			if got < tc.want-slack || got > tc.want+3*time.Second {
				t.Errorf("Ready %v after starting, want about %v", got.Round(time.Millisecond), tc.want)
			}
		})
	}
}

func TestRunToCompletionPodsHonourTheDelay(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "delay-job", restrictedLabels)

	tpl := podTemplate(nil, map[string]string{annReadyDelay: "3s"})
	tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, barePod("once", tpl), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var started time.Time
	watchPod(t, ctx, c, ns, "once", func(p *corev1.Pod) bool {
		if started.IsZero() && running(p) {
			started = time.Now()
		}
		return p.Status.Phase == corev1.PodSucceeded
	})
	if took := time.Since(started); took < 3*time.Second-300*time.Millisecond {
		t.Errorf("pod succeeded %v after starting, want no sooner than its 3s delay", took)
	}
}
