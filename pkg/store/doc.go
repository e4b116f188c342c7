// Package store is storectl's engine: create, list, get, delete and wait for stores, as plain Go.
//
// The cluster is the only state. A store is the namespace store-<name>
// labelled app.kubernetes.io/managed-by=storectl and storectl.dev/store=<name>
// (IsStore, the one rule every operation uses); its status is computed on
// every read by Compute from the namespace, the Helm release and the objects
// in the namespace, so every operator and CI job sees the same stores.
//
// Every operation runs under its deadline (the options' Timeout), every API
// call included: an API server that gives no answer by then is
// ErrUnreachable, and waits check their caches against the cluster before
// reporting a timeout.
//
// # Create
//
// Create validates the name and the type before any API call, then:
//
//  1. creates the namespace under the cluster-wide Lease CreateLockName (in
//     Options.LockNamespace, "default" unless set), counting live stores
//     against Settings.MaxStores inside the lock, so concurrent creators can
//     never exceed the limit and a refused create leaves nothing behind;
//  2. takes the per-store Lease StoreLockName in the store namespace, renewed
//     while the create runs: a second live creator of the same store gets
//     ErrBusy (after waiting one lease period, so that it can instead take
//     over from a creator that was killed);
//  3. creates the credentials Secret once, from crypto/rand;
//  4. applies the chart (install, or recovery of a revision left pending by a
//     dead process, or upgrade of a failed one) concurrently with an
//     informer-based watch, because Helm always waits for hook Jobs;
//  5. reports Progress per component and returns when the store is Ready,
//     has certainly failed (ErrFailed with component, reason, the cluster's
//     message and the next step), times out (ErrTimeout with the last state of
//     each component) or is interrupted (ErrInterrupted, within a second).
//
// An existing Ready store is left alone (ErrAlreadyExists); an existing store
// that is not Ready is resumed, which is what makes a create after a killed
// create converge with no manual cleanup. When a retry applies new values,
// pods and the setup Job of the earlier attempt are not judged while the new
// revision replaces them, and a database pod stuck at the old StatefulSet
// revision (a rolling update waits for it to become Ready, which a broken pod
// never does) is deleted so the controller recreates it.
//
// # Fail fast
//
// A retry is not a failure. The thresholds are in FailFast: image pulls
// failing for ImagePullGrace (30s), CrashLoopBackOff at CrashLoopRestarts (2)
// restarts, Unschedulable for UnschedulableGrace, a Pending claim with a
// ProvisioningFailed/FailedBinding warning after VolumeGrace, a FailedCreate
// event (Pod Security, ResourceQuota) while the controller has no pod at all,
// and a failed setup Job. Pods that run but never become Ready cannot be told
// from a slow start and end in ErrTimeout.
package store
