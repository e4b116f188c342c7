package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
)

// Credentials Secret keys (the chart reads them through secretKeyRef): names of keys, not
// credentials.
//
//nolint:gosec // G101 takes the key names for passwords.
const (
	KeyRootPassword  = "mariadb-root-password"
	KeyDBPassword    = "mariadb-password"
	KeyAdminPassword = "wordpress-admin-password"
	KeyAdminUser     = "wordpress-admin-user"
	// AdminUser is the WordPress administrator created by the setup Job.
	AdminUser = "admin"
)

// Create creates a store, or resumes one an earlier create left incomplete.
//
// Semantics when the store already exists with the same type:
//   - Ready: nothing is changed; the store is returned with an error
//     wrapping ErrAlreadyExists.
//   - not Ready (an earlier create was killed, failed, or is still
//     converging without a live storectl): Create resumes it — missing pieces
//     are created, a release left pending by a dead process is recovered,
//     a failed release is upgraded with the given values — and returns as a
//     fresh create would.
//   - being created by another live storectl: ErrBusy.
//
// A different type is ErrTypeMismatch; a terminating namespace is
// ErrTerminating. The store limit is enforced under a cluster-wide Lease so
// concurrent creators cannot overshoot it.
func (e *Engine) Create(ctx context.Context, o CreateOptions) (*Store, error) {
	if err := ValidateName(o.Name); err != nil {
		return nil, err
	}
	typ := o.Type
	if typ == "" {
		typ = TypeWooCommerce
	}
	if typ != TypeWooCommerce {
		return nil, &Error{Err: ErrUnknownType, Store: o.Name, Reason: "UnknownType",
			Message: fmt.Sprintf("type %q is not known", typ), Next: "use --type " + TypeWooCommerce}
	}
	vals, err := e.values(o.Name, o.Values)
	if err != nil {
		return nil, err
	}
	// Values the chart's schema refuses must fail before the namespace exists.
	if v, ok := e.rel.(interface{ Validate(map[string]any) error }); ok {
		if err := v.Validate(vals); err != nil {
			return nil, installErr(ctx, o.Name, err)
		}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.Now().Add(timeout)
	// Every call below ends by the deadline, also against a silent API server.
	ctx, cancelDeadline := context.WithDeadline(ctx, deadline)
	defer cancelDeadline()
	start := e.now()
	name, ns := o.Name, Namespace(o.Name)
	pt := newProgressTracker(o.OnProgress, e.now)

	pt.report(ComponentNamespace, ProgressRunning, "creating namespace "+ns)
	existed, err := e.ensureNamespace(ctx, name, typ, timeout)
	if err != nil {
		pt.report(ComponentNamespace, ProgressFailed, errMessage(err))
		return nil, err
	}

	// What the caller may do inside the namespace comes with a binding there.
	if err := e.ensureAccess(ctx, name); err != nil {
		pt.report(ComponentNamespace, ProgressFailed, errMessage(err))
		return nil, err
	}
	lk, err := e.lock(ctx, name, ns, StoreLockName, e.lockLease, e.lockLease+3*time.Second)
	if err != nil {
		pt.report(ComponentNamespace, ProgressFailed, errMessage(err))
		return nil, err
	}
	defer lk.release()

	cur, err := e.rel.Get(ctx, ns, name)
	if errors.Is(err, release.ErrNotFound) {
		cur, err = nil, nil
	}
	if err != nil {
		return nil, clusterErr(ctx, name, "read release", err)
	}
	// existing is the store as found, when its namespace was already there.
	var existing *Store
	if existed {
		// A store that works but whose release is still pending (its creator
		// exited before Helm recorded the hook's end) is resumed, not
		// reported as existing: this create finishes what the last one began.
		st, err := e.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		existing = st
		switch {
		case st.Phase == PhaseReady && !cur.Pending():
			pt.report(ComponentNamespace, ProgressDone, ns+" exists")
			return st, &Error{Err: ErrAlreadyExists, Store: name, Reason: "AlreadyExists",
				Message: "the store already exists and is Ready; nothing was changed",
				Next:    fmt.Sprintf("see it with 'storectl get %s'", name), Components: st.Components}
		case st.Phase == PhaseDeleting:
			return st, terminatingErr(name)
		case st.Reason == ReasonCredentialsMissing:
			pt.report(ComponentNamespace, ProgressFailed, st.Message)
			return st, &Error{Err: ErrFailed, Store: name, Component: ComponentCredentials, Reason: st.Reason,
				Message: st.Message, Components: st.Components}
		}
		pt.report(ComponentNamespace, ProgressDone, fmt.Sprintf("%s exists; resuming (%s %s)", ns, st.Phase, st.Reason))
	} else {
		pt.report(ComponentNamespace, ProgressDone, ns)
	}

	if err := e.ensureCredentials(ctx, name); err != nil {
		return nil, err
	}

	// Apply the chart unless a healthy deployed release is only still
	// converging: then watching is all that is left to do.
	apply := cur == nil || cur.Status != release.StatusDeployed || (existing != nil && existing.Phase == PhaseFailed)
	ao := release.ApplyOptions{Name: name, Namespace: ns, Values: vals, Timeout: timeout, RecoverPending: true}
	if existing != nil && existing.Reason == ReasonDrift {
		pt.report(ComponentNamespace, ProgressDone, "re-applying release revision "+fmt.Sprint(existing.Revision)+": "+existing.Message)
		if len(o.Values) == 0 {
			// A repair without new values restores the store as configured.
			ao.Values, ao.ReuseValues = e.settingsValues(name), true
		}
	}

	w := e.newWatcher(name, watchOptions{workloads: true})
	defer w.close()
	w.setRelease(cur)

	var installDone chan error
	installCtx, cancelInstall := context.WithCancel(ctx)
	defer cancelInstall()
	if apply {
		if err := w.sync(ctx, "reading the store before the install", ""); err != nil {
			return nil, err
		}
		w.markJobsStale()
		installDone = make(chan error, 1)
		go func() {
			r, err := e.rel.Apply(installCtx, ao)
			if err == nil && r != nil {
				w.setRelease(r)
			}
			installDone <- err
		}()
	}

	if !o.Wait {
		return e.waitSubmitted(ctx, w, name, deadline, installDone)
	}

	st, err := e.watchReady(ctx, w, name, watchRun{deadline: deadline, timeout: timeout, since: start, pt: pt, installDone: installDone, holdsLock: true, unstick: apply})
	if err != nil && apply {
		cancelInstall()
		e.recordFailure(name, err)
	}
	return st, err
}

// recordFailure marks a release this process was applying as failed when it
// stops watching early, so `helm history` tells the truth and the next create
// resumes without waiting for anything.
func (e *Engine) recordFailure(name string, cause error) {
	var se *Error
	reason := errMessage(cause)
	if errors.As(cause, &se) {
		if errors.Is(se.Err, ErrTimeout) {
			return // still converging: `storectl wait` may see it finish
		}
		reason = se.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = e.rel.MarkFailed(ctx, Namespace(name), name, truncate(reason, 512))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func errMessage(err error) string {
	var se *Error
	if errors.As(err, &se) && se.Message != "" {
		return se.Message
	}
	return err.Error()
}

func terminatingErr(name string) error {
	return &Error{Err: ErrTerminating, Store: name, Reason: "NamespaceTerminating",
		Message: fmt.Sprintf("namespace %s is still terminating", Namespace(name)),
		Next:    fmt.Sprintf("run 'storectl wait %s --for deleted', then create it again", name)}
}

// ensureNamespace creates the store namespace, enforcing the store limit
// under the cluster-wide create lock. existed reports that it was already
// there (a resume or a duplicate create).
func (e *Engine) ensureNamespace(ctx context.Context, name, typ string, timeout time.Duration) (existed bool, err error) {
	ns := Namespace(name)
	check := func(n *corev1.Namespace) error {
		if !IsStore(n, name) {
			return &Error{Err: ErrAlreadyExists, Store: name, Reason: "NamespaceNotManaged",
				Message: fmt.Sprintf("namespace %s exists but was not created by storectl", ns),
				Next:    "choose another store name"}
		}
		if t := n.Labels[LabelType]; t != "" && t != typ {
			return &Error{Err: ErrTypeMismatch, Store: name, Reason: "TypeMismatch",
				Message: fmt.Sprintf("the store exists with type %q, not %q", t, typ),
				Next:    fmt.Sprintf("choose another name, or delete it first with 'storectl delete %s --yes'", name)}
		}
		if n.DeletionTimestamp != nil || n.Status.Phase == corev1.NamespaceTerminating {
			return terminatingErr(name)
		}
		return nil
	}
	n, err := e.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return true, check(n)
	}
	if !apierrors.IsNotFound(err) {
		return false, clusterErr(ctx, name, "read namespace "+ns, err)
	}

	wait := timeout
	if wait > 2*time.Minute {
		wait = 2 * time.Minute
	}
	lk, err := e.lock(ctx, name, e.lockNS, CreateLockName, createLockLease, wait)
	if err != nil {
		return false, err
	}
	defer lk.release()

	// Under the lock, look again: a concurrent creator of the same store may
	// have won the race.
	n, err = e.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return true, check(n)
	}
	if !apierrors.IsNotFound(err) {
		return false, clusterErr(ctx, name, "read namespace "+ns, err)
	}
	if max := e.settings.MaxStores; max > 0 {
		list, err := e.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: storeSelector})
		if err != nil {
			return false, clusterErr(ctx, name, "count stores", err)
		}
		count := 0
		for i := range list.Items {
			n := &list.Items[i]
			if _, ok := StoreName(n); ok && n.DeletionTimestamp == nil && n.Status.Phase != corev1.NamespaceTerminating {
				count++
			}
		}
		if count >= max {
			return false, &Error{Err: ErrLimitReached, Store: name, Reason: "LimitReached",
				Message: fmt.Sprintf("the cluster already has %d stores, the maximum is %d", count, max),
				Next:    "delete a store ('storectl delete <name> --yes') or raise max-stores"}
		}
	}
	_, err = e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns,
		Labels: map[string]string{
			LabelManagedBy:                       ManagedBy,
			LabelStore:                           name,
			LabelType:                            typ,
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/warn":            "restricted",
			"pod-security.kubernetes.io/audit":           "restricted",
		},
	}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return true, nil
	}
	if err != nil {
		return false, clusterErr(ctx, name, "create namespace "+ns, err)
	}
	return false, nil
}

