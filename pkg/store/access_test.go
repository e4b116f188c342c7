package store

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/storectl/storectl/pkg/release/releasetest"
)

// accessCluster is a fake cluster authenticating the caller as user and
// authorizing it in a namespace when that namespace's storectl RoleBinding
// names it, or everywhere when wide.
func accessCluster(t *testing.T, user string, wide bool, objs ...runtime.Object) (*fake.Clientset, *Engine) {
	t.Helper()
	kc := fake.NewClientset(objs...)
	kc.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{
			UserInfo: authenticationv1.UserInfo{Username: user}}}, nil
	})
	kc.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		allowed := wide
		if rb, err := kc.Tracker().Get(rbacv1.SchemeGroupVersion.WithResource("rolebindings"), r.Spec.ResourceAttributes.Namespace, StoreBindingName); err == nil {
			want, _ := subjectOf(user)
			for _, s := range rb.(*rbacv1.RoleBinding).Subjects {
				allowed = allowed || (s == want && rb.(*rbacv1.RoleBinding).RoleRef.Name == StoreRoleName)
			}
		}
		r.Status.Allowed = allowed
		return true, r, nil
	})
	e, err := New(Options{Kube: kc, Releases: releasetest.NewMemory(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return kc, e
}

func rbacActions(kc *fake.Clientset) []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range kc.Actions() {
		if a.GetResource().Resource == "rolebindings" && a.GetVerb() != "get" {
			out = append(out, a)
		}
	}
	return out
}

func TestEnsureAccessBindsTheCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sa := "system:serviceaccount:ci:storectl-ci"

	t.Run("new namespace", func(t *testing.T) {
		kc, e := accessCluster(t, sa, false, storeNS("shop"))
		if err := e.ensureAccess(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		rb, err := kc.RbacV1().RoleBindings("store-shop").Get(ctx, StoreBindingName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "storectl-ci"}
		if rb.RoleRef.Kind != "ClusterRole" || rb.RoleRef.Name != StoreRoleName || len(rb.Subjects) != 1 || rb.Subjects[0] != want {
			t.Errorf("binding = %+v %+v, want %s bound to %+v", rb.RoleRef, rb.Subjects, StoreRoleName, want)
		}
		if !e.mayWorkIn(ctx, "store-shop") {
			t.Error("the caller may not work in the namespace after the binding")
		}
	})

	t.Run("another operator's store", func(t *testing.T) {
		other := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: StoreBindingName, Namespace: "store-shop"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: StoreRoleName},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "alice"}}}
		kc, e := accessCluster(t, "bob", false, storeNS("shop"), other)
		if err := e.ensureAccess(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		rb, _ := kc.RbacV1().RoleBindings("store-shop").Get(ctx, StoreBindingName, metav1.GetOptions{})
		if len(rb.Subjects) != 2 || rb.Subjects[0].Name != "alice" || rb.Subjects[1].Name != "bob" || rb.Subjects[1].Kind != rbacv1.UserKind {
			t.Errorf("subjects = %+v, want alice and bob", rb.Subjects)
		}
	})

	t.Run("already allowed", func(t *testing.T) {
		kc, e := accessCluster(t, "kubernetes-admin", true, storeNS("shop"))
		if err := e.ensureAccess(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		if acts := rbacActions(kc); len(acts) != 0 {
			t.Errorf("an identity that may already work in the namespace changed bindings: %v", acts)
		}
	})
}

func TestSubjectOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		user string
		want rbacv1.Subject
		ok   bool
	}{
		{"system:serviceaccount:ci:storectl-ci", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "storectl-ci"}, true},
		{"alice@example.com", rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "alice@example.com"}, true},
		{"system:serviceaccount:ci", rbacv1.Subject{}, false},
		{"", rbacv1.Subject{}, false},
	} {
		got, ok := subjectOf(c.user)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("subjectOf(%q) = %+v, %v; want %+v, %v", c.user, got, ok, c.want, c.ok)
		}
	}
}
