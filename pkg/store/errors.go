package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/storectl/storectl/pkg/kube"
)

// Sentinel errors. Every error the engine returns wraps at most one of them;
// check with errors.Is. The CLI maps them onto exit codes.
var (
	ErrNotFound      = errors.New("store not found")
	ErrAlreadyExists = errors.New("store already exists")
	ErrInvalidName   = errors.New("invalid store name")
	ErrUnknownType   = errors.New("unknown store type")
	ErrTypeMismatch  = errors.New("store exists with a different type")
	ErrLimitReached  = errors.New("store limit reached")
	ErrTimeout       = errors.New("timed out")
	ErrFailed        = errors.New("store failed")
	ErrTerminating   = errors.New("store namespace is terminating")
	ErrUnreachable   = errors.New("cluster unreachable")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrInterrupted   = errors.New("interrupted")
	ErrBusy          = errors.New("store is being changed by another storectl process")
	ErrInvalidValues = errors.New("invalid values")
	// ErrRefused means an upgrade or rollback was refused before anything changed: it
	// would downgrade a component below what the store's data has seen, the store is not
	// Ready, or another live process is changing it.
	ErrRefused = errors.New("change refused")
)

// Reasons of the engine's own errors; a failed component carries the cluster's reason
// (CrashLoopBackOff, FailedCreate, ...). The CLI keys what it tells the user to do next on
// the sentinel, the reason and the facts of the error.
const (
	ReasonUnknownType          = "UnknownType"
	ReasonAlreadyExists        = "AlreadyExists"
	ReasonNamespaceNotManaged  = "NamespaceNotManaged"
	ReasonTypeMismatch         = "TypeMismatch"
	ReasonNamespaceTerminating = "NamespaceTerminating"
	ReasonLimitReached         = "LimitReached"
	ReasonInvalidValues        = "InvalidValues"
	ReasonReleasePending       = "ReleasePending"
	ReasonInstallFailed        = "InstallFailed"
	ReasonInterrupted          = "Interrupted"
	ReasonTimeout              = "Timeout"
	ReasonUnreachable          = "Unreachable"
	ReasonUnauthorized         = "Unauthorized"
	ReasonLocked               = "Locked"
	ReasonNotFound             = "NotFound"
	ReasonNotAStore            = "NotAStore"
	ReasonCredentialsNotMade   = "CredentialsNotCreated"
	ReasonBindingRefused       = "StoreBindingRefused"
	ReasonImmutableField       = "ImmutableField"
	// ReasonDowngrade: the change would run a component older than the store's data has seen.
	ReasonDowngrade = "Downgrade"
	// ReasonNotReady: the store is not Ready, so an upgrade could not be judged by its outcome.
	ReasonNotReady = "NotReady"
	// ReasonNoRevision: the revision asked for, or a revision to roll back to, does not exist.
	ReasonNoRevision = "NoRevision"
)

// Refusals say why the cluster refused to create a component's pods (Reason FailedCreate).
const (
	RefusalQuota       = "QuotaExceeded"
	RefusalPodSecurity = "PodSecurity"
	RefusalLimitRange  = "LimitRange"
)

// Error carries the facts of a failed, timed-out or refused operation: the
// component at fault, the cluster's reason and message, the objects to look
// at, and the last state seen of every component. It wraps one sentinel
// error. It says nothing of what to run next: that is the CLI's to say.
type Error struct {
	// Err is the sentinel (ErrFailed, ErrTimeout, ...).
	Err error
	// Store is the store name.
	Store string
	// Component is the failing component, if one is known.
	Component string
	// Reason is a short CamelCase reason, from the cluster where possible.
	Reason string
	// Message says what happened, in the cluster's words where possible.
	Message string
	// Pod, Container and Job name the object whose log explains a failure.
	Pod, Container, Job string
	// Refusal classifies a FailedCreate (RefusalQuota, ...), when known.
	Refusal string
	// Field is the chart value at fault, for ErrInvalidValues, when known.
	Field string
	// Components is the last state seen of each component.
	Components []Component
	// Cause is the underlying error, if any.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("store ")
	b.WriteString(e.Store)
	b.WriteString(": ")
	if e.Component != "" {
		b.WriteString(e.Component)
		b.WriteString(": ")
	}
	if e.Reason != "" {
		b.WriteString(e.Reason)
		b.WriteString(": ")
	}
	switch {
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Cause != nil:
		b.WriteString(e.Cause.Error())
	default:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// failureErr reports the diagnosed failure of st's component.
func failureErr(name string, st Status) *Error {
	f := st.Failure
	return &Error{Err: ErrFailed, Store: name, Component: f.Component, Reason: f.Reason, Message: f.Message,
		Pod: f.Pod, Container: f.Container, Job: f.Job, Refusal: f.Refusal, Components: st.Components}
}

// clusterErr turns an error from the API server or Helm into one wrapping the
// right sentinel. ctx is checked first: a cancelled request is an interruption,
// not an unreachable cluster.
func clusterErr(ctx context.Context, name, what string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	for _, s := range []error{ErrInterrupted, ErrTimeout, ErrBusy, ErrUnreachable, ErrUnauthorized} {
		if errors.Is(err, s) {
			return err
		}
	}
	if ctx != nil && cancelled(ctx) {
		return interrupted(name, what)
	}
	switch kube.Classify(err) {
	case kube.KindUnreachable:
		return &Error{Err: ErrUnreachable, Store: name, Message: fmt.Sprintf("%s: %v", what, err), Cause: err}
	case kube.KindUnauthorized:
		return &Error{Err: ErrUnauthorized, Store: name, Message: fmt.Sprintf("%s: %v", what, err), Cause: err}
	}
	return fmt.Errorf("store %s: %s: %w", name, what, err)
}

// interrupted reports a cancelled operation.
func interrupted(name, during string) error {
	return &Error{Err: ErrInterrupted, Store: name, Reason: ReasonInterrupted, Message: "interrupted during " + during}
}

// cancelled reports whether ctx ended because the caller gave up (a signal),
// as opposed to reaching the operation's deadline, which is a timeout.
func cancelled(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// stopped reports why ctx ended: interrupted, or the deadline reached while
// doing what.
func stopped(ctx context.Context, name, during string) error {
	if cancelled(ctx) {
		return interrupted(name, during)
	}
	return &Error{Err: ErrTimeout, Store: name, Reason: ReasonTimeout, Message: "the deadline passed while " + during}
}

// unreachableErr reports an API server that gave no usable answer before the
// deadline; last is the last error the client saw, if any. Credentials the
// server refused are reported as such.
func unreachableErr(name, during string, last error) *Error {
	if last != nil && kube.Classify(last) == kube.KindUnauthorized {
		return &Error{Err: ErrUnauthorized, Store: name, Reason: ReasonUnauthorized, Message: fmt.Sprintf("%s: %v", during, last), Cause: last}
	}
	msg := "the API server did not answer before the deadline while " + during
	if last != nil {
		msg += ": " + last.Error()
	}
	return &Error{Err: ErrUnreachable, Store: name, Reason: ReasonUnreachable, Message: msg, Cause: last}
}
