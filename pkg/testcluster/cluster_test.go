package testcluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/storectl/storectl/pkg/testcluster"
)

func TestClusterLooksLikeAUsersCluster(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 30*time.Second)

	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, n := range nodes.Items {
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready++
			}
		}
		if len(n.Spec.Taints) != 0 {
			t.Errorf("node %s has taints %v; workloads would need tolerations", n.Name, n.Spec.Taints)
		}
	}
	if len(nodes.Items) != 3 || ready != 3 {
		t.Errorf("got %d nodes, %d Ready; want 3 Ready", len(nodes.Items), ready)
	}

	sc, err := c.Client.StorageV1().StorageClasses().Get(ctx, "standard", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("StorageClass standard is not the default: %v", sc.Annotations)
	}
	if sc.ReclaimPolicy == nil || *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("StorageClass standard reclaim policy = %v, want Delete", sc.ReclaimPolicy)
	}
	if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		t.Errorf("StorageClass standard binding mode = %v, want WaitForFirstConsumer", sc.VolumeBindingMode)
	}

	for _, name := range []string{"nginx", "traefik"} {
		if _, err := c.Client.NetworkingV1().IngressClasses().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("IngressClass %s: %v", name, err)
		}
	}
	if _, err := c.Client.CoreV1().Namespaces().Get(ctx, "ingress-nginx", metav1.GetOptions{}); err != nil {
		t.Errorf("namespace ingress-nginx: %v", err)
	}

	if !strings.HasPrefix(c.Config.Host, "https://127.0.0.1:") {
		t.Errorf("API server at %s, want https on 127.0.0.1", c.Config.Host)
	}
	if out := c.Kubectl(t, "version", "-o", "json"); !strings.Contains(out, testcluster.KubeVersion) {
		t.Errorf("kubectl version does not mention %s:\n%s", testcluster.KubeVersion, out)
	}
}

func TestRBACIsEnforced(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 30*time.Second)
	ns := c.NewNamespace(t, "rbac", nil)

	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":nobody"}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a ServiceAccount without any binding listed secrets: err = %v, want Forbidden", err)
	}
}

func TestRestrictedDeploymentBecomesAvailable(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 90*time.Second)
	ns := c.NewNamespace(t, "restricted", restrictedLabels)

	d, err := c.Client.AppsV1().Deployments(ns).Create(ctx, deployment("web", 2, podTemplate(nil, nil)), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	lw := cache.NewListWatchFromClient(c.Client.AppsV1().RESTClient(), "deployments", ns, fields.OneTermEqualSelector("metadata.name", d.Name))
	got := watchObject(t, ctx, lw, &appsv1.Deployment{}, func(d *appsv1.Deployment) bool {
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue {
				return d.Status.AvailableReplicas == 2
			}
		}
		return false
	})
	if got.Status.ReadyReplicas != 2 {
		t.Errorf("ready replicas = %d, want 2", got.Status.ReadyReplicas)
	}

	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.PodIP == "" || podCondition(&p, corev1.PodReady) != corev1.ConditionTrue {
			t.Errorf("pod %s: node %q, IP %q, Ready %s", p.Name, p.Spec.NodeName, p.Status.PodIP, podCondition(&p, corev1.PodReady))
		}
	}
}

func TestPodSecurityRejectsNonCompliantPods(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "psa", restrictedLabels)

	tpl := podTemplate(nil, nil)
	tpl.Spec.SecurityContext = nil
	tpl.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}

	_, err := c.Client.CoreV1().Pods(ns).Create(ctx, barePod("privileged", tpl), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("creating a privileged pod: err = %v, want Forbidden by PodSecurity", err)
	}

	if _, err := c.Client.AppsV1().Deployments(ns).Create(ctx, deployment("privileged", 1, tpl), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	// The Deployment is accepted; its ReplicaSet cannot create the pod and says why.
	var message string
	eventually(t, ctx, "the ReplicaSet to report FailedCreate", func(ctx context.Context) (bool, error) {
		rss, err := c.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=privileged"})
		if err != nil || len(rss.Items) == 0 {
			return false, err
		}
		for _, cond := range rss.Items[0].Status.Conditions {
			if cond.Type == appsv1.ReplicaSetReplicaFailure && cond.Reason == "FailedCreate" {
				message = cond.Message
				return true, nil
			}
		}
		return false, nil
	})
	if !strings.Contains(message, "violates PodSecurity \"restricted:latest\"") {
		t.Errorf("FailedCreate message = %q, want the PodSecurity violation", message)
	}
	events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedCreate"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no FailedCreate event recorded")
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Errorf("%d pods exist in a namespace that must refuse them", len(pods.Items))
	}
}

