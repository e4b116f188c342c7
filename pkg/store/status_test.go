package store

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storectl/storectl/pkg/release"
)

func deployed() *release.Release {
	return &release.Release{Name: "shop", Namespace: "store-shop", Revision: 1, Status: release.StatusDeployed, LastDeployed: t0}
}

func pendingInstall() *release.Release {
	return &release.Release{Name: "shop", Namespace: "store-shop", Revision: 1, Status: release.StatusPendingInstall, LastDeployed: t0}
}

// healthy returns the snapshot of a fully Ready store.
func healthy() Snapshot {
	return Snapshot{
		Name:         "shop",
		Namespace:    storeNS("shop"),
		Release:      deployed(),
		StatefulSets: []appsv1.StatefulSet{*sts("shop", 1)},
		Deployments:  []appsv1.Deployment{*deploy("shop", 1)},
		Jobs:         []batchv1.Job{*job("shop", t0.Add(time.Second), batchv1.JobComplete, "", "")},
		Pods:         []corev1.Pod{*pod("shop", ComponentDatabase, "shop-mariadb-0", true), *pod("shop", ComponentWordPress, "shop-wordpress-abc", true)},
		PVCs:         []corev1.PersistentVolumeClaim{*pvc("shop", "data-shop-mariadb-0", true, t0)},
		Ingresses:    []networkingv1.Ingress{*ingress("shop")},
		Since:        t0,
		Now:          t0.Add(time.Minute),
	}
}

