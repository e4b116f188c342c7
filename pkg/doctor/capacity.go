package doctor

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// capacity is what schedulable nodes offer and what their pods already request.
type capacity struct {
	nodes                 int
	allocCPU, allocMemory resource.Quantity
	usedCPU, usedMemory   resource.Quantity
}

func (r *runner) capacity(ctx context.Context) (capacity, error) {
	var c capacity
	nodes, err := r.o.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, err
	}
	schedulable := map[string]bool{}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if !nodeSchedulable(n) {
			continue
		}
		schedulable[n.Name] = true
		c.nodes++
		c.allocCPU.Add(n.Status.Allocatable[corev1.ResourceCPU])
		c.allocMemory.Add(n.Status.Allocatable[corev1.ResourceMemory])
	}
	pods, err := r.o.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !schedulable[p.Spec.NodeName] || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, ctr := range p.Spec.Containers {
			c.usedCPU.Add(ctr.Resources.Requests[corev1.ResourceCPU])
			c.usedMemory.Add(ctr.Resources.Requests[corev1.ResourceMemory])
		}
	}
	return c, nil
}

// nodeSchedulable reports a Ready node that takes new pods.
func nodeSchedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// fits returns how many times want fits into free; want zero fits without bound (-1).
func fits(free, want resource.Quantity) int64 {
	if want.IsZero() {
		return -1
	}
	if free.Sign() <= 0 {
		return 0
	}
	return free.MilliValue() / want.MilliValue()
}

func checkCapacity(ctx context.Context, r *runner) outcome {
	c, err := r.capacity(ctx)
	if err != nil {
		return readErr("nodes and pods", err)
	}
	if c.nodes == 0 {
		return fail("no node is Ready and schedulable: no store can run")
	}
	freeCPU, freeMem := c.allocCPU.DeepCopy(), c.allocMemory.DeepCopy()
	freeCPU.Sub(c.usedCPU)
	freeMem.Sub(c.usedMemory)
	wantCPU, wantMem := r.o.StoreRequests[corev1.ResourceCPU], r.o.StoreRequests[corev1.ResourceMemory]
	n := fits(freeCPU, wantCPU)
	if m := fits(freeMem, wantMem); n < 0 || (m >= 0 && m < n) {
		n = m
	}
	summary := func() string {
		return "free " + freeCPU.String() + " CPU and " + freeMem.String() + " memory on " + plural(c.nodes, "schedulable node") +
			"; a store requests up to " + wantCPU.String() + " CPU and " + wantMem.String() + " (its quota)"
	}
	if n < 0 {
		return ok("%s", "no store quota requests to compare; "+summary())
	}
	nss, err := r.storeNamespaces(ctx)
	if err != nil {
		return readErr("store namespaces", err)
	}
	allowed := int64(1)
	if max := r.o.Settings.MaxStores; max > 0 {
		allowed = int64(max - len(nss))
	}
	switch {
	case allowed <= 0:
		return ok("max-stores (%d) is reached; %s", r.o.Settings.MaxStores, summary())
	case n == 0:
		return fail("not one more store fits: %s", summary())
	case n < allowed:
		return warn("room for %d more stores, fewer than the %d max-stores still allows: %s", n, allowed, summary())
	}
	return ok("room for %d more stores (max-stores allows %d more): %s", n, allowed, summary())
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
