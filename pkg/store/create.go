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
//     a failed release is upgraded — with the settings and values the store
//     was made with (Inputs), unless new values are given, and returns as a
//     fresh create would.
//   - being created by another live storectl: ErrBusy.
//
// A different type is ErrTypeMismatch; a terminating namespace is
// ErrTerminating. The store limit is enforced under a cluster-wide Lease so
// concurrent creators cannot overshoot it.
func (e *Engine) Create(ctx context.Context, o CreateOptions) (*Store, error) {
	typ, err := e.validateCreate(o)
	if err != nil {
		return nil, err
	}
	op := e.begin("create", o.Name, o.Timeout, o.OnProgress)
	// Every call below ends by the deadline, also against a silent API server.
	ctx, cancelDeadline := context.WithDeadline(ctx, op.deadline)
	defer cancelDeadline()

	lk, existed, err := e.claimCreate(ctx, op, typ)
	if err != nil {
		return nil, err
	}
	defer lk.release()

	w := e.newWatcher(op.name, watchOptions{workloads: true})
	defer w.close()
	snap, err := e.inspect(ctx, w)
	if err != nil {
		return nil, err
	}
	apply, st, err := e.decideCreate(op, snap, existed)
	if err != nil {
		return st, err
	}
	if err := e.ensureCredentials(ctx, snap); err != nil {
		return nil, err
	}
	var installDone <-chan error
	installCtx, cancelInstall := context.WithCancel(ctx)
	defer cancelInstall()
	if apply {
		ao, err := e.createApply(ctx, op, o.Values, snap)
		if err != nil {
			return nil, err
		}
		installDone = e.applyAsync(installCtx, w, ao)
	}
	if !o.Wait {
		return e.waitSubmitted(ctx, op.name, op.deadline, installDone)
	}
	st, err = e.watchReady(ctx, w, op.name, watchRun{deadline: op.deadline, timeout: op.timeout, since: op.start, pt: op.pt,
		installDone: installDone, holdsLock: true, unstick: apply})
	if err != nil && apply {
		cancelInstall()
		e.recordFailure(op.name, st, err)
	}
	return st, err
}

// validateCreate checks a create without an API call: the name, the type, the values
// against what is storectl's (CheckValues) and the rendered values against the chart's
// schema, so that a refused create leaves nothing behind. It returns the store type.
func (e *Engine) validateCreate(o CreateOptions) (string, error) {
	if err := ValidateName(o.Name); err != nil {
		return "", err
	}
	typ := o.Type
	if typ == "" {
		typ = TypeWooCommerce
	}
	if typ != TypeWooCommerce {
		return "", &Error{Err: ErrUnknownType, Store: o.Name, Reason: ReasonUnknownType,
			Message: fmt.Sprintf("type %q is not known; the only store type is %q", typ, TypeWooCommerce)}
	}
	if err := CheckValues(o.Name, o.Values, e.settings); err != nil {
		return "", err
	}
	vals, err := e.render(o.Name, Inputs{Settings: recordable(e.settings), Values: o.Values})
	if err != nil {
		return "", err
	}
	if err := e.rel.Validate(vals); err != nil {
		return "", applyErr(context.Background(), o.Name, err)
	}
	return typ, nil
}

// claimCreate makes the store namespace exist (under the create Lease when it is new), binds
// the caller's access in it and takes the store's Lease. existed says the namespace was
// already there: a resume or a duplicate create.
func (e *Engine) claimCreate(ctx context.Context, op *op, typ string) (*heldLock, bool, error) {
	fail := func(err error) (*heldLock, bool, error) {
		op.pt.report(ComponentNamespace, ProgressFailed, errMessage(err))
		return nil, false, err
	}
	op.pt.report(ComponentNamespace, ProgressRunning, "creating namespace "+op.ns)
	existed, err := e.ensureNamespace(ctx, op.name, typ, op.timeout)
	if err != nil {
		return fail(err)
	}
	// What the caller may do inside the namespace comes with a binding there.
	if err := e.ensureAccess(ctx, op.name); err != nil {
		return fail(err)
	}
	lk, err := e.lock(ctx, op.name, op.ns, StoreLockName, e.lockLease, e.lockLease+3*time.Second)
	if err != nil {
		return fail(err)
	}
	return lk, existed, nil
}

