package doctor

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Annotations by which a cluster names its default classes.
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	defaultIngressClassAnnotation     = networkingv1.AnnotationIsDefaultIngressClass
)

// storageClass returns the class store volumes get: the configured one or the default.
func (r *runner) storageClass(ctx context.Context) (*storagev1.StorageClass, outcome) {
	if name := r.o.Settings.StorageClass; name != "" {
		sc, err := r.o.Kube.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil, fail("StorageClass %q (the storage-class setting) does not exist", name)
		case err != nil:
			return nil, readErr("StorageClass "+name, err)
		}
		return sc, outcome{}
	}
	list, err := r.o.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, readErr("StorageClasses", err)
	}
	var defaults []storagev1.StorageClass
	for _, sc := range list.Items {
		if sc.Annotations[defaultStorageClassAnnotation] == "true" || sc.Annotations[betaDefaultStorageClassAnnotation] == "true" {
			defaults = append(defaults, sc)
		}
	}
	if len(defaults) == 0 {
		return nil, fail("no StorageClass is the cluster default and none is configured: store volumes would stay Pending (%d classes exist)", len(list.Items))
	}
	// The API server gives a claim the newest default class.
	newest := defaults[0]
	for _, sc := range defaults[1:] {
		if sc.CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = sc
		}
	}
	return &newest, outcome{}
}

// readErr is the outcome of a read the identity may not make or the cluster did not answer.
func readErr(what string, err error) outcome {
	if apierrors.IsForbidden(err) {
		return warn("%s cannot be read by this identity, so this is not checked: %v", what, err)
	}
	out := fail("%s could not be read: %v", what, err)
	out.err = err
	return out
}

func checkStorageClass(ctx context.Context, r *runner) outcome {
	sc, out := r.storageClass(ctx)
	if sc == nil {
		return out
	}
	mode := storagev1.VolumeBindingImmediate
	if sc.VolumeBindingMode != nil {
		mode = *sc.VolumeBindingMode
	}
	how := "the default"
	if r.o.Settings.StorageClass != "" {
		how = "configured"
	}
	return ok("StorageClass %s (%s): provisioner %s, binding mode %s", sc.Name, how, sc.Provisioner, mode)
}

func checkExpansion(ctx context.Context, r *runner) outcome {
	sc, out := r.storageClass(ctx)
	if sc == nil {
		return out
	}
	if sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion {
		return warn("StorageClass %s does not allow volume expansion: a store's volumes cannot grow once created", sc.Name)
	}
	return ok("StorageClass %s allows volume expansion", sc.Name)
}

func checkIngressClass(ctx context.Context, r *runner) outcome {
	if name := r.o.Settings.IngressClass; name != "" {
		ic, err := r.o.Kube.NetworkingV1().IngressClasses().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return fail("IngressClass %q (the ingress-class setting) does not exist: no controller would serve the stores' Ingresses", name)
		case err != nil:
			return readErr("IngressClass "+name, err)
		}
		return ok("IngressClass %s exists (controller %s)", ic.Name, ic.Spec.Controller)
	}
	list, err := r.o.Kube.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return readErr("IngressClasses", err)
	}
	for _, ic := range list.Items {
		if ic.Annotations[defaultIngressClassAnnotation] == "true" {
			return ok("no IngressClass is configured; the cluster default %s (controller %s) serves the stores", ic.Name, ic.Spec.Controller)
		}
	}
	return fail("no IngressClass is configured and none is the cluster default: no controller would serve the stores' Ingresses")
}

func checkIngressController(ctx context.Context, r *runner) outcome {
	ns := r.o.Settings.IngressControllerNamespace
	if ns == "" {
		return skip("skipped: no ingress controller namespace is configured")
	}
	_, err := r.o.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fail("namespace %s does not exist: the stores' NetworkPolicy admits web traffic only from the ingress controller there", ns)
	case err != nil:
		return readErr("namespace "+ns, err)
	}
	sel := labels.SelectorFromSet(r.o.Settings.IngressControllerPodLabels)
	pods, err := r.o.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return readErr("pods in namespace "+ns, err)
	}
	ready := 0
	for i := range pods.Items {
		if podReady(&pods.Items[i]) {
			ready++
		}
	}
	switch {
	case len(pods.Items) == 0:
		return warn("no pod labelled %s runs in namespace %s: the stores' NetworkPolicy admits the ingress controller by these labels, and none runs there yet", describeSelector(sel), ns)
	case ready == 0:
		return warn("none of the %d ingress controller pods (%s) in namespace %s is ready", len(pods.Items), describeSelector(sel), ns)
	}
	return ok("%d of %d ingress controller pods (%s) ready in namespace %s", ready, len(pods.Items), describeSelector(sel), ns)
}

func describeSelector(sel labels.Selector) string {
	if s := sel.String(); s != "" {
		return s
	}
	return "any labels"
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// clusterIssuers is cert-manager's ClusterIssuer resource.
var clusterIssuers = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}

func checkClusterIssuer(ctx context.Context, r *runner) outcome {
	name := r.o.Settings.TLSClusterIssuer
	if name == "" {
		return skip("skipped: no TLS is configured (tls-cluster-issuer is empty)")
	}
	if r.o.Dynamic == nil {
		return skip("skipped: ClusterIssuers cannot be read here")
	}
	u, err := r.o.Dynamic.Resource(clusterIssuers).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fail("cert-manager ClusterIssuer %q does not exist (or cert-manager is not installed): the stores' certificates would never be issued", name)
	case err != nil:
		return readErr("ClusterIssuer "+name, err)
	}
	status, reason, message := readyCondition(u)
	if status != "True" {
		return fail("cert-manager ClusterIssuer %s is not Ready (%s): %s", name, orUnknown(reason), orUnknown(message))
	}
	return ok("cert-manager ClusterIssuer %s is Ready", name)
}

// readyCondition returns the Ready condition of a cert-manager object.
func readyCondition(u *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		return fmt.Sprint(m["status"]), str(m["reason"]), str(m["message"])
	}
	return "", "no Ready condition", ""
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
