package doctor

import (
	"context"
	"errors"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/storectl/storectl/pkg/kube"
)

// serverVersion reads /version, giving up when ctx ends: discovery takes no context, and a
// silent API server would otherwise hold the check forever.
func serverVersion(ctx context.Context, r *runner) (*version.Info, error) {
	type answer struct {
		v   *version.Info
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		v, err := r.o.Kube.Discovery().ServerVersion()
		ch <- answer{v, err}
	}()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		return nil, &kube.Error{Kind: kube.KindUnreachable,
			// Not wrapping ctx.Err(): a deadline here means an unreachable server, not a timeout.
			Err: fmt.Errorf("the API server did not answer /version within %s", r.checkTimeout)}
	}
}

func checkReachable(ctx context.Context, r *runner) outcome {
	v, err := serverVersion(ctx, r)
	switch {
	case err == nil:
		r.version = v.GitVersion
		return ok("the API server answers: Kubernetes %s", v.GitVersion)
	case kube.Classify(err) == kube.KindUnauthorized:
		// It answered, if only to refuse: the credentials check says more.
		return ok("the API server answers (it refused to tell its version: %v)", err)
	}
	out := fail("the API server cannot be reached: %v", err)
	out.err = err
	return out
}

func checkCredentials(ctx context.Context, r *runner) outcome {
	rev, err := r.o.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case err == nil:
		if u := rev.Status.UserInfo.Username; u != "" {
			return ok("the credentials are accepted: authenticated as %s", u)
		}
		return ok("the credentials are accepted")
	case kube.IsUnauthorized(err) && !isForbidden(err):
		out := fail("the API server refuses the credentials: %v", err)
		out.err = err
		return out
	case isForbidden(err):
		return warn("the credentials are accepted, but the identity may not review itself: %v", err)
	}
	out := fail("the credentials could not be checked: %v", err)
	out.err = err
	return out
}

func checkVersion(_ context.Context, r *runner) outcome {
	if r.version == "" {
		return skip("skipped: the server did not tell its version")
	}
	if r.o.KubeVersion == "" {
		return skip("skipped: the chart states no Kubernetes version")
	}
	if !chartutil.IsCompatibleRange(r.o.KubeVersion, r.version) {
		return fail("Kubernetes %s is outside the range the chart supports (%s)", r.version, r.o.KubeVersion)
	}
	return ok("Kubernetes %s is inside the range the chart supports (%s)", r.version, r.o.KubeVersion)
}