// decideCreate judges the store as inspected: whether the chart is to be applied, or the
// create ends here (an existing Ready store, a terminating namespace, lost credentials).
func (e *Engine) decideCreate(op *op, snap Snapshot, existed bool) (bool, *Store, error) {
	cur := snap.Release
	if !existed {
		op.pt.report(ComponentNamespace, ProgressDone, op.ns)
		return true, nil, nil
	}
	st := Compute(snap, e.ff)
	found := e.storeFrom(snap, st)
	switch {
	// A store that works but whose release is still pending (its creator exited before Helm
	// recorded the revision, or before it saw the setup hook of a chart 0.1.0 store end) is resumed, not reported as existing: this create finishes
	// what the last one began.
	case st.Phase == PhaseReady && !cur.Pending():
		op.pt.report(ComponentNamespace, ProgressDone, op.ns+" exists")
		return false, found, &Error{Err: ErrAlreadyExists, Store: op.name, Reason: ReasonAlreadyExists,
			Message: "the store already exists and is Ready; nothing was changed", Components: st.Components}
	case st.Phase == PhaseDeleting:
		return false, found, terminatingErr(op.name)
	case st.Reason == ReasonCredentialsMissing:
		op.pt.report(ComponentNamespace, ProgressFailed, st.Message)
		return false, found, &Error{Err: ErrFailed, Store: op.name, Component: ComponentCredentials, Reason: st.Reason,
			Message: st.Message, Components: st.Components}
	}
	op.pt.report(ComponentNamespace, ProgressDone, fmt.Sprintf("%s exists; resuming (%s %s)", op.ns, st.Phase, st.Reason))
	if st.Reason == ReasonDrift {
		op.pt.report(ComponentNamespace, ProgressDone, fmt.Sprintf("re-applying release revision %d: %s", cur.Revision, st.Message))
	}
	// Apply the chart unless a healthy deployed release is only still converging: then
	// watching is all that is left to do.
	return cur == nil || cur.Status != release.StatusDeployed || st.Phase == PhaseFailed, nil, nil
}

// createApply says what a create applies: a new store gets today's settings and the given
// values; a store being resumed keeps the settings it was made with, and its values unless
// new ones are given. A store made before revisions recorded their Inputs keeps the values
// of its latest revision, with today's settings over them.
func (e *Engine) createApply(ctx context.Context, op *op, user map[string]any, snap Snapshot) (release.ApplyOptions, error) {
	ao := release.ApplyOptions{Name: op.name, Namespace: op.ns, Timeout: op.timeout, RecoverPending: true}
	in := Inputs{Settings: recordable(e.settings), Values: user}
	if snap.Release != nil {
		recorded, ok, err := e.recordedInputs(ctx, op.name, 0)
		if err != nil {
			return ao, err
		}
		switch {
		case ok:
			in.Settings = recorded.Settings
			if len(user) == 0 {
				in.Values = recorded.Values
			}
		case len(user) == 0:
			ao.Values, ao.ReuseValues = settingsValues(op.name, e.settings), true
			return ao, nil
		}
	}
	vals, err := e.render(op.name, in)
	ao.Values = vals
	return ao, err
}

// recordFailure records the outcome of a revision this process was applying when it stops
// watching early, so that `helm history` tells the truth and the next create resumes
// without waiting for anything: a revision still pending (the apply was cut off) is
// recorded failed, and so is the deployed revision st a component of certainly failed
// (Helm does not wait for the setup Job or the pods, so it recorded the revision deployed).
func (e *Engine) recordFailure(name string, st *Store, cause error) {
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
	if se != nil && errors.Is(se.Err, ErrFailed) && se.Component != "" && se.Component != "release" && st != nil && st.Revision > 0 {
		_, _ = e.rel.MarkRevisionFailed(ctx, Namespace(name), name, st.Revision, truncate(reason, 512))
		return
	}
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
	return &Error{Err: ErrTerminating, Store: name, Reason: ReasonNamespaceTerminating,
		Message: fmt.Sprintf("namespace %s is still terminating", Namespace(name))}
}

// ensureNamespace creates the store namespace, enforcing the store limit
// under the cluster-wide create lock. existed reports that it was already
// there (a resume or a duplicate create).
func (e *Engine) ensureNamespace(ctx context.Context, name, typ string, timeout time.Duration) (existed bool, err error) {
	ns := Namespace(name)
	n, err := e.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return true, checkStoreNamespace(n, name, typ)
	}
	if !apierrors.IsNotFound(err) {
		return false, clusterErr(ctx, name, "read namespace "+ns, err)
	}

	lk, err := e.lock(ctx, name, e.lockNS, CreateLockName, createLockLease, min(timeout, 2*time.Minute))
	if err != nil {
		return false, err
	}
	defer lk.release()
	if err := e.checkLimit(ctx, name); err != nil {
		return false, err
	}
	_, err = e.kube.CoreV1().Namespaces().Create(ctx, newStoreNamespace(name, typ), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// A concurrent creator of the same name won the race: judge what it made.
		n, err := e.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, clusterErr(ctx, name, "read namespace "+ns, err)
		}
		return true, checkStoreNamespace(n, name, typ)
	}
	if err != nil {
		return false, clusterErr(ctx, name, "create namespace "+ns, err)
	}
	return false, nil
}