// ensureCredentials creates the store's credentials Secret once. Passwords
// come from crypto/rand and are never regenerated: a retried install must
// find the same passwords as the database volume it may already have. A
// missing Secret next to an existing database volume is therefore a failure
// (ReasonCredentialsMissing), never a reason to create new passwords.
func (e *Engine) ensureCredentials(ctx context.Context, name string) error {
	ns := Namespace(name)
	secrets := e.kube.CoreV1().Secrets(ns)
	_, err := secrets.Get(ctx, credentialsSecret(name), metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return clusterErr(ctx, name, "read credentials secret", err)
	}
	if err := e.checkNoDatabaseVolume(ctx, name); err != nil {
		return err
	}
	data := map[string][]byte{KeyAdminUser: []byte(AdminUser)}
	for _, k := range []string{KeyRootPassword, KeyDBPassword, KeyAdminPassword} {
		p, err := password(24)
		if err != nil {
			return fmt.Errorf("store %s: generate password: %w", name, err)
		}
		data[k] = []byte(p)
	}
	_, err = secrets.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: credentialsSecret(name), Namespace: ns,
			Labels: map[string]string{LabelManagedBy: ManagedBy, LabelStore: name}},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return clusterErr(ctx, name, "create credentials secret", err)
}

// checkNoDatabaseVolume fails with ReasonCredentialsMissing when the store's
// database volume claim exists: its passwords are the ones to keep.
func (e *Engine) checkNoDatabaseVolume(ctx context.Context, name string) error {
	pvcs, err := e.kube.CoreV1().PersistentVolumeClaims(Namespace(name)).List(ctx, metav1.ListOptions{})
	if err != nil {
		return clusterErr(ctx, name, "read volume claims", err)
	}
	if v := databaseVolume(Snapshot{Name: name, PVCs: pvcs.Items}); v != "" {
		return credentialsMissingErr(name, v)
	}
	return nil
}

