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
// # Phases
//
// Every operation composes the same phases (phases.go): validate (no API
// call), claim (the per-store Lease StoreLockName, renewed while the
// operation runs, and for a new store the cluster-wide Lease CreateLockName
// in Options.LockNamespace while live stores are counted against
// Settings.MaxStores), inspect once (one Snapshot, from the caches of the
// watcher that goes on to follow the store, or from concurrent reads in Get),
// apply (a Helm revision in the background, with the Inputs recorded on the
// store), watch to a target (Ready at this revision, or gone) and record (a
// failure on the release; the audit log is recorded by package audit's
// Recorder around the engine call).
//
// # Create
//
// Create creates the namespace, binds the caller's access in it, takes the
// store's Lease, inspects the store, creates the credentials Secret once
// (from crypto/rand), applies the chart (install, recovery of a revision left
// pending by a dead process, or upgrade of a failed one) concurrently with the
// watch, and reports Progress per component. Helm waits for no Job: the setup
// Job is an ordinary resource named for its revision (SetupJobName), which the
// watch waits for, so the release is recorded deployed as soon as it is
// applied, also by a create that does not wait. It returns when the store is Ready, has certainly failed
// (ErrFailed with component, reason, the cluster's message and the objects to
// look at), times out (ErrTimeout with the last state of each component) or
// is interrupted (ErrInterrupted, within a second). Errors carry facts, never
// a command to run: what to tell the user is the CLI's.
//
// An existing Ready store is left alone (ErrAlreadyExists); an existing store
// that is not Ready is resumed with the settings and values it was made with
// (or new values, when given), which is what makes a create after a killed
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
// restarts, Unschedulable for UnschedulableGrace (unless an autoscaler adds a
// node for the pod, or a new node is not Ready yet), a Pending claim with a
// ProvisioningFailed/FailedBinding warning after VolumeGrace, a FailedCreate
// event (Pod Security, ResourceQuota) while the controller has no pod at all,
// and a failed setup Job. Pods that run but never become Ready cannot be told
// from a slow start and end in ErrTimeout.
package store
