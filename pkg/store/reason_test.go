package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestOutcomeReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, ""},
		{"image pull", &Error{Err: ErrFailed, Component: ComponentWordPress, Reason: "ImagePullBackOff"}, OutcomeImagePullBackOff},
		{"invalid image", &Error{Err: ErrFailed, Component: ComponentDatabase, Reason: "InvalidImageName"}, OutcomeImagePullBackOff},
		{"image pull in the setup Job", &Error{Err: ErrFailed, Component: ComponentSetup, Reason: "ErrImagePull"}, OutcomeImagePullBackOff},
		{"crash loop", &Error{Err: ErrFailed, Component: ComponentWordPress, Reason: "CrashLoopBackOff"}, OutcomeCrashLoopBackOff},
		{"unschedulable", &Error{Err: ErrFailed, Reason: "Unschedulable"}, OutcomeUnschedulable},
		{"quota", &Error{Err: ErrFailed, Reason: "FailedCreate", Message: `ReplicaSet x cannot create pods: pods "x" is forbidden: exceeded quota: store`}, OutcomeQuotaExceeded},
		{"pod security", &Error{Err: ErrFailed, Reason: "FailedCreate", Message: `violates PodSecurity "restricted:latest"`}, OutcomeAdmissionRefused},
		{"other FailedCreate", &Error{Err: ErrFailed, Reason: "FailedCreate", Message: "something else"}, OutcomeFailed},
		{"volume", &Error{Err: ErrFailed, Reason: "ProvisioningFailed"}, OutcomeVolumeUnbound},
		{"setup Job", &Error{Err: ErrFailed, Component: ComponentSetup, Reason: "BackoffLimitExceeded"}, OutcomeSetupFailed},
		{"setup, reason unknown", &Error{Err: ErrFailed, Component: ComponentSetup, Reason: "SomethingNew"}, OutcomeSetupFailed},
		{"timeout", &Error{Err: ErrTimeout, Reason: "Timeout"}, OutcomeTimeout},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), OutcomeTimeout},
		{"interrupted", interrupted("shop", "install"), OutcomeInterrupted},
		{"cancelled", context.Canceled, OutcomeInterrupted},
		{"unreachable", unreachableErr("shop", "reading", nil), OutcomeUnreachable},
		{"forbidden", apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "", errors.New("RBAC")), OutcomeForbidden},
		{"limit", &Error{Err: ErrLimitReached, Reason: "LimitReached"}, OutcomeLimitReached},
		{"exists", &Error{Err: ErrAlreadyExists, Reason: "AlreadyExists"}, OutcomeAlreadyExists},
		{"drift", &Error{Err: ErrFailed, Component: "release", Reason: ReasonDrift}, OutcomeReleaseDrift},
		{"invalid values", fmt.Errorf("%w: x", ErrInvalidValues), OutcomeInvalidInput},
		{"plain", errors.New("boom"), OutcomeOther},
	}
	for _, tt := range tests {
		got := OutcomeReason(tt.err)
		if got != tt.want {
			t.Errorf("%s: OutcomeReason(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
		if got != "" && !slices.Contains(OutcomeReasons, got) {
			t.Errorf("%s: %q is not in OutcomeReasons", tt.name, got)
		}
	}
	for _, r := range failureReasons {
		if !slices.Contains(OutcomeReasons, r) {
			t.Errorf("failureReasons maps onto %q, which OutcomeReasons lacks", r)
		}
	}
}
