package store

import (
	"context"
	"errors"
	"strings"

	"github.com/storectl/storectl/pkg/kube"
)

// Outcome reasons: the bounded set an operation's outcome is classified into, for the audit
// log and the figures computed from it. Unlike Error.Reason, which carries the cluster's own
// words, these never grow with what the cluster says.
const (
	OutcomeImagePullBackOff   = "ImagePullBackOff"
	OutcomeCrashLoopBackOff   = "CrashLoopBackOff"
	OutcomeUnschedulable      = "Unschedulable"
	OutcomeQuotaExceeded      = "QuotaExceeded"
	OutcomeAdmissionRefused   = "AdmissionRefused"
	OutcomeVolumeUnbound      = "VolumeUnbound"
	OutcomeSetupFailed        = "SetupFailed"
	OutcomeInstallFailed      = "InstallFailed"
	OutcomeReleaseDrift       = "ReleaseDrift"
	OutcomeCredentialsMissing = "CredentialsMissing"
	OutcomeTimeout            = "Timeout"
	OutcomeInterrupted        = "Interrupted"
	OutcomeUnreachable        = "Unreachable"
	OutcomeForbidden          = "Forbidden"
	OutcomeNotFound           = "NotFound"
	OutcomeAlreadyExists      = "AlreadyExists"
	OutcomeLimitReached       = "LimitReached"
	OutcomeBusy               = "Busy"
	OutcomeTerminating        = "Terminating"
	OutcomeInvalidInput       = "InvalidInput"
	OutcomeFailed             = "Failed"
	OutcomeOther              = "Other"
)

// OutcomeReasons lists every outcome reason, in the order above.
var OutcomeReasons = []string{
	OutcomeImagePullBackOff, OutcomeCrashLoopBackOff, OutcomeUnschedulable, OutcomeQuotaExceeded,
	OutcomeAdmissionRefused, OutcomeVolumeUnbound, OutcomeSetupFailed, OutcomeInstallFailed,
	OutcomeReleaseDrift, OutcomeCredentialsMissing, OutcomeTimeout, OutcomeInterrupted,
	OutcomeUnreachable, OutcomeForbidden, OutcomeNotFound, OutcomeAlreadyExists, OutcomeLimitReached,
	OutcomeBusy, OutcomeTerminating, OutcomeInvalidInput, OutcomeFailed, OutcomeOther,
}

// failureReasons maps the reasons of a store's diagnosis (Error.Reason) onto outcome reasons.
var failureReasons = map[string]string{
	"ErrImagePull":                  OutcomeImagePullBackOff,
	"ImagePullBackOff":              OutcomeImagePullBackOff,
	"InvalidImageName":              OutcomeImagePullBackOff,
	"ErrImageNeverPull":             OutcomeImagePullBackOff,
	"CrashLoopBackOff":              OutcomeCrashLoopBackOff,
	"CreateContainerConfigError":    OutcomeCrashLoopBackOff,
	"CreateContainerError":          OutcomeCrashLoopBackOff,
	"Unschedulable":                 OutcomeUnschedulable,
	"ProvisioningFailed":            OutcomeVolumeUnbound,
	"FailedBinding":                 OutcomeVolumeUnbound,
	"InstallFailed":                 OutcomeInstallFailed,
	"ReleaseFailed":                 OutcomeInstallFailed,
	ReasonDrift:                     OutcomeReleaseDrift,
	ReasonCredentialsMissing:        OutcomeCredentialsMissing,
	"Timeout":                       OutcomeTimeout,
	"Interrupted":                   OutcomeInterrupted,
	"Unreachable":                   OutcomeUnreachable,
	"Unauthorized":                  OutcomeForbidden,
	"StoreBindingRefused":           OutcomeForbidden,
	"BackoffLimitExceeded":          OutcomeSetupFailed,
	"DeadlineExceeded":              OutcomeSetupFailed,
	"PodFailurePolicy":              OutcomeSetupFailed,
	"MaxFailedIndexesExceeded":      OutcomeSetupFailed,
	"FailedIndexes":                 OutcomeSetupFailed,
	"SuccessPolicy":                 OutcomeSetupFailed,
	"NamespaceTerminating":          OutcomeTerminating,
	"LimitReached":                  OutcomeLimitReached,
	"InvalidValues":                 OutcomeInvalidInput,
	"UnknownType":                   OutcomeInvalidInput,
	"AlreadyExists":                 OutcomeAlreadyExists,
	"NamespaceNotManaged":           OutcomeAlreadyExists,
	"TypeMismatch":                  OutcomeAlreadyExists,
	"NotFound":                      OutcomeNotFound,
	"NotAStore":                     OutcomeNotFound,
	"CredentialsNotCreated":         OutcomeNotFound,
	"Locked":                        OutcomeBusy,
	"ReleasePending":                OutcomeBusy,
	ReasonReleaseUnreadable:         OutcomeForbidden,
	"FailedCreate" + "/quota":       OutcomeQuotaExceeded,
	"FailedCreate" + "/podsecurity": OutcomeAdmissionRefused,
}

// sentinelReasons classifies errors that carry no diagnosis, by their sentinel; the first
// match wins.
var sentinelReasons = []struct {
	err    error
	reason string
}{
	{ErrInterrupted, OutcomeInterrupted},
	{context.Canceled, OutcomeInterrupted},
	{ErrUnreachable, OutcomeUnreachable},
	{ErrTimeout, OutcomeTimeout},
	{context.DeadlineExceeded, OutcomeTimeout},
	{ErrUnauthorized, OutcomeForbidden},
	{ErrNotFound, OutcomeNotFound},
	{ErrAlreadyExists, OutcomeAlreadyExists},
	{ErrTypeMismatch, OutcomeAlreadyExists},
	{ErrLimitReached, OutcomeLimitReached},
	{ErrBusy, OutcomeBusy},
	{ErrTerminating, OutcomeTerminating},
	{ErrInvalidName, OutcomeInvalidInput},
	{ErrUnknownType, OutcomeInvalidInput},
	{ErrInvalidValues, OutcomeInvalidInput},
}

// OutcomeReason classifies how an operation ended into one of OutcomeReasons, from the
// engine's diagnosis where there is one; nil (success) gives "". A failing setup Job is
// SetupFailed unless its pods show a more precise cause (an image that cannot be pulled).
func OutcomeReason(err error) string {
	if err == nil {
		return ""
	}
	var se *Error
	if errors.As(err, &se) {
		if r := diagnosisReason(se); r != "" {
			return r
		}
	}
	for _, s := range sentinelReasons {
		if errors.Is(err, s.err) {
			return s.reason
		}
	}
	switch kube.Classify(err) {
	case kube.KindUnreachable:
		return OutcomeUnreachable
	case kube.KindUnauthorized:
		return OutcomeForbidden
	case kube.KindConfig:
		return OutcomeInvalidInput
	}
	if errors.Is(err, ErrFailed) {
		return OutcomeFailed
	}
	return OutcomeOther
}

// diagnosisReason maps a diagnosed error; "" when its reason says nothing certain.
func diagnosisReason(se *Error) string {
	reason := se.Reason
	if reason == "FailedCreate" {
		msg := strings.ToLower(se.Message)
		switch {
		case strings.Contains(msg, "exceeded quota"):
			reason += "/quota"
		case strings.Contains(msg, "podsecurity"), strings.Contains(msg, "violates"):
			reason += "/podsecurity"
		}
	}
	if r, ok := failureReasons[reason]; ok {
		return r
	}
	if se.Component == ComponentSetup && errors.Is(se.Err, ErrFailed) {
		return OutcomeSetupFailed
	}
	return ""
}