func TestResourceQuotaIsEnforced(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 60*time.Second)
	ns := c.NewNamespace(t, "quota", restrictedLabels)

	_, err := c.Client.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "store"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods:           resource.MustParse("3"),
			corev1.ResourceRequestsCPU:    resource.MustParse("120m"),
			corev1.ResourceRequestsMemory: resource.MustParse("1Gi"),
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Admission counts against the quota's status, which the quota
	// controller fills in; start once it has.
	eventually(t, ctx, "the quota to be counted", func(ctx context.Context) (bool, error) {
		q, err := c.Client.CoreV1().ResourceQuotas(ns).Get(ctx, "store", metav1.GetOptions{})
		return err == nil && len(q.Status.Hard) == 3, err
	})

	// Each pod requests 50m: two fit in 120m, the third does not.
	if _, err := c.Client.AppsV1().Deployments(ns).Create(ctx, deployment("web", 3, podTemplate(nil, nil)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var message string
	eventually(t, ctx, "the ReplicaSet to hit the quota", func(ctx context.Context) (bool, error) {
		rss, err := c.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil || len(rss.Items) == 0 {
			return false, err
		}
		for _, cond := range rss.Items[0].Status.Conditions {
			if cond.Type == appsv1.ReplicaSetReplicaFailure && cond.Reason == "FailedCreate" {
				message = cond.Message
				return true, nil
			}
		}
		return false, nil
	})
	if !strings.Contains(message, "exceeded quota: store") || !strings.Contains(message, "requests.cpu") {
		t.Errorf("FailedCreate message = %q, want the exceeded cpu quota", message)
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Errorf("%d pods admitted, want 2 within the quota", len(pods.Items))
	}

	// A pod that states no requests is refused outright under a requests quota.
	bare := podTemplate(nil, nil)
	bare.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	_, err = c.Client.CoreV1().Pods(ns).Create(ctx, barePod("no-requests", bare), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "must specify") {
		t.Errorf("pod without requests: err = %v, want Forbidden for missing requests", err)
	}
}

func TestJobCompletes(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 90*time.Second)
	ns := c.NewNamespace(t, "job", restrictedLabels)

	j, err := c.Client.BatchV1().Jobs(ns).Create(ctx, job("setup", 2, podTemplate(nil, nil)), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lw := cache.NewListWatchFromClient(c.Client.BatchV1().RESTClient(), "jobs", ns, fields.OneTermEqualSelector("metadata.name", j.Name))
	got := watchObject(t, ctx, lw, &batchv1.Job{}, func(j *batchv1.Job) bool {
		for _, cond := range j.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			if cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed {
				return true
			}
		}
		return false
	})
	if got.Status.Succeeded != 1 || got.Status.Failed != 0 {
		t.Fatalf("job finished with succeeded=%d failed=%d conditions=%v, want one success", got.Status.Succeeded, got.Status.Failed, got.Status.Conditions)
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=setup"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodSucceeded {
		t.Fatalf("job pods = %d, want one Succeeded", len(pods.Items))
	}
	if s := pods.Items[0].Status.ContainerStatuses; len(s) != 1 || s[0].State.Terminated == nil || s[0].State.Terminated.ExitCode != 0 {
		t.Errorf("job container status = %+v, want terminated with exit code 0", s)
	}
}