// checkStoreNamespace refuses an existing namespace that is not this store of this type,
// or is being deleted.
func checkStoreNamespace(n *corev1.Namespace, name, typ string) error {
	if !IsStore(n, name) {
		return &Error{Err: ErrAlreadyExists, Store: name, Reason: ReasonNamespaceNotManaged,
			Message: fmt.Sprintf("namespace %s exists but was not created by storectl", n.Name)}
	}
	if t := n.Labels[LabelType]; t != "" && t != typ {
		return &Error{Err: ErrTypeMismatch, Store: name, Reason: ReasonTypeMismatch,
			Message: fmt.Sprintf("the store exists with type %q, not %q", t, typ)}
	}
	if n.DeletionTimestamp != nil || n.Status.Phase == corev1.NamespaceTerminating {
		return terminatingErr(name)
	}
	return nil
}

// checkLimit refuses a new store when the cluster has max-stores already; the caller holds
// the create lock, so concurrent creators count one after another.
func (e *Engine) checkLimit(ctx context.Context, name string) error {
	max := e.settings.MaxStores
	if max <= 0 {
		return nil
	}
	list, err := e.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: storeSelector})
	if err != nil {
		return clusterErr(ctx, name, "count stores", err)
	}
	count := 0
	for i := range list.Items {
		n := &list.Items[i]
		if _, ok := StoreName(n); ok && n.DeletionTimestamp == nil && n.Status.Phase != corev1.NamespaceTerminating {
			count++
		}
	}
	if count >= max {
		return &Error{Err: ErrLimitReached, Store: name, Reason: ReasonLimitReached,
			Message: fmt.Sprintf("the cluster already has %d stores, the maximum is %d", count, max)}
	}
	return nil
}

func newStoreNamespace(name, typ string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: Namespace(name),
		Labels: map[string]string{
			LabelManagedBy:                       ManagedBy,
			LabelStore:                           name,
			LabelType:                            typ,
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/warn":            "restricted",
			"pod-security.kubernetes.io/audit":           "restricted",
		},
	}}
}

// ensureCredentials creates the store's credentials Secret once, when the
// inspected store has none. Passwords come from crypto/rand and are never
// regenerated: a retried install must find the same passwords as the database
// volume it may already have. A missing Secret next to an existing database
// volume is therefore a failure (ReasonCredentialsMissing), never a reason to
// create new passwords.
func (e *Engine) ensureCredentials(ctx context.Context, snap Snapshot) error {
	name := snap.Name
	if !snap.CredentialsMissing {
		return nil
	}
	if v := databaseVolume(snap); v != "" {
		return credentialsMissingErr(name, v)
	}
	data := map[string][]byte{KeyAdminUser: []byte(AdminUser)}
	for _, k := range []string{KeyRootPassword, KeyDBPassword, KeyAdminPassword} {
		p, err := password(24)
		if err != nil {
			return fmt.Errorf("store %s: generate password: %w", name, err)
		}
		data[k] = []byte(p)
	}
	_, err := e.kube.CoreV1().Secrets(Namespace(name)).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: credentialsSecret(name), Namespace: Namespace(name),
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

// waitSubmitted returns once Helm has recorded the install: it waits for no Job (the setup
// Job is an ordinary resource), so the release ends deployed or failed with no process
// watching the store. Returning earlier would cut Helm off between applying the objects and
// recording the revision, and leave it pending-install.
func (e *Engine) waitSubmitted(ctx context.Context, name string, deadline time.Time, installDone <-chan error) (*Store, error) {
	if installDone != nil {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		select {
		case err := <-installDone:
			if err != nil {
				return nil, applyErr(ctx, name, err)
			}
		case <-timer.C:
		case <-ctx.Done():
			if cancelled(ctx) {
				return nil, interrupted(name, "install")
			}
		}
	}
	return e.Get(ctx, name)
}

// applyErr classifies an error returned by the release manager.
func applyErr(ctx context.Context, name string, err error) error {
	if cancelled(ctx) {
		return interrupted(name, "install")
	}
	msg := err.Error()
	switch {
	case errors.Is(err, release.ErrInvalidValues):
		return &Error{Err: ErrInvalidValues, Store: name, Reason: ReasonInvalidValues, Message: msg, Cause: err}
	case errors.Is(err, release.ErrPending):
		return &Error{Err: ErrBusy, Store: name, Reason: ReasonReleasePending, Message: msg, Cause: err}
	}
	if k := kube.Classify(err); k == kube.KindUnreachable || k == kube.KindUnauthorized {
		return clusterErr(ctx, name, "install", err)
	}
	return &Error{Err: ErrFailed, Store: name, Component: "release", Reason: ReasonInstallFailed, Message: msg, Cause: err}
}
