package doctor

import (
	"context"
	"errors"
	"fmt"
)

// ErrPreflight is wrapped by the error Preflight returns when a check failed.
var ErrPreflight = errors.New("preflight check failed")

// CheckError is a failed check. It unwraps to ErrPreflight and to the cluster's error
// behind the check, if any.
type CheckError struct {
	Check Check
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("%s: %s", e.Check.ID, e.Check.Message)
}

// Unwrap returns ErrPreflight and the cluster's error.
func (e *CheckError) Unwrap() []error {
	if e.Check.Err != nil {
		return []error{ErrPreflight, e.Check.Err}
	}
	return []error{ErrPreflight}
}

// PreflightIDs are the checks a store's creation depends on: a store whose storage class
// or ingress class is missing would never work, or would end Ready and serve nothing.
var PreflightIDs = []string{IDClusterReachable, IDClusterCredentials, IDStorageClass, IDIngressClass, IDIngressClusterIssuer}

// Preflight runs the checks of PreflightIDs and returns a *CheckError for the first that
// failed. A check the identity may not make is a warning and does not stop the create.
func Preflight(ctx context.Context, o Options) error {
	o.Only, o.Pre, o.Skip = PreflightIDs, true, nil
	for _, c := range Run(ctx, o).Checks {
		if c.Result == ResultFailed {
			return &CheckError{Check: c}
		}
	}
	return nil
}
