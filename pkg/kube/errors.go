package kube

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Kind classifies why talking to the cluster failed.
type Kind int

const (
	// KindOther is any failure not classified below.
	KindOther Kind = iota
	// KindConfig means the kubeconfig could not be loaded or is incomplete.
	KindConfig
	// KindUnreachable means the API server could not be reached: connection
	// refused, DNS failure, TLS failure, timeout.
	KindUnreachable
	// KindUnauthorized means the server rejected the credentials (401) or the
	// identity lacks permission (403).
	KindUnauthorized
)

func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "config"
	case KindUnreachable:
		return "unreachable"
	case KindUnauthorized:
		return "unauthorized"
	default:
		return "other"
	}
}

// Error is a classified cluster error. The store package maps Kind onto its
// sentinel errors; kube cannot import store (store imports kube).
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Classify returns the Kind of err. It recognises *Error, API status errors
// and the network errors client-go surfaces, also when they are wrapped only
// as text (Helm wraps some errors with pkg/errors or %s).
func Classify(err error) Kind {
	if err == nil {
		return KindOther
	}
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Kind
	}
	if apierrors.IsUnauthorized(err) {
		return KindUnauthorized
	}
	if apierrors.IsForbidden(err) {
		// 403 is also how admission refuses objects (quota, Pod Security, a
		// terminating namespace); only an RBAC denial is about the identity.
		if isAdmissionRefusal(err.Error()) {
			return KindOther
		}
		return KindUnauthorized
	}
	if apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) {
		return KindUnreachable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindUnreachable
	}
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		urlErr  *url.Error
		unkAuth x509.UnknownAuthorityError
		hostErr x509.HostnameError
		certErr x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.As(err, &unkAuth), errors.As(err, &hostErr), errors.As(err, &certErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.ErrUnexpectedEOF):
		return KindUnreachable
	case errors.As(err, &urlErr):
		if urlErr.Timeout() {
			return KindUnreachable
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return KindUnreachable
	}
	msg := err.Error()
	for _, s := range unreachableText {
		if strings.Contains(msg, s) {
			return KindUnreachable
		}
	}
	if strings.Contains(msg, "Unauthorized") || strings.Contains(msg, "You must be logged in to the server") ||
		(strings.Contains(msg, "forbidden") && strings.Contains(msg, " cannot ") && !isAdmissionRefusal(msg)) {
		return KindUnauthorized
	}
	return KindOther
}

func isAdmissionRefusal(msg string) bool {
	for _, s := range []string{"exceeded quota", "violates PodSecurity", "being terminated", "admission webhook", "LimitRange", "maximum", "minimum"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Text fragments for errors that reach us flattened into strings.
var (
	unreachableText = []string{
		"connection refused", "no such host", "i/o timeout", "TLS handshake timeout",
		"x509: ", "tls: ", "connection reset by peer", "network is unreachable",
		"Client.Timeout exceeded", "context deadline exceeded", "server is currently unable",
		"the server was unable to return a response in the time allotted",
		"Kubernetes cluster unreachable",
	}
)

// IsUnreachable reports whether err means the API server could not be reached.
func IsUnreachable(err error) bool { return err != nil && Classify(err) == KindUnreachable }

// IsUnauthorized reports whether err is an authentication or authorization failure.
func IsUnauthorized(err error) bool { return err != nil && Classify(err) == KindUnauthorized }
