package store

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// live implements release.Live over the lists of a snapshot that holds the namespace's
// workloads, claims and ingresses whole: the drift check finds those objects here instead
// of reading them again.
func (s *Snapshot) live(kind, name string) (runtime.Object, bool) {
	if o, listed := s.listed(kind, name); listed || s.chartLive == nil {
		return o, listed
	}
	return s.chartLive(kind, name)
}

// listed looks name up in the snapshot's lists of its own kinds.
func (s *Snapshot) listed(kind, name string) (runtime.Object, bool) {
	switch kind {
	case "StatefulSet":
		return named(s.StatefulSets, name)
	case "Deployment":
		return named(s.Deployments, name)
	case "Job":
		return named(s.Jobs, name)
	case "PersistentVolumeClaim":
		return named(s.PVCs, name)
	case "Ingress":
		return named(s.Ingresses, name)
	}
	return nil, false
}

// named returns the item called name (nil when there is none) and true: the list is complete.
func named[T any, P interface {
	*T
	metav1.Object
	runtime.Object
}](items []T, name string) (runtime.Object, bool) {
	for i := range items {
		if p := P(&items[i]); p.GetName() == name {
			return p, true
		}
	}
	return nil, true
}
