package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/kube"
)

// An identity with docs/rbac.yaml's ClusterRole storectl holds what it needs
// inside a store namespace only through a RoleBinding there, to the
// ClusterRole StoreRoleName, which storectl creates when it works on the
// store (docs/rbac.md).
const (
	// StoreRoleName is the ClusterRole bound in each store namespace.
	StoreRoleName = "storectl-store"
	// StoreBindingName is the RoleBinding that binds it.
	StoreBindingName = "storectl"
	// accessWait bounds waiting for a new binding to take effect: the
	// authorizer learns of it from a watch.
	accessWait = 10 * time.Second
)

// ensureAccess makes sure the caller may work inside the store's namespace:
// when it may not yet, it adds itself to the namespace's RoleBinding (creating
// it if need be) and waits for the binding to take effect. An identity that
// already may (cluster-wide rights, an earlier binding) changes nothing, nor
// does one whose name the cluster does not tell (then the calls that follow
// report what is missing).
func (e *Engine) ensureAccess(ctx context.Context, name string) error {
	ns := Namespace(name)
	if e.mayWorkIn(ctx, ns) {
		return nil
	}
	subject, ok := subjectOf(kube.Identity(ctx, e.kube))
	if !ok {
		return nil
	}
	rbs := e.kube.RbacV1().RoleBindings(ns)
	rb, err := rbs.Get(ctx, StoreBindingName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = rbs.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: StoreBindingName, Namespace: ns,
				Labels: map[string]string{LabelManagedBy: ManagedBy, LabelStore: name}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: StoreRoleName},
			Subjects: []rbacv1.Subject{subject},
		}, metav1.CreateOptions{})
	case err == nil:
		for _, s := range rb.Subjects {
			if s.Kind == subject.Kind && s.Name == subject.Name && s.Namespace == subject.Namespace {
				return nil // bound, and about to take effect
			}
		}
		rb.Subjects = append(rb.Subjects, subject)
		_, err = rbs.Update(ctx, rb, metav1.UpdateOptions{})
	}
	if err != nil {
		return accessErr(ctx, name, err)
	}
	deadline := time.Now().Add(accessWait)
	for !e.mayWorkIn(ctx, ns) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return interrupted(name, "binding "+StoreRoleName)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// mayWorkIn asks the API server whether the caller may create Secrets in ns,
// which docs/rbac.yaml grants only through StoreRoleName. A failed review
// counts as allowed: the calls that follow then report the real error.
func (e *Engine) mayWorkIn(ctx context.Context, ns string) bool {
	r, err := e.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: "create", Resource: "secrets"}},
	}, metav1.CreateOptions{})
	return err != nil || r.Status.Allowed
}

// subjectOf turns an authenticated user name into a RoleBinding subject.
func subjectOf(user string) (rbacv1.Subject, bool) {
	const sa = "system:serviceaccount:"
	if rest, ok := strings.CutPrefix(user, sa); ok {
		ns, name, ok := strings.Cut(rest, ":")
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}, ok && ns != "" && name != ""
	}
	return rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}, user != ""
}

func accessErr(ctx context.Context, name string, err error) error {
	if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
		return &Error{Err: ErrUnauthorized, Store: name, Reason: ReasonBindingRefused, Cause: err,
			Message: fmt.Sprintf("binding %s in %s: %v", StoreRoleName, Namespace(name), err)}
	}
	return clusterErr(ctx, name, "bind "+StoreRoleName+" in "+Namespace(name), err)
}
