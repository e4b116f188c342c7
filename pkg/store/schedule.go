package store

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of the events a cluster autoscaler records on a pod it was asked to place:
// cluster-autoscaler's TriggeredScaleUp (a node group grows for the pod) and
// NotTriggerScaleUp (no node group would fit it), and Karpenter's Nominated (the pod will
// run on a node being launched).
const (
	EventTriggeredScaleUp  = "TriggeredScaleUp"
	EventNotTriggerScaleUp = "NotTriggerScaleUp"
	EventNominated         = "Nominated"
)

// NodeProvisionGrace bounds how long a scale-up is believed: a node that is not Ready this
// long after its creation, or after the autoscaler's last word on the pod, is not coming
// (cluster-autoscaler gives up on a node after its max-node-provision-time, 15 minutes by
// default).
const NodeProvisionGrace = 15 * time.Minute

// unschedulable judges a pod the scheduler could not place since since. It is a failure
// once the grace has passed, unless the cluster is making room for it: an autoscaler said
// it adds a node for the pod, or a node has joined and is not Ready yet. An autoscaler that
// said it will not is quoted in the failure.
func unschedulable(s Snapshot, p *corev1.Pod, cond corev1.PodCondition, since time.Time, grace time.Duration) *Failure {
	if s.Now.Sub(since) < grace {
		return nil
	}
	if componentOf(p.Labels) == ComponentSetup && !wordpressPlaced(s) {
		// The setup pod runs beside WordPress's volume: it cannot be placed before the
		// WordPress pod is, whose own scheduling is judged on its pod.
		return nil
	}
	msg := fmt.Sprintf("pod %s cannot be scheduled: %s", p.Name, cond.Message)
	ev := autoscalerWord(s, p)
	switch {
	case ev != nil && ev.Reason == EventNotTriggerScaleUp:
		msg += "; the cluster autoscaler will not add a node: " + ev.Message
	case ev != nil && s.Now.Sub(eventTime(*ev)) < NodeProvisionGrace:
		return nil // a node is being added for it
	case nodeComing(s):
		return nil
	}
	return &Failure{Reason: "Unschedulable", Message: msg, Pod: p.Name}
}

// autoscalerWord returns the latest autoscaler event about pod p, nil when there is none.
func autoscalerWord(s Snapshot, p *corev1.Pod) *corev1.Event {
	var last *corev1.Event
	for i := range s.Events {
		ev := &s.Events[i]
		if ev.InvolvedObject.Kind != "Pod" || ev.InvolvedObject.Name != p.Name ||
			(ev.InvolvedObject.UID != "" && ev.InvolvedObject.UID != p.UID) {
			continue
		}
		switch ev.Reason {
		case EventTriggeredScaleUp, EventNotTriggerScaleUp, EventNominated:
		default:
			continue
		}
		if last == nil || !eventTime(*ev).Before(eventTime(*last)) {
			last = ev
		}
	}
	return last
}

// nodeComing reports whether a node has joined the cluster recently and is not Ready yet:
// the scheduler may place the pod there in a moment.
func nodeComing(s Snapshot) bool {
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if n.DeletionTimestamp != nil || n.Spec.Unschedulable || s.Now.Sub(n.CreationTimestamp.Time) >= NodeProvisionGrace {
			continue
		}
		if !nodeReady(n) {
			return true
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// wordpressPlaced reports whether a WordPress pod has been given a node.
func wordpressPlaced(s Snapshot) bool {
	for i := range s.Pods {
		p := &s.Pods[i]
		if componentOf(p.Labels) == ComponentWordPress && p.DeletionTimestamp == nil && p.Spec.NodeName != "" {
			return true
		}
	}
	return false
}

// anyUnschedulable reports whether a pod of the store waits for a node: then the watch
// reads the nodes, to know whether one is coming.
func anyUnschedulable(s Snapshot) bool {
	for i := range s.Pods {
		for _, c := range s.Pods[i].Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return true
			}
		}
	}
	return false
}

// nodeListEvery bounds how often a watch lists the nodes while a pod waits for one.
const nodeListEvery = 5 * time.Second

// nodeReader lists the cluster's nodes for a watch, only while a pod waits for one and at
// most every nodeListEvery. A caller who may not list nodes judges without them.
type nodeReader struct {
	e     *Engine
	last  time.Time
	nodes []corev1.Node
}

func (r *nodeReader) read(ctx context.Context, s Snapshot) []corev1.Node {
	if !anyUnschedulable(s) {
		return nil
	}
	if time.Since(r.last) < nodeListEvery {
		return r.nodes
	}
	r.last = time.Now()
	lctx, cancel := context.WithTimeout(ctx, probeGrace)
	defer cancel()
	l, err := r.e.kube.CoreV1().Nodes().List(lctx, metav1.ListOptions{})
	if err == nil {
		r.nodes = l.Items
	}
	return r.nodes
}