func TestCompute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mutate     func(*Snapshot)
		phase      Phase
		reason     string
		failedComp string
		msg        string // substring of the message
	}{
		{name: "ready", mutate: func(*Snapshot) {}, phase: PhaseReady},
		{name: "no release yet", mutate: func(s *Snapshot) { s.Release = nil }, phase: PhaseProvisioning, reason: "ReleaseNotInstalled"},
		{name: "install pending", mutate: func(s *Snapshot) {
			s.Release = pendingInstall()
			s.Jobs = nil
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
			s.Pods[1] = *pod("shop", ComponentWordPress, "shop-wordpress-abc", false)
		}, phase: PhaseProvisioning, reason: "ReleasePendingInstall", msg: "wordpress progressing"},
		{name: "database starting", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods[0] = *waiting(pod("shop", ComponentDatabase, "shop-mariadb-0", false), "ContainerCreating", 0)
		}, phase: PhaseProvisioning, reason: "ComponentsNotReady", msg: "ContainerCreating"},
		{name: "namespace terminating", mutate: func(s *Snapshot) {
			now := metav1.NewTime(t0)
			s.Namespace.DeletionTimestamp = &now
			s.Namespace.Status.Phase = corev1.NamespaceTerminating
		}, phase: PhaseDeleting, reason: "NamespaceTerminating"},
		{name: "image pull within grace is not a failure", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods[0] = *waiting(pod("shop", ComponentDatabase, "shop-mariadb-0", false), "ImagePullBackOff", 0)
			s.Now = t0.Add(10 * time.Second)
		}, phase: PhaseProvisioning, msg: "ImagePullBackOff"},
		{name: "image pull past grace fails", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods[0] = *waiting(pod("shop", ComponentDatabase, "shop-mariadb-0", false), "ImagePullBackOff", 0)
			s.Now = t0.Add(31 * time.Second)
		}, phase: PhaseFailed, reason: "ImagePullBackOff", failedComp: ComponentDatabase, msg: "example/image:1"},
		{name: "crashloop fails after restarts", mutate: func(s *Snapshot) {
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
			s.Pods[1] = *waiting(pod("shop", ComponentWordPress, "shop-wordpress-abc", false), "CrashLoopBackOff", 3)
		}, phase: PhaseFailed, reason: "CrashLoopBackOff", failedComp: ComponentWordPress, msg: "restarted 3 times"},
		{name: "crashloop first restart is not yet a failure", mutate: func(s *Snapshot) {
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
			s.Pods[1] = *waiting(pod("shop", ComponentWordPress, "shop-wordpress-abc", false), "CrashLoopBackOff", 1)
		}, phase: PhaseProvisioning},
		{name: "pod security rejection: FailedCreate and no pod", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods = s.Pods[1:]
			s.Events = []corev1.Event{*warning("shop", "StatefulSet", "shop-mariadb", "FailedCreate",
				`create Pod shop-mariadb-0 in StatefulSet shop-mariadb failed error: pods "shop-mariadb-0" is forbidden: violates PodSecurity "restricted:latest"`, t0.Add(time.Second))}
		}, phase: PhaseFailed, reason: "FailedCreate", failedComp: ComponentDatabase, msg: "violates PodSecurity"},
		{name: "quota refusing a claim that does not exist fails", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods = s.Pods[1:]
			s.PVCs = nil
			s.Events = []corev1.Event{*warning("shop", "StatefulSet", "shop-mariadb", "FailedCreate", `Create Claim data-shop-mariadb-0 for Pod shop-mariadb-0 in StatefulSet shop-mariadb failed error: persistentvolumeclaims "data-shop-mariadb-0" is forbidden: exceeded quota: shop, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=2, limited: persistentvolumeclaims=2`, t0.Add(time.Second))}
		}, phase: PhaseFailed, reason: "FailedCreate", failedComp: ComponentDatabase, msg: "exceeded quota"},
		{name: "quota refusing a claim not seen yet waits for the volume grace", mutate: func(s *Snapshot) {
			// The store's own reads may show the refusal of a duplicate before the claim.
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods = s.Pods[1:]
			s.PVCs = nil
			s.Events = []corev1.Event{*warning("shop", "StatefulSet", "shop-mariadb", "FailedCreate", `Create Claim data-shop-mariadb-0 for Pod shop-mariadb-0 in StatefulSet shop-mariadb failed error: persistentvolumeclaims "data-shop-mariadb-0" is forbidden: exceeded quota: shop, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=2, limited: persistentvolumeclaims=2`, t0.Add(58*time.Second))}
		}, phase: PhaseProvisioning},
		{name: "quota refusing a claim a lagging controller creates again is no failure", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods = s.Pods[1:]
			s.PVCs = []corev1.PersistentVolumeClaim{*pvc("shop", "data-shop-mariadb-0", true, t0)}
			s.Events = []corev1.Event{*warning("shop", "StatefulSet", "shop-mariadb", "FailedCreate", `Create Claim data-shop-mariadb-0 for Pod shop-mariadb-0 in StatefulSet shop-mariadb failed error: persistentvolumeclaims "data-shop-mariadb-0" is forbidden: exceeded quota: shop, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=2, limited: persistentvolumeclaims=2`, t0.Add(time.Second))}
		}, phase: PhaseProvisioning},
		{name: "FailedCreate older than the operation is ignored", mutate: func(s *Snapshot) {
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods = s.Pods[1:]
			s.Events = []corev1.Event{*warning("shop", "StatefulSet", "shop-mariadb", "FailedCreate", "exceeded quota", t0.Add(-time.Hour))}
		}, phase: PhaseProvisioning},
		{name: "quota rejection through the deployment condition", mutate: func(s *Snapshot) {
			d := deploy("shop", 0)
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue,
				Reason: "FailedCreate", Message: `pods "shop-wordpress-x" is forbidden: exceeded quota: store, requested: memory=2Gi`}}
			s.Deployments = []appsv1.Deployment{*d}
			s.Pods = s.Pods[:1]
		}, phase: PhaseFailed, reason: "FailedCreate", failedComp: ComponentWordPress, msg: "exceeded quota"},
		{name: "unschedulable past grace", mutate: func(s *Snapshot) {
			p := pod("shop", ComponentWordPress, "shop-wordpress-abc", false)
			p.Status.Phase = corev1.PodPending
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
				Message: "0/3 nodes are available: 3 Insufficient memory.", LastTransitionTime: metav1.NewTime(t0)}}
			s.Pods[1] = *p
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
		}, phase: PhaseFailed, reason: "Unschedulable", failedComp: ComponentWordPress, msg: "Insufficient memory"},
		{name: "unbound claim with provisioning failure", mutate: func(s *Snapshot) {
			s.PVCs = []corev1.PersistentVolumeClaim{*pvc("shop", "data-shop-mariadb-0", false, t0)}
			s.StatefulSets = []appsv1.StatefulSet{*sts("shop", 0)}
			s.Pods[0] = *pod("shop", ComponentDatabase, "shop-mariadb-0", false)
			s.Events = []corev1.Event{*warning("shop", "PersistentVolumeClaim", "data-shop-mariadb-0", "ProvisioningFailed",
				`storageclass.storage.k8s.io "missing" not found`, t0.Add(time.Second))}
		}, phase: PhaseFailed, reason: "ProvisioningFailed", failedComp: ComponentDatabase, msg: `StorageClass missing`},
		{name: "setup job failed", mutate: func(s *Snapshot) {
			s.Release = pendingInstall()
			s.Jobs = []batchv1.Job{*job("shop", t0.Add(5*time.Second), batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")}
		}, phase: PhaseFailed, reason: "BackoffLimitExceeded", failedComp: ComponentSetup, msg: "backoff limit"},
		{name: "setup job failed names the WooCommerce source", mutate: func(s *Snapshot) {
			s.Release = pendingInstall()
			j := job("shop", t0.Add(5*time.Second), batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
			j.Annotations = map[string]string{AnnotationWooCommerceSource: "https://mirror.internal/wc.zip"}
			s.Jobs = []batchv1.Job{*j}
		}, phase: PhaseFailed, reason: "BackoffLimitExceeded", failedComp: ComponentSetup, msg: "(WooCommerce from https://mirror.internal/wc.zip)"},
		{name: "failed hook job of an earlier attempt is ignored while a new revision is pending", mutate: func(s *Snapshot) {
			s.Release = pendingInstall()
			s.Release.ChartVersion = "0.1.0"
			s.Release.LastDeployed = t0.Add(time.Minute)
			j := job("shop", t0, batchv1.JobFailed, "BackoffLimitExceeded", "old")
			j.Name = "shop-setup"
			s.Jobs = []batchv1.Job{*j}
		}, phase: PhaseProvisioning, msg: "waiting for the setup Job"},
		{name: "setup job of an earlier revision is ignored while a new one is applied", mutate: func(s *Snapshot) {
			s.Release = deployed()
			s.Release.Status = release.StatusFailed
			old := job("shop", t0, batchv1.JobFailed, "BackoffLimitExceeded", "old")
			old.UID = "old-job"
			s.Jobs = []batchv1.Job{*old}
			s.StaleJobs = map[types.UID]bool{"old-job": true}
		}, phase: PhaseFailed, reason: "ReleaseFailed"},
		{name: "crashloop of a pod from before the apply is not judged at once", mutate: func(s *Snapshot) {
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
			p := waiting(pod("shop", ComponentWordPress, "shop-wordpress-abc", false), "CrashLoopBackOff", 5)
			p.UID = "old-pod"
			s.Pods[1] = *p
			s.StalePods = map[types.UID]bool{"old-pod": true}
			s.StaleUntil = s.Now.Add(time.Second)
		}, phase: PhaseProvisioning},
		{name: "crashloop of a pod from before the apply is judged after the grace", mutate: func(s *Snapshot) {
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
			p := waiting(pod("shop", ComponentWordPress, "shop-wordpress-abc", false), "CrashLoopBackOff", 5)
			p.UID = "old-pod"
			s.Pods[1] = *p
			s.StalePods = map[types.UID]bool{"old-pod": true}
			s.StaleUntil = s.Now.Add(-time.Second)
		}, phase: PhaseFailed, reason: "CrashLoopBackOff", failedComp: ComponentWordPress},
		{name: "release failed", mutate: func(s *Snapshot) {
			s.Release = deployed()
			s.Release.Status = release.StatusFailed
			s.Release.Description = "Release \"shop\" failed: timed out"
		}, phase: PhaseFailed, reason: "ReleaseFailed", msg: "timed out"},
		{name: "pending release with everything complete stays provisioning", mutate: func(s *Snapshot) {
			s.Release = pendingInstall()
		}, phase: PhaseProvisioning, reason: "ReleasePendingInstall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := healthy()
			tt.mutate(&s)
			st := Compute(s, DefaultFailFast)
			if st.Phase != tt.phase {
				t.Fatalf("phase = %s (%s: %s), want %s", st.Phase, st.Reason, st.Message, tt.phase)
			}
			if tt.reason != "" && st.Reason != tt.reason {
				t.Errorf("reason = %q, want %q (message %q)", st.Reason, tt.reason, st.Message)
			}
			if tt.msg != "" && !strings.Contains(st.Message, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", st.Message, tt.msg)
			}
			if tt.failedComp != "" {
				if st.Failure == nil || st.Failure.Component != tt.failedComp {
					t.Fatalf("failure = %+v, want component %s", st.Failure, tt.failedComp)
				}
				if st.Failure.Reason == "" || st.Failure.Message == "" {
					t.Errorf("failure lacks its reason or message: %+v", st.Failure)
				}
				found := false
				for _, c := range st.Components {
					if c.Name == tt.failedComp {
						found = true
						if c.State != StateFailed || c.Ready {
							t.Errorf("component %s = %+v, want failed", c.Name, c)
						}
					}
				}
				if !found {
					t.Errorf("component %s missing from %+v", tt.failedComp, st.Components)
				}
			}
			if st.Phase == PhaseReady {
				if st.ReadyPods != 2 || st.TotalPods != 2 {
					t.Errorf("pods = %d/%d, want 2/2", st.ReadyPods, st.TotalPods)
				}
				if len(st.Components) != 5 || !allReady(st.Components) {
					t.Errorf("components = %+v", st.Components)
				}
			}
		})
	}
}

