package store

import "time"

// TypeWooCommerce is the only store type so far.
const TypeWooCommerce = "woocommerce"

// Phase is the overall state of a store, computed live from the cluster.
type Phase string

// Phases.
const (
	PhaseProvisioning Phase = "Provisioning"
	PhaseReady        Phase = "Ready"
	PhaseFailed       Phase = "Failed"
	PhaseDeleting     Phase = "Deleting"
)

// Component names, also the Progress steps of a create.
const (
	ComponentNamespace = "namespace"
	ComponentDatabase  = "database"
	ComponentWordPress = "wordpress"
	ComponentSetup     = "setup"
	ComponentIngress   = "ingress"
)

// Progress steps of a delete.
const (
	StepUninstall         = "uninstall"
	StepNamespaceDeletion = "namespace-deletion"
)

// Component states.
const (
	StatePending     = "pending"
	StateProgressing = "progressing"
	StateReady       = "ready"
	StateFailed      = "failed"
	StateTerminating = "terminating"
)

// Progress states.
const (
	ProgressRunning = "running"
	ProgressDone    = "done"
	ProgressFailed  = "failed"
)

// Component is the readiness of one part of a store.
type Component struct {
	Name    string `json:"name"`
	Ready   bool   `json:"ready"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Event is a Kubernetes event about an object of the store.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Object  string    `json:"object"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
}

// Store is a store as read live from the cluster. Its JSON form is the
// stable `-o json` shape.
type Store struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Namespace    string `json:"namespace"`
	Phase        Phase  `json:"phase"`
	Reason       string `json:"reason,omitempty"`
	Message      string `json:"message,omitempty"`
	URL          string `json:"url"`
	AdminURL     string `json:"adminUrl"`
	Chart        string `json:"chart,omitempty"`
	ChartVersion string `json:"chartVersion,omitempty"`
	AppVersion   string `json:"appVersion,omitempty"`
	// UpgradeAvailable is the chart version an upgrade by this storectl would move the
	// store to, when it is newer than ChartVersion.
	UpgradeAvailable string      `json:"upgradeAvailable,omitempty"`
	Revision         int         `json:"revision"`
	ReleaseStatus    string      `json:"releaseStatus,omitempty"`
	ReadyPods        int         `json:"readyPods"`
	TotalPods        int         `json:"totalPods"`
	Components       []Component `json:"components"`
	// Background is the store's background processing (scheduled events).
	Background Background `json:"background"`
	// Mail is how the store sends mail: "off", or the SMTP server and sender.
	Mail      string    `json:"mail,omitempty"`
	Events    []Event   `json:"events,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Progress reports one step of a long operation.
type Progress struct {
	// Step is namespace, database, wordpress, setup, ingress (create) or
	// uninstall, namespace-deletion (delete).
	Step string `json:"step"`
	// State is running, done or failed.
	State   string        `json:"state"`
	Message string        `json:"message,omitempty"`
	Elapsed time.Duration `json:"elapsed"`
}

// Credentials is what `storectl credentials` prints; the only value of the
// engine that holds a password.
type Credentials struct {
	Store    string `json:"store"`
	URL      string `json:"url"`
	AdminURL string `json:"adminUrl"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// Settings are the cluster-facing settings a store is created with.
type Settings struct {
	Domain                     string            `json:"domain,omitempty"`
	IngressClass               string            `json:"ingressClass,omitempty"`
	IngressControllerNamespace string            `json:"ingressControllerNamespace,omitempty"`
	IngressControllerPodLabels map[string]string `json:"ingressControllerPodLabels,omitempty"`
	TLSClusterIssuer           string            `json:"tlsClusterIssuer,omitempty"`
	StorageClass               string            `json:"storageClass,omitempty"`
	// MaxStores limits the number of stores in the cluster; 0 means no limit. It is the
	// cluster's policy, not a store's, and is not recorded on the store.
	MaxStores       int    `json:"-"`
	ImagePullPolicy string `json:"imagePullPolicy,omitempty"`
	// Profile selects the chart preset (local or prod); "" means none.
	Profile string `json:"profile,omitempty"`
	// TenantIsolationOverrides are the isolation values (tenancy.IsolationPaths) the
	// operator lets users set in chart values; empty means none. It is the operator's
	// policy of the day, not recorded on the store.
	TenantIsolationOverrides []string `json:"-"`
}

// CreateOptions configures Create.
type CreateOptions struct {
	Name string
	// Type defaults to TypeWooCommerce.
	Type string
	// Values are user chart values (merged --values files and --set), layered
	// over the preset and the settings.
	Values map[string]any
	// Wait makes Create return only when the store is Ready (or failed).
	Wait bool
	// Timeout bounds the whole create; 0 means DefaultTimeout.
	Timeout    time.Duration
	OnProgress func(Progress)
}

// ListOptions configures List.
type ListOptions struct {
	// Selector is an extra label selector on store namespaces.
	Selector string
}

// DeleteOptions configures Delete.
type DeleteOptions struct {
	Wait bool
	// Timeout bounds the whole delete, every API call included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// IgnoreNotFound makes a missing store a success; a namespace that is
	// not a store (IsStore) is still refused.
	IgnoreNotFound bool
	OnProgress     func(Progress)
	// OnRetained receives, once the store is gone, the volumes its deletion
	// left because their reclaim policy is Retain.
	OnRetained func([]RetainedVolume)
	// OnWaiting is called once, with Wait, when the release is uninstalled and the
	// namespace deletion requested: what is left is waiting for the cluster to empty
	// the namespace, which makes no request but the deletion watch.
	OnWaiting func()
}

// WaitOptions configures Wait.
type WaitOptions struct {
	// For is "ready" or "deleted".
	For string
	// Timeout bounds the whole wait, every API call included; 0 means
	// DefaultTimeout.
	Timeout    time.Duration
	OnProgress func(Progress)
	// OnRetained is DeleteOptions.OnRetained for For "deleted".
	OnRetained func([]RetainedVolume)
}

// RetainedVolume is a PersistentVolume of a deleted store that stays because
// its reclaim policy is Retain: it holds the store's data until someone
// deletes or reuses it. A store created later under the same name does not
// get it back on its own (its claims bind new volumes).
type RetainedVolume struct {
	Name         string `json:"name"`
	Claim        string `json:"claim"`
	StorageClass string `json:"storageClass,omitempty"`
	Phase        string `json:"phase"`
}

// DefaultTimeout bounds Create, Delete and Wait when no timeout is given.
const DefaultTimeout = 10 * time.Minute
