package store

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Every field kstatus reads of the three workload kinds (sigs.k8s.io/cli-utils
// pkg/kstatus/status: generic.go and core.go).
var kstatusPaths = map[string][]string{
	"common": {"metadata.generation", "metadata.deletionTimestamp", "status.observedGeneration"},
	"StatefulSet": {"spec.updateStrategy.type", "spec.replicas", "spec.updateStrategy.rollingUpdate.partition",
		"status.readyReplicas", "status.currentReplicas", "status.updatedReplicas", "status.replicas",
		"status.currentRevision", "status.updateRevision"},
	"Deployment": {"spec.progressDeadlineSeconds", "spec.replicas", "status.replicas", "status.updatedReplicas",
		"status.readyReplicas", "status.availableReplicas"},
	"Job": {"spec.parallelism", "spec.completions", "status.succeeded", "status.active", "status.failed", "status.startTime"},
}

func kstatusCases() map[string]runtime.Object {
	now := metav1.NewTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	meta := func(gen int64, deleting bool) metav1.ObjectMeta {
		m := metav1.ObjectMeta{Name: "w", Generation: gen,
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate}}}
		if deleting {
			m.DeletionTimestamp = &now
		}
		return m
	}
	return map[string]runtime.Object{
		"sts ready": &appsv1.StatefulSet{ObjectMeta: meta(2, false),
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)}}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 1, UpdatedReplicas: 1,
				CurrentRevision: "w-1", UpdateRevision: "w-1"}},
		"sts rolling": &appsv1.StatefulSet{ObjectMeta: meta(3, false),
			Spec:   appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 3, Replicas: 1, CurrentReplicas: 1, CurrentRevision: "w-1", UpdateRevision: "w-2"}},
		"sts new":        &appsv1.StatefulSet{ObjectMeta: meta(1, false)},
		"sts unobserved": &appsv1.StatefulSet{ObjectMeta: meta(2, false), Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 1}},
		"sts stalled": &appsv1.StatefulSet{ObjectMeta: meta(1, false), Status: appsv1.StatefulSetStatus{ObservedGeneration: 1,
			Conditions: []appsv1.StatefulSetCondition{{Type: "Stalled", Status: corev1.ConditionTrue, Reason: "R", Message: "stuck"}}}},
		"deploy ready": &appsv1.Deployment{ObjectMeta: meta(1, false),
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), ProgressDeadlineSeconds: ptr.To[int32](600)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now},
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", Message: "has minimum availability"}}}},
		"deploy deadline": &appsv1.Deployment{ObjectMeta: meta(1, false),
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), ProgressDeadlineSeconds: ptr.To[int32](600)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1,
				Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "too slow"}}}},
		"deploy scaling": &appsv1.Deployment{ObjectMeta: meta(1, false), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1}},
		"deploy deleting": &appsv1.Deployment{ObjectMeta: meta(1, true), Status: appsv1.DeploymentStatus{ObservedGeneration: 1}},
		"job running": &batchv1.Job{ObjectMeta: meta(1, false), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](1), Completions: ptr.To[int32](1)},
			Status: batchv1.JobStatus{Active: 1, StartTime: &now}},
		"job pending": &batchv1.Job{ObjectMeta: meta(1, false), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](1)}},
		"job complete": &batchv1.Job{ObjectMeta: meta(1, false), Status: batchv1.JobStatus{Succeeded: 1, StartTime: &now,
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastProbeTime: now}}}},
		"job failed": &batchv1.Job{ObjectMeta: meta(1, false), Status: batchv1.JobStatus{Failed: 3, StartTime: &now,
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "failed"}}}},
	}
}

// statusFields gives kstatus what the conversion to unstructured gives it: the same value
// at every field kstatus reads, the same conditions, and so the same status.
func TestStatusFieldsMatchTheConversion(t *testing.T) {
	t.Parallel()
	for name, obj := range kstatusCases() {
		kind := map[string]string{"*v1.StatefulSet": "StatefulSet", "*v1.Deployment": "Deployment", "*v1.Job": "Job"}[reflect.TypeOf(obj).String()]
		fast, ok := statusFields(obj)
		if !ok {
			t.Fatalf("%s: statusFields did not read a %s", name, kind)
		}
		full, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range append(kstatusPaths["common"], kstatusPaths[kind]...) {
			fv, ff, _ := unstructured.NestedFieldNoCopy(fast, splitPath(p)...)
			cv, cf, _ := unstructured.NestedFieldNoCopy(full, splitPath(p)...)
			if ff != cf || !reflect.DeepEqual(fv, cv) {
				t.Errorf("%s: %s is %v (found %v), the conversion has %v (found %v)", name, p, fv, ff, cv, cf)
			}
		}
		fc, err := status.GetObjectWithConditions(fast)
		if err != nil {
			t.Fatal(err)
		}
		cc, err := status.GetObjectWithConditions(full)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fc, cc) {
			t.Errorf("%s: conditions %+v, the conversion has %+v", name, fc, cc)
		}
		judge := func(m map[string]any) status.Status {
			u := &unstructured.Unstructured{Object: m}
			u.SetAPIVersion(map[string]string{"Job": "batch/v1"}[kind])
			if kind != "Job" {
				u.SetAPIVersion("apps/v1")
			}
			u.SetKind(kind)
			r, err := status.Compute(u)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		if got, want := kstatusOf(obj, kind), judge(full); got != want {
			t.Errorf("%s: kstatusOf = %s, kstatus on the conversion = %s", name, got, want)
		}
	}
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := range len(p) {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}
