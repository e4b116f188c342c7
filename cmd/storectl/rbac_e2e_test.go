//go:build e2e

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/store"
	"github.com/storectl/storectl/pkg/testcluster"
)

// rbacDocs is what docs/rbac.yaml applies.
type rbacDocs struct {
	operator, storeRole *rbacv1.ClusterRole
	lock                *rbacv1.Role
	policy              *admissionregistrationv1.ValidatingAdmissionPolicy
	policyBinding       *admissionregistrationv1.ValidatingAdmissionPolicyBinding
}

// loadRBAC reads docs/rbac.yaml, which must apply exactly the objects
// docs/rbac.md describes and no binding to anyone.
func loadRBAC(t *testing.T) rbacDocs {
	t.Helper()
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "docs", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var d rbacDocs
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("docs/rbac.yaml: %v", err)
		}
		var meta metav1.TypeMeta
		if len(raw) == 0 || string(raw) == "null" {
			continue // a document of comments only
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		var into any
		switch meta.Kind {
		case "ClusterRole":
			into = &rbacv1.ClusterRole{}
		case "Role":
			d.lock = &rbacv1.Role{}
			into = d.lock
		case "ValidatingAdmissionPolicy":
			d.policy = &admissionregistrationv1.ValidatingAdmissionPolicy{}
			into = d.policy
		case "ValidatingAdmissionPolicyBinding":
			d.policyBinding = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			into = d.policyBinding
		default:
			t.Fatalf("docs/rbac.yaml applies a %s; bindings to people are examples to adapt", meta.Kind)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("docs/rbac.yaml %s: %v", meta.Kind, err)
		}
		if r, ok := into.(*rbacv1.ClusterRole); ok {
			switch r.Name {
			case "storectl":
				d.operator = r
			case store.StoreRoleName:
				d.storeRole = r
			default:
				t.Errorf("docs/rbac.yaml applies an unexpected ClusterRole %s", r.Name)
			}
		}
	}
	return d
}

// leastPrivilegeServiceAccount applies docs/rbac.yaml and binds it, as
// docs/rbac.md tells an operator to, to a new ServiceAccount; it returns the
// account's namespace and a token. The objects storectl itself names
// (storectl-store and the admission policy) keep their names and are shared
// by every run, being the same in each; the operator's roles and bindings
// get names of their own, so that runs sharing the cluster do not collide.
func leastPrivilegeServiceAccount(t *testing.T, c *testcluster.Cluster) (string, string) {
	t.Helper()
	ctx := context.Background()
	d := loadRBAC(t)
	if d.operator == nil || d.storeRole == nil || d.lock == nil || d.policy == nil || d.policyBinding == nil {
		t.Fatalf("docs/rbac.yaml lacks an object docs/rbac.md describes: %+v", d)
	}
	rbac := c.Client.RbacV1()
	adm := c.Client.AdmissionregistrationV1()
	shared := func(what string, create func() error, update func() error) {
		err := create()
		if apierrors.IsAlreadyExists(err) {
			err = retry.RetryOnConflict(retry.DefaultRetry, update)
		}
		if err != nil {
			t.Fatalf("apply %s: %v", what, err)
		}
	}
	shared("ClusterRole "+d.storeRole.Name, func() error {
		_, err := rbac.ClusterRoles().Create(ctx, d.storeRole, metav1.CreateOptions{})
		return err
	}, func() error {
		cur, err := rbac.ClusterRoles().Get(ctx, d.storeRole.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Rules = d.storeRole.Rules
		_, err = rbac.ClusterRoles().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	shared("policy "+d.policy.Name, func() error {
		_, err := adm.ValidatingAdmissionPolicies().Create(ctx, d.policy, metav1.CreateOptions{})
		return err
	}, func() error {
		cur, err := adm.ValidatingAdmissionPolicies().Get(ctx, d.policy.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Spec = d.policy.Spec
		_, err = adm.ValidatingAdmissionPolicies().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	shared("policy binding "+d.policyBinding.Name, func() error {
		_, err := adm.ValidatingAdmissionPolicyBindings().Create(ctx, d.policyBinding, metav1.CreateOptions{})
		return err
	}, func() error {
		cur, err := adm.ValidatingAdmissionPolicyBindings().Get(ctx, d.policyBinding.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Spec = d.policyBinding.Spec
		_, err = adm.ValidatingAdmissionPolicyBindings().Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	// The API server enforces a new policy once it has loaded and type-checked it, a
	// moment after it is created: wait until a binding of storectl-store outside a store
	// is refused (a dry run, so nothing is created).
	eventually(t, 30*time.Second, "the admission policy to take effect", func() bool {
		_, err := rbac.RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "storectl-policy-probe"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: d.storeRole.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "storectl-policy-probe"}},
		}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil
	})

	suffix := uniqueStore("e2e")
	ns := c.NewNamespace(t, "e2e-ci", nil)
	token := serviceAccountToken(t, c, ns, "storectl-ci")
	subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "storectl-ci", Namespace: ns}}

	role := d.operator.DeepCopy()
	role.ObjectMeta = metav1.ObjectMeta{Name: "storectl-" + suffix}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{}) })
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   subjects,
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{}) })

	lock := d.lock.DeepCopy()
	lockNS := lock.Namespace
	lock.ObjectMeta = metav1.ObjectMeta{Name: lock.Name + "-" + suffix, Namespace: lockNS}
	if _, err := rbac.Roles(lockNS).Create(ctx, lock, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.Roles(lockNS).Delete(context.Background(), lock.Name, metav1.DeleteOptions{}) })
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: lock.Name, Namespace: lockNS},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: lock.Name},
		Subjects:   subjects,
	}
	if _, err := rbac.RoleBindings(lockNS).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.RoleBindings(lockNS).Delete(context.Background(), rb.Name, metav1.DeleteOptions{}) })
	return ns, token
}

