package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/store"
)

// Pod Security labels.
const (
	labelEnforce   = "pod-security.kubernetes.io/enforce"
	levelEnforced  = "restricted"
	probeNamespace = "storectl-doctor-probe"
	probeLevel     = "storectl-doctor-probe"
)

// storeNamespaces lists the namespaces labelled as stores, once per run.
func (r *runner) storeNamespaces(ctx context.Context) ([]corev1.Namespace, error) {
	r.nsOnce.Do(func() {
		list, err := r.o.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{
			LabelSelector: store.LabelManagedBy + "=" + store.ManagedBy + "," + store.LabelStore,
		})
		if err != nil {
			r.nsErr = err
			return
		}
		for _, n := range list.Items {
			if _, isStore := store.StoreName(&n); isStore {
				r.namespaces = append(r.namespaces, n)
			}
		}
	})
	return r.namespaces, r.nsErr
}

// checkPodSecurity proves that Pod Security admission runs: it validates the labels of a
// namespace, so a dry-run create of one with a level that does not exist must be refused.
// Nothing is created.
func checkPodSecurity(ctx context.Context, r *runner) outcome {
	_, err := r.o.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: probeNamespace, Labels: map[string]string{labelEnforce: probeLevel},
	}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	switch {
	case err == nil:
		return fail("Pod Security admission does not run: a namespace with an unknown enforce level was accepted, so the restricted level of store namespaces is not enforced")
	case apierrors.IsInvalid(err) && strings.Contains(err.Error(), labelEnforce):
	case apierrors.IsAlreadyExists(err):
		return warn("Pod Security admission could not be probed: namespace %s exists", probeNamespace)
	default:
		return readErr("a dry-run namespace", err)
	}
	nss, err := r.storeNamespaces(ctx)
	if err != nil {
		return readErr("store namespaces", err)
	}
	var lax []string
	for _, n := range nss {
		if n.Labels[labelEnforce] != levelEnforced {
			level := n.Labels[labelEnforce]
			if level == "" {
				level = "no enforce label"
			}
			lax = append(lax, fmt.Sprintf("%s (%s)", n.Name, level))
		}
	}
	if len(lax) > 0 {
		sort.Strings(lax)
		return fail("Pod Security admission runs, but %d store namespaces do not enforce %s: %s", len(lax), levelEnforced, strings.Join(lax, ", "))
	}
	return ok("Pod Security admission runs and all %d store namespaces enforce %s", len(nss), levelEnforced)
}

// cni is a network plugin recognisable from its pods in kube-system, and whether it
// enforces NetworkPolicy.
type cni struct {
	name     string
	prefixes []string
	enforces bool
}

var cnis = []cni{
	{"Cilium", []string{"cilium"}, true},
	{"Calico", []string{"calico-node", "calico-kube-controllers"}, true},
	{"Canal", []string{"canal"}, true},
	{"Antrea", []string{"antrea-agent"}, true},
	{"kube-router", []string{"kube-router"}, true},
	{"Weave Net", []string{"weave-net"}, true},
	{"kindnet", []string{"kindnet"}, false},
	{"Flannel", []string{"kube-flannel", "flannel"}, false},
}

// checkNetworkPolicy says what can be said: the API accepts NetworkPolicies whether or not
// anything enforces them, so the network plugin is named when it is recognisable.
func checkNetworkPolicy(ctx context.Context, r *runner) outcome {
	const unprovable = "whether NetworkPolicies are enforced cannot be proven from the API"
	nodes, err := r.o.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, n := range nodes.Items {
			if strings.Contains(n.Status.NodeInfo.KubeletVersion, "+k3s") {
				return ok("%s; the nodes run k3s, whose embedded network policy controller enforces them unless disabled", unprovable)
			}
		}
	}
	pods, err := r.o.Kube.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return warn("%s, and the pods of kube-system cannot be read to name the network plugin: %v", unprovable, err)
	}
	for _, c := range cnis {
		for _, p := range pods.Items {
			if !hasAnyPrefix(p.Name, c.prefixes) {
				continue
			}
			if c.enforces {
				return ok("%s; the network plugin is %s, which enforces them", unprovable, c.name)
			}
			return warn("%s; the network plugin is %s, which does not enforce them: stores are not isolated from each other on the network", unprovable, c.name)
		}
	}
	return warn("%s, and no known network plugin runs in kube-system: check that yours enforces them", unprovable)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