// A setup Job with an active pod has not run yet: the setup component must not be
// reported done before the Job's Complete condition (kstatus alone calls it Current).
func TestRunningSetupJobIsNotReady(t *testing.T) {
	t.Parallel()
	s := healthy()
	s.Release = pendingInstall()
	running := job("shop", t0.Add(time.Second), "", "", "")
	running.Status.StartTime = &metav1.Time{Time: t0.Add(time.Second)}
	s.Jobs = []batchv1.Job{*running}
	st := Compute(s, DefaultFailFast)
	for _, c := range st.Components {
		if c.Name == ComponentSetup && (c.Ready || c.State == StateReady) {
			t.Errorf("setup component of a running Job = %+v, want progressing", c)
		}
	}
	if st.Phase != PhaseProvisioning {
		t.Errorf("phase = %s, want %s", st.Phase, PhaseProvisioning)
	}
}

// A first install whose process exited before Helm recorded the end of the
// hook (create --wait=false) reads as Ready once everything is complete, but
// only then, and never for an upgrade left pending.
func TestSettledPendingInstall(t *testing.T) {
	t.Parallel()
	upgrade := pendingInstall()
	upgrade.Status, upgrade.Revision = release.StatusPendingUpgrade, 2
	tests := []struct {
		name   string
		edit   func(*Snapshot)
		want   Phase
		reason string
	}{
		{"complete", func(s *Snapshot) {}, PhaseReady, ""},
		{"complete in a list", func(s *Snapshot) { s.Partial, s.PVCs, s.Ingresses, s.Events = true, nil, nil, nil }, PhaseReady, ""},
		{"setup still running", func(s *Snapshot) {
			s.Jobs = []batchv1.Job{*job("shop", t0.Add(time.Second), "", "", "")}
		}, PhaseProvisioning, "ReleasePendingInstall"},
		{"wordpress not ready", func(s *Snapshot) {
			s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
		}, PhaseProvisioning, "ReleasePendingInstall"},
		{"upgrade left pending", func(s *Snapshot) { s.Release = upgrade }, PhaseProvisioning, "ReleasePendingUpgrade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := healthy()
			s.Release = pendingInstall()
			tt.edit(&s)
			computed := Compute(s, DefaultFailFast)
			if computed.Phase != PhaseProvisioning {
				t.Fatalf("Compute = %s, want Provisioning: create and wait must still see the pending record", computed.Phase)
			}
			s.ReadOnly = true
			got := Compute(s, DefaultFailFast)
			if got.Phase != tt.want || got.Reason != tt.reason {
				t.Fatalf("settled = %s (%s: %s), want %s (%s)", got.Phase, got.Reason, got.Message, tt.want, tt.reason)
			}
			if got.Phase == PhaseReady && !strings.Contains(got.Message, "still recorded as pending-install") {
				t.Errorf("message %q does not say the revision is unrecorded", got.Message)
			}
		})
	}
}
