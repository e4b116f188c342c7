// Package release installs, upgrades, inspects and removes store releases; all Helm SDK use lives here.
package release

import (
	"context"
	"errors"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
)

// Status values of a release revision, as Helm records them.
const (
	StatusDeployed        = string(helmrelease.StatusDeployed)
	StatusFailed          = string(helmrelease.StatusFailed)
	StatusSuperseded      = string(helmrelease.StatusSuperseded)
	StatusUninstalling    = string(helmrelease.StatusUninstalling)
	StatusUninstalled     = string(helmrelease.StatusUninstalled)
	StatusPendingInstall  = string(helmrelease.StatusPendingInstall)
	StatusPendingUpgrade  = string(helmrelease.StatusPendingUpgrade)
	StatusPendingRollback = string(helmrelease.StatusPendingRollback)
	// StatusUnreadable is not Helm's: ListLatest reports it for a namespace whose records
	// the caller may not read (its Name is then empty).
	StatusUnreadable = "unreadable"
)

var (
	// ErrNotFound means the release has no revision at all.
	ErrNotFound = errors.New("release not found")
	// ErrPending means the latest revision is pending-install, pending-upgrade
	// or pending-rollback: some process is (or was, until it died) applying it.
	ErrPending = errors.New("another operation (install/upgrade/rollback) is in progress on the release")
	// ErrInvalidValues means the chart's schema refuses the values.
	ErrInvalidValues = errors.New("invalid chart values")
	// ErrTooLarge means a stored release record decompresses to more than
	// MaxRecordBytes; it is not decoded.
	ErrTooLarge = errors.New("release record too large")
)

// Release is one revision of a release, without its manifest or values.
type Release struct {
	Name          string
	Namespace     string
	Revision      int
	Status        string
	Description   string
	Chart         string
	ChartVersion  string
	AppVersion    string
	FirstDeployed time.Time
	LastDeployed  time.Time

	// manifest is the revision's rendered objects, kept from the record Get read so that
	// DriftOf needs not read it again.
	manifest string
}

// Pending reports whether an operation was started on this revision and has
// not recorded its outcome.
func (r *Release) Pending() bool {
	return r != nil && helmrelease.Status(r.Status).IsPending()
}

// ApplyOptions says what to install or upgrade.
type ApplyOptions struct {
	Name      string
	Namespace string
	// Values are the complete chart values (already layered by the caller).
	// They are stored in the release record, so they must never hold a secret.
	Values map[string]any
	// Timeout bounds waiting for hooks (Helm always waits for hook Jobs; the store chart
	// has none since 0.2.0, stores made with 0.1.0 run their setup as one).
	// Zero means DefaultHookTimeout.
	Timeout time.Duration
	// RecoverPending allows Apply to take over a revision left pending by a
	// process that died. The caller must have established that no live
	// process is applying it (storectl's per-store lock); otherwise Apply
	// returns ErrPending.
	RecoverPending bool
	// ReuseValues layers Values over the values the latest revision was
	// applied with, instead of replacing them: re-applying a revision whose
	// objects drifted keeps the store as it was configured.
	ReuseValues bool
}

// DefaultHookTimeout bounds hook Jobs when ApplyOptions.Timeout is zero.
const DefaultHookTimeout = 10 * time.Minute

// Manager is what the store engine needs from a release backend.
type Manager interface {
	// Install installs revision 1. It fails if the release has any history.
	Install(ctx context.Context, o ApplyOptions) (*Release, error)
	// Upgrade applies a new revision over an existing release.
	Upgrade(ctx context.Context, o ApplyOptions) (*Release, error)
	// Apply converges: Install when there is no history, otherwise recover
	// an interrupted revision (see ApplyOptions.RecoverPending) and Upgrade.
	Apply(ctx context.Context, o ApplyOptions) (*Release, error)
	// Get returns the latest revision, or ErrNotFound.
	Get(ctx context.Context, namespace, name string) (*Release, error)
	// Status returns the revision `helm status` would show: the latest.
	Status(ctx context.Context, namespace, name string) (*Release, error)
	// Values returns the values a revision (0: the latest) was applied with.
	Values(ctx context.Context, namespace, name string, revision int) (map[string]any, error)
	// History returns every stored revision, oldest first.
	History(ctx context.Context, namespace, name string) ([]Release, error)
	// ListLatest returns the latest revision of every release stored in the
	// given namespaces as the storage's labels record it: Name, Namespace,
	// Revision and Status only. It decodes no release record.
	ListLatest(ctx context.Context, namespaces []string) ([]Release, error)
	// Uninstall removes the release and its resources; a missing release is
	// not an error.
	Uninstall(ctx context.Context, namespace, name string, timeout time.Duration) error
	// MarkFailed records the latest revision, if it is pending, as failed
	// with reason, so that a later Upgrade can supersede it. It returns the
	// revision as now stored.
	MarkFailed(ctx context.Context, namespace, name, reason string) (*Release, error)
	// MarkRevisionFailed records revision as failed with reason when it is the latest
	// and deployed or pending: its setup Job, which Helm does not wait for, failed. Any
	// other revision is returned unchanged.
	MarkRevisionFailed(ctx context.Context, namespace, name string, revision int, reason string) (*Release, error)
	// Finalize records a pending latest revision as deployed (and an older
	// deployed one as superseded), as Helm would have had the process that
	// applied it lived: used when every resource and hook of the revision is
	// observed complete and no process holds the store. A revision that is
	// not pending is returned unchanged.
	Finalize(ctx context.Context, namespace, name, description string) (*Release, error)
}

// ChartLoader returns the chart to install.
type ChartLoader func() (*chart.Chart, error)

func fromHelm(r *helmrelease.Release) *Release {
	if r == nil {
		return nil
	}
	out := &Release{Name: r.Name, Namespace: r.Namespace, Revision: r.Version, manifest: r.Manifest}
	if r.Info != nil {
		out.Status = r.Info.Status.String()
		out.Description = r.Info.Description
		out.FirstDeployed = r.Info.FirstDeployed.Time
		out.LastDeployed = r.Info.LastDeployed.Time
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		out.Chart = r.Chart.Metadata.Name
		out.ChartVersion = r.Chart.Metadata.Version
		out.AppVersion = r.Chart.Metadata.AppVersion
	}
	return out
}