// The identity of docs/rbac.yaml works on stores only: outside store
// namespaces it can neither run a workload nor read a Secret, it cannot touch
// the control plane's Leases, and it cannot grant itself more by binding
// storectl-store (or anything stronger) elsewhere, not even in a namespace of
// its own that looks like a store but does not enforce Pod Security.
func TestLeastPrivilegeServiceAccountStaysInStores(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ctx := context.Background()
	_, token := leastPrivilegeServiceAccount(t, c)
	cfg := rest.AnonymousClientConfig(c.Config)
	cfg.BearerToken = token
	sa, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The authorizer learns of a new binding within moments.
	eventually(t, 30*time.Second, "the binding to take effect", func() bool {
		_, err := sa.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil
	})

	foreign := c.NewNamespace(t, "e2e-foreign", nil)
	if _, err := c.Client.CoreV1().Secrets(foreign).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "private"},
		StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s as the ServiceAccount: %v, want forbidden", what, err)
		}
	}
	labels := map[string]string{"app": "x"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "example/x:1"}}}}}}
	for _, ns := range []string{foreign, "kube-system", "default"} {
		_, err := sa.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
		forbidden("create a Deployment in "+ns, err)
		_, err = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		forbidden("list Secrets in "+ns, err)
	}
	_, err = sa.CoreV1().Secrets(foreign).Get(ctx, "private", metav1.GetOptions{})
	forbidden("read a Secret in "+foreign, err)
	_, err = sa.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	forbidden("list Secrets cluster-wide", err)

	leases, err := c.Client.CoordinationV1().Leases("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil || len(leases.Items) == 0 {
		t.Fatalf("kube-system has no Leases to try: %v", err)
	}
	for _, l := range leases.Items {
		l.Spec.HolderIdentity = ptr.To("storectl-ci")
		_, err := sa.CoordinationV1().Leases("kube-system").Update(ctx, &l, metav1.UpdateOptions{})
		forbidden("update Lease kube-system/"+l.Name, err)
	}
	_, err = sa.CoordinationV1().Leases("kube-node-lease").Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	forbidden("create a Lease in kube-node-lease", err)

	bind := func(ns, role string) error {
		_, err := sa.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "storectl"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "storectl-ci", Namespace: foreign}},
		}, metav1.CreateOptions{})
		return err
	}
	forbidden("bind cluster-admin in "+foreign, bind(foreign, "cluster-admin"))
	forbidden("bind "+store.StoreRoleName+" in "+foreign, bind(foreign, store.StoreRoleName))
	forbidden("bind "+store.StoreRoleName+" in kube-system", bind("kube-system", store.StoreRoleName))

	// A namespace the identity creates itself, labelled as a store, but
	// without the restricted Pod Security level storectl sets.
	fake := uniqueStore("lookalike")
	if _, err := sa.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: store.Namespace(fake),
		Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: fake}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), store.Namespace(fake), metav1.DeleteOptions{})
	})
	forbidden("bind "+store.StoreRoleName+" in a store look-alike without Pod Security", bind(store.Namespace(fake), store.StoreRoleName))
	_, err = sa.AppsV1().Deployments(store.Namespace(fake)).Create(ctx, dep, metav1.CreateOptions{})
	forbidden("create a Deployment in a store look-alike", err)
}
