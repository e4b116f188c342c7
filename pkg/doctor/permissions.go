package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Roles of docs/rbac.yaml the permission checks test.
const (
	OperatorRoleName = "storectl"
	CreateLockRole   = "storectl-create-lock"
)

// Roles are the roles of docs/rbac.yaml that an operator must hold.
type Roles struct {
	// Operator is the ClusterRole an operator holds cluster-wide.
	Operator *rbacv1.ClusterRole
	// CreateLock is the Role an operator holds in the create lock's namespace.
	CreateLock *rbacv1.Role
}

// ParseRoles reads the operator's roles from docs/rbac.yaml.
func ParseRoles(doc []byte) (Roles, error) {
	var out Roles
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(doc), 4096)
	for {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("docs/rbac.yaml: %w", err)
		}
		b, err := yaml.Marshal(raw)
		if err != nil {
			return out, err
		}
		switch raw["kind"] {
		case "ClusterRole":
			var cr rbacv1.ClusterRole
			if err := yaml.Unmarshal(b, &cr); err != nil {
				return out, fmt.Errorf("docs/rbac.yaml ClusterRole: %w", err)
			}
			if cr.Name == OperatorRoleName {
				out.Operator = &cr
			}
		case "Role":
			var role rbacv1.Role
			if err := yaml.Unmarshal(b, &role); err != nil {
				return out, fmt.Errorf("docs/rbac.yaml Role: %w", err)
			}
			if role.Name == CreateLockRole {
				out.CreateLock = &role
			}
		}
	}
	if out.Operator == nil || out.CreateLock == nil {
		return out, fmt.Errorf("docs/rbac.yaml lacks ClusterRole %s or Role %s", OperatorRoleName, CreateLockRole)
	}
	return out, nil
}

// access is one permission: a verb on a resource, perhaps of one name, in a namespace or
// cluster-wide.
type access struct {
	namespace, verb, group, resource, subresource, name string
}

func (a access) String() string {
	res := a.resource
	if a.group != "" {
		res += "." + a.group
	}
	if a.subresource != "" {
		res += "/" + a.subresource
	}
	if a.name != "" {
		res += " " + a.name
	}
	return a.verb + " " + res
}

// accesses expands rules into single permissions.
func accesses(namespace string, rules []rbacv1.PolicyRule) []access {
	var out []access
	for _, rule := range rules {
		names := rule.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				resource, sub, _ := strings.Cut(res, "/")
				for _, v := range rule.Verbs {
					for _, n := range names {
						out = append(out, access{namespace: namespace, verb: v, group: g, resource: resource, subresource: sub, name: n})
					}
				}
			}
		}
	}
	return out
}

// missing returns the permissions the identity lacks, asking the API server one
// SelfSubjectAccessReview per permission, a few at a time.
func (r *runner) missing(ctx context.Context, want []access) ([]string, error) {
	var (
		mu      sync.Mutex
		denied  []string
		firstEr error
		wg      sync.WaitGroup
		slots   = make(chan struct{}, 8)
	)
	for _, a := range want {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			rev, err := r.o.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Name: a.name,
				}},
			}, metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && firstEr == nil:
				firstEr = err
			case err == nil && !rev.Status.Allowed:
				denied = append(denied, a.String())
			}
		}()
	}
	wg.Wait()
	sort.Strings(denied)
	return denied, firstEr
}

func (r *runner) checkRules(ctx context.Context, what, namespace string, rules []rbacv1.PolicyRule) outcome {
	want := accesses(namespace, rules)
	denied, err := r.missing(ctx, want)
	if err != nil {
		if apierrors.IsForbidden(err) {
			return fail("%s: the identity may not review its own permissions: %v", what, err)
		}
		out := fail("%s: the permissions could not be reviewed: %v", what, err)
		out.err = err
		return out
	}
	if len(denied) > 0 {
		return fail("%s: %d of %d permissions missing: %s", what, len(denied), len(want), strings.Join(denied, ", "))
	}
	return ok("%s: all %d permissions granted", what, len(want))
}

func (r *runner) roles() (Roles, error) {
	if r.o.RBAC == nil {
		return Roles{}, errors.New("no docs/rbac.yaml given")
	}
	return ParseRoles(r.o.RBAC)
}

func checkOperatorPermissions(ctx context.Context, r *runner) outcome {
	roles, err := r.roles()
	if err != nil {
		return skip("skipped: %v", err)
	}
	return r.checkRules(ctx, "ClusterRole "+OperatorRoleName+" of docs/rbac.yaml, cluster-wide", "", roles.Operator.Rules)
}

func checkLockPermissions(ctx context.Context, r *runner) outcome {
	roles, err := r.roles()
	if err != nil {
		return skip("skipped: %v", err)
	}
	ns := r.o.LockNamespace
	return r.checkRules(ctx, fmt.Sprintf("Role %s of docs/rbac.yaml, in namespace %s", CreateLockRole, ns), ns, roles.CreateLock.Rules)
}

// isForbidden reports an RBAC refusal (403), as opposed to refused credentials (401).
func isForbidden(err error) bool { return apierrors.IsForbidden(err) }