// claimingPod returns a pod that mounts the claim, so that a
// WaitForFirstConsumer claim gets a node and a volume.
func claimingPod(name, claim string) *corev1.Pod {
	tpl := podTemplate(nil, nil)
	tpl.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
	}}}
	tpl.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	return barePod(name, tpl)
}

func claim(name, size string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
}

func TestPersistentVolumeClaimBinds(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 90*time.Second)
	ns := c.NewNamespace(t, "pvc", restrictedLabels)

	for _, name := range []string{"used", "unused"} {
		if _, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim(name, "2Gi"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, claimingPod("consumer", "used"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := watchPod(t, ctx, c, ns, "consumer", func(p *corev1.Pod) bool {
		return podCondition(p, corev1.PodReady) == corev1.ConditionTrue
	})

	pvc, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "used", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "standard" {
		t.Fatalf("claim used: phase %s, class %v; want Bound to the default class standard", pvc.Status.Phase, pvc.Spec.StorageClassName)
	}
	pv, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pv.Spec.Capacity[corev1.ResourceStorage]; got.String() != "2Gi" {
		t.Errorf("volume capacity %s, want 2Gi", got.String())
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("volume reclaim policy %s, want Delete", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID {
		t.Errorf("volume claimRef %+v does not point at the claim", pv.Spec.ClaimRef)
	}
	affinity := fmt.Sprint(pv.Spec.NodeAffinity)
	if !strings.Contains(affinity, pod.Spec.NodeName) {
		t.Errorf("volume node affinity %s does not pin it to the pod's node %s", affinity, pod.Spec.NodeName)
	}

	// Nobody uses the other claim yet, so it waits, as on kind or k3s.
	unused, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "unused", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if unused.Status.Phase != corev1.ClaimPending || unused.Spec.VolumeName != "" {
		t.Errorf("claim without a consumer: phase %s volume %q, want Pending without a volume", unused.Status.Phase, unused.Spec.VolumeName)
	}
}

func TestNamespaceDeletionRemovesEverything(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := testContext(t, 150*time.Second)
	ns := c.NewNamespace(t, "teardown", restrictedLabels)

	// What a store holds: a database StatefulSet with a claim template, a
	// Deployment with its own claim, a finished Job, a Service, an Ingress.
	db := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template:    podTemplate(map[string]string{"app": "db"}, nil),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{
				*claim("data", "1Gi"),
			},
		},
	}
	db.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/db"}}
	if _, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, db, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim("web", "1Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	web := deployment("web", 1, podTemplate(nil, nil))
	web.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "web"},
	}}}
	if _, err := c.Client.AppsV1().Deployments(ns).Create(ctx, web, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.BatchV1().Jobs(ns).Create(ctx, job("setup", 1, podTemplate(nil, nil)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pathType := networkingv1.PathTypePrefix
	if _, err := c.Client.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: new("nginx"),
			Rules: []networkingv1.IngressRule{{Host: "shop.127.0.0.1.nip.io", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}}}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Wait until it all runs and both claims have volumes.
	var volumes []string
	eventually(t, ctx, "the workloads to run with bound claims", func(ctx context.Context) (bool, error) {
		pvcs, err := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		volumes = volumes[:0]
		for _, pvc := range pvcs.Items {
			if pvc.Status.Phase != corev1.ClaimBound {
				return false, nil
			}
			volumes = append(volumes, pvc.Spec.VolumeName)
		}
		if len(volumes) != 2 {
			return false, nil
		}
		j, err := c.Client.BatchV1().Jobs(ns).Get(ctx, "setup", metav1.GetOptions{})
		return err == nil && j.Status.Succeeded == 1, err
	})

	if err := c.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "the namespace to be gone", func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	eventually(t, ctx, "the volumes to be deleted", func(ctx context.Context) (bool, error) {
		for _, name := range volumes {
			_, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				return false, nil
			}
			if !apierrors.IsNotFound(err) {
				return false, err
			}
		}
		return true, nil
	})
	// Nothing anywhere still refers to the namespace.
	pvs, err := c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
			t.Errorf("volume %s of namespace %s is left", pv.Name, ns)
		}
	}
}
