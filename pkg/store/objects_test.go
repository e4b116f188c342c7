package store

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Builders of the objects the chart and the cluster's controllers produce,
// in the states the tests need.

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func storeNS(name string) *corev1.Namespace {
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: Namespace(name), CreationTimestamp: metav1.NewTime(t0),
			Labels: map[string]string{LabelManagedBy: ManagedBy, LabelStore: name, LabelType: TypeWooCommerce}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

func compLabels(name, comp string) map[string]string {
	return map[string]string{LabelPartOf: ManagedBy, LabelStore: name, LabelComponent: comp, "app.kubernetes.io/instance": name}
}

func sts(name string, ready int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-mariadb", Namespace: Namespace(name), Labels: compLabels(name, ComponentDatabase), Generation: 1},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1)},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: ready, CurrentReplicas: 1, UpdatedReplicas: 1,
			AvailableReplicas: ready, CurrentRevision: "r1", UpdateRevision: "r1"},
	}
}

func deploy(name string, ready int32) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-wordpress", Namespace: Namespace(name), Labels: compLabels(name, ComponentWordPress), Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: ready, AvailableReplicas: ready},
	}
	if ready > 0 {
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"}}
	} else {
		d.Status.UnavailableReplicas = 1
	}
	return d
}

func job(name string, created time.Time, cond batchv1.JobConditionType, reason, msg string) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: SetupJobName(name, 1), Namespace: Namespace(name), Labels: compLabels(name, ComponentSetup),
			CreationTimestamp: metav1.NewTime(created)},
		Spec: batchv1.JobSpec{Completions: ptr.To[int32](1), Parallelism: ptr.To[int32](1)},
	}
	j.Labels[LabelRevision] = "1"
	switch cond {
	case batchv1.JobComplete:
		j.Status.Succeeded = 1
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	case batchv1.JobFailed:
		j.Status.Failed = 3
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, Message: msg}}
	default:
		j.Status.Active = 1
	}
	return j
}

func pod(name, comp, podName string, ready bool) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: Namespace(name), Labels: compLabels(name, comp), CreationTimestamp: metav1.NewTime(t0)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example/image:1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)},
			{Type: corev1.PodReady, Status: cond(ready)},
		}},
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Ready: ready}}
	if ready {
		p.Status.ContainerStatuses[0].State.Running = &corev1.ContainerStateRunning{}
	}
	return p
}

func waiting(p *corev1.Pod, reason string, restarts int32) *corev1.Pod {
	p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off " + reason}}
	p.Status.ContainerStatuses[0].RestartCount = restarts
	return p
}

func cond(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func ingress(name string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace(name), Labels: compLabels(name, "")},
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: name + ".example.test"}}},
	}
}

func warning(name, kind, obj, reason, msg string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: obj + "." + reason, Namespace: Namespace(name)},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: obj, Namespace: Namespace(name)},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: msg, Count: 1,
		FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at),
	}
}

func pvc(name, claim string, bound bool, created time.Time) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: Namespace(name), CreationTimestamp: metav1.NewTime(created)}}
	if bound {
		c.Status.Phase = corev1.ClaimBound
	} else {
		c.Status.Phase = corev1.ClaimPending
		c.Spec.StorageClassName = ptr.To("missing")
	}
	return c
}

// jobOf is job for revision rev: named and labelled for it, as the chart renders it.
func jobOf(name string, rev int, created time.Time, cond batchv1.JobConditionType, reason, msg string) *batchv1.Job {
	j := job(name, created, cond, reason, msg)
	j.Name = SetupJobName(name, rev)
	j.Labels[LabelRevision] = fmt.Sprint(rev)
	return j
}