func credentialsMissingErr(name, volume string) error {
	f := credentialsFailure(name, volume)
	return &Error{Err: ErrFailed, Store: name, Component: f.Component, Reason: f.Reason, Message: f.Message}
}

const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// password returns n characters drawn uniformly from passwordAlphabet with
// crypto/rand; the alphabet avoids characters shells and SQL quote.
func password(n int) (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(passwordAlphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(passwordAlphabet[i.Int64()])
	}
	return b.String(), nil
}

// waitSubmitted returns once the install has been handed to the cluster: the
// hook Job exists (Helm applied every resource) or the install ended.
func (e *Engine) waitSubmitted(ctx context.Context, w *watcher, name string, deadline time.Time, installDone chan error) (*Store, error) {
	if installDone != nil {
		if err := w.sync(ctx, "following the install", ""); err != nil {
			return nil, err
		}
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
	loop:
		for len(w.snapshot(time.Time{}).Jobs) == 0 {
			select {
			case err := <-installDone:
				if err != nil {
					return nil, installErr(ctx, name, err)
				}
				break loop
			case <-w.changed:
			case <-timer.C:
				break loop
			case <-ctx.Done():
				if cancelled(ctx) {
					return nil, interrupted(name, "install", "")
				}
				break loop
			}
		}
	}
	return e.Get(ctx, name)
}

// installErr classifies an error returned by the release manager.
func installErr(ctx context.Context, name string, err error) error {
	if cancelled(ctx) {
		return interrupted(name, "install", "")
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "values don't meet the specifications of the schema"):
		return &Error{Err: ErrInvalidValues, Store: name, Reason: "InvalidValues", Message: msg, Cause: err,
			Next: fmt.Sprintf("fix the --set/--values input, then run 'storectl create %s' again", name)}
	case errors.Is(err, release.ErrPending):
		return &Error{Err: ErrBusy, Store: name, Reason: "ReleasePending", Message: msg, Cause: err,
			Next: fmt.Sprintf("wait for the other operation with 'storectl wait %s --for ready'", name)}
	}
	if k := kube.Classify(err); k == kube.KindUnreachable || k == kube.KindUnauthorized {
		return clusterErr(ctx, name, "install", err)
	}
	return &Error{Err: ErrFailed, Store: name, Component: "release", Reason: "InstallFailed", Message: msg, Cause: err,
		Next: fmt.Sprintf(retryNext, name, name)}
}
