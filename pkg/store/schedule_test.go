package store

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// unschedulableStore is the healthy store with its WordPress pod waiting for a node since t0,
// judged at t0 plus at.
func unschedulableStore(at time.Duration) Snapshot {
	s := healthy()
	p := pod("shop", ComponentWordPress, "shop-wordpress-abc", false)
	p.UID = "wp-uid"
	p.Status.Phase = corev1.PodPending
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/3 nodes are available: 3 Insufficient memory.", LastTransitionTime: metav1.NewTime(t0)}}
	s.Pods[1] = *p
	s.Deployments = []appsv1.Deployment{*deploy("shop", 0)}
	s.Now = t0.Add(at)
	return s
}

func podEvent(reason, msg string, at time.Time) corev1.Event {
	return corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "shop-wordpress-abc." + reason, CreationTimestamp: metav1.NewTime(at)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "shop-wordpress-abc", UID: "wp-uid"},
		Type:           corev1.EventTypeNormal, Reason: reason, Message: msg, LastTimestamp: metav1.NewTime(at)}
}

func node(name string, created time.Time, ready bool) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: cond(ready)}}}}
}

func TestUnschedulableWaitsWhileTheClusterScalesUp(t *testing.T) {
	t.Parallel()
	grace := DefaultFailFast.UnschedulableGrace
	tests := []struct {
		name   string
		mutate func(*Snapshot)
		at     time.Duration
		fail   bool
		msg    string // substring of the failure's message
	}{
		{name: "within the grace", at: grace / 2},
		{name: "past the grace with no word from an autoscaler", at: grace + time.Second, fail: true, msg: "Insufficient memory"},
		{name: "an autoscaler adds a node", at: 5 * time.Minute, mutate: func(s *Snapshot) {
			s.Events = []corev1.Event{podEvent(EventTriggeredScaleUp, "pod triggered scale-up: [{pool-a 1->2 (max: 5)}]", t0.Add(10*time.Second))}
		}},
		{name: "Karpenter nominated a node being launched", at: 5 * time.Minute, mutate: func(s *Snapshot) {
			s.Events = []corev1.Event{podEvent(EventNominated, "Pod should schedule on: nodeclaim/default-x", t0.Add(10*time.Second))}
		}},
		{name: "a scale-up that brought no node in time", at: NodeProvisionGrace + time.Minute, fail: true, mutate: func(s *Snapshot) {
			s.Events = []corev1.Event{podEvent(EventTriggeredScaleUp, "pod triggered scale-up", t0.Add(10*time.Second))}
		}},
		{name: "the autoscaler will not add a node", at: grace + time.Second, fail: true, msg: "will not add a node: pod didn't trigger scale-up: 2 max node group size reached",
			mutate: func(s *Snapshot) {
				s.Events = []corev1.Event{podEvent(EventTriggeredScaleUp, "pod triggered scale-up", t0.Add(5*time.Second)),
					podEvent(EventNotTriggerScaleUp, "pod didn't trigger scale-up: 2 max node group size reached", t0.Add(10*time.Second))}
			}},
		{name: "an event about another pod of the same name", at: grace + time.Second, fail: true, mutate: func(s *Snapshot) {
			ev := podEvent(EventTriggeredScaleUp, "pod triggered scale-up", t0.Add(10*time.Second))
			ev.InvolvedObject.UID = "earlier-pod"
			s.Events = []corev1.Event{ev}
		}},
		{name: "a node joined and is not Ready yet", at: grace + time.Second, mutate: func(s *Snapshot) {
			s.Nodes = []corev1.Node{node("ready", t0.Add(-time.Hour), true), node("joining", t0, false)}
		}},
		{name: "a node NotReady for long is not coming", at: grace + time.Second, fail: true, mutate: func(s *Snapshot) {
			s.Nodes = []corev1.Node{node("broken", t0.Add(-time.Hour), false)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := unschedulableStore(tc.at)
			if tc.mutate != nil {
				tc.mutate(&s)
			}
			st := Compute(s, DefaultFailFast)
			if !tc.fail {
				if st.Phase != PhaseProvisioning {
					t.Fatalf("phase = %s (%s: %s), want Provisioning", st.Phase, st.Reason, st.Message)
				}
				return
			}
			if st.Phase != PhaseFailed || st.Reason != "Unschedulable" || st.Failure == nil || st.Failure.Component != ComponentWordPress {
				t.Fatalf("status = %s %s (%s), want Failed Unschedulable of wordpress", st.Phase, st.Reason, st.Message)
			}
			if !strings.Contains(st.Message, tc.msg) || !strings.Contains(st.Message, "cannot be scheduled") {
				t.Errorf("message = %q, want it to contain %q", st.Message, tc.msg)
			}
		})
	}
}

func TestUnschedulableGraceIsTheSetting(t *testing.T) {
	t.Parallel()
	ff := DefaultFailFast
	ff.UnschedulableGrace = 2 * time.Minute
	if st := Compute(unschedulableStore(time.Minute), ff); st.Phase != PhaseProvisioning {
		t.Errorf("a minute into a two-minute grace: %s %s", st.Phase, st.Reason)
	}
	if st := Compute(unschedulableStore(3*time.Minute), ff); st.Phase != PhaseFailed {
		t.Errorf("past a two-minute grace: %s %s", st.Phase, st.Reason)
	}
}

// The setup pod is placed beside WordPress: while WordPress waits for a node, so does it.
func TestSetupPodWaitsForWordPressToBePlaced(t *testing.T) {
	t.Parallel()
	s := unschedulableStore(time.Hour)
	s.Pods[1].Status.Conditions = nil
	s.Pods[1].Status.Phase = corev1.PodPending
	setup := pod("shop", ComponentSetup, "shop-setup-r1-xyz", false)
	setup.CreationTimestamp = metav1.NewTime(t0.Add(2 * time.Second))
	setup.Status.Phase = corev1.PodPending
	setup.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.", LastTransitionTime: metav1.NewTime(t0.Add(2 * time.Second))}}
	s.Jobs[0] = *job("shop", t0.Add(time.Second), "", "", "")
	s.Pods = append(s.Pods, *setup)
	if st := Compute(s, DefaultFailFast); st.Phase == PhaseFailed {
		t.Fatalf("setup failed while WordPress is not placed: %s", st.Message)
	}
	s.Pods[1].Spec.NodeName = "node-a"
	if st := Compute(s, DefaultFailFast); st.Phase != PhaseFailed || st.Failure.Component != ComponentSetup {
		t.Fatalf("setup unschedulable beside a placed WordPress: %s %s, want Failed of setup", st.Phase, st.Message)
	}
}
