// Package doctor checks that a cluster, an identity and this machine can run storectl's
// stores, and reports the stores that need attention. It returns facts (an ID, a result,
// a message, a hint and a duration per check); commands render them.
package doctor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
)

// Result is the outcome of one check.
type Result string

// Results a check can have.
const (
	ResultOK      Result = "ok"
	ResultWarning Result = "warning"
	ResultFailed  Result = "failed"
	ResultSkipped Result = "skipped"
)

// Categories, in the order they run. A failed check of the cluster category is fatal: every
// later check is skipped, naming it.
const (
	CategoryCluster     = "cluster"
	CategoryPermissions = "permissions"
	CategoryStorage     = "storage"
	CategoryIngress     = "ingress"
	CategoryPolicy      = "policy"
	CategoryCapacity    = "capacity"
	CategoryStores      = "stores"
	CategoryLocal       = "local"
)

// Categories lists the categories in the order they run.
var Categories = []string{CategoryCluster, CategoryPermissions, CategoryStorage, CategoryIngress,
	CategoryPolicy, CategoryCapacity, CategoryStores, CategoryLocal}

// Check is the outcome of one check.
type Check struct {
	// ID is stable, <category>.<name>; scripts and --skip refer to it.
	ID       string
	Category string
	Result   Result
	// Message says what was found, in one line.
	Message string
	// Hint is where to read what to do: an anchor of docs/doctor.md.
	Hint     string
	Duration time.Duration
	// Err is the cluster's error behind a failed check, when there is one.
	Err error
}

// Report is the outcome of a run, in the order the checks ran.
type Report struct {
	Checks []Check
}

// Failed reports whether a check failed.
func (r Report) Failed() bool { return r.count(ResultFailed) > 0 }

// Warned reports whether a check ended with a warning.
func (r Report) Warned() bool { return r.count(ResultWarning) > 0 }

func (r Report) count(res Result) int {
	n := 0
	for _, c := range r.Checks {
		if c.Result == res {
			n++
		}
	}
	return n
}

// Fatal returns the failed check that stopped the run (a cluster check), or nil.
func (r Report) Fatal() *Check {
	for i := range r.Checks {
		if c := &r.Checks[i]; c.Category == CategoryCluster && c.Result == ResultFailed && fatal[c.ID] {
			return c
		}
	}
	return nil
}

// Options says what to check and with what.
type Options struct {
	// Kube is the cluster client; required.
	Kube kubernetes.Interface
	// Dynamic reads cert-manager's ClusterIssuers; nil skips that check.
	Dynamic dynamic.Interface
	// Releases reads the stores' releases; nil skips the checks that need them.
	Releases release.Manager
	// Stores lists the stores with their live status; nil skips the checks that need it.
	Stores func(ctx context.Context) ([]store.Store, error)
	// Settings are the settings stores are created with (ingress class, storage class...).
	Settings store.Settings
	// StoreRequests are the CPU and memory one store may request (its quota).
	StoreRequests corev1.ResourceList
	// ChartVersion is the version of the chart this storectl installs.
	ChartVersion string
	// KubeVersion is the chart's constraint on the Kubernetes version, e.g. ">=1.27.0-0".
	KubeVersion string
	// RBAC is docs/rbac.yaml; nil skips the permission checks.
	RBAC []byte
	// LockNamespace holds the create lock; "" means store.DefaultLockNamespace.
	LockNamespace string
	// AuditPath is the audit log; "" skips its check.
	AuditPath string
	// Pre runs the checks before an install only: the stores category is skipped.
	Pre bool
	// Skip names checks (IDs) or whole categories not to run.
	Skip []string
	// Only, when set, runs these checks (IDs) and no other.
	Only []string
	// CheckTimeout bounds each check; 0 means DefaultCheckTimeout.
	CheckTimeout time.Duration
	// OrphanGrace is how old a store namespace without a release must be before it counts as
	// orphaned (a create makes the namespace moments before the release); 0 means
	// DefaultOrphanGrace.
	OrphanGrace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultCheckTimeout = 15 * time.Second
	DefaultOrphanGrace  = time.Minute
)

// checker is one check: it returns its result and message, and the cluster error if any.
type checker struct {
	id    string
	needs string // a check of the same run that must have passed (ok or warning)
	run   func(ctx context.Context, r *runner) outcome
}

type outcome struct {
	result  Result
	message string
	err     error
}

func ok(format string, args ...any) outcome {
	return outcome{result: ResultOK, message: fmt.Sprintf(format, args...)}
}
func warn(format string, args ...any) outcome {
	return outcome{result: ResultWarning, message: fmt.Sprintf(format, args...)}
}
func fail(format string, args ...any) outcome {
	return outcome{result: ResultFailed, message: fmt.Sprintf(format, args...)}
}
func skip(format string, args ...any) outcome {
	return outcome{result: ResultSkipped, message: fmt.Sprintf(format, args...)}
}

// fatal names the checks whose failure stops the run.
var fatal = map[string]bool{IDClusterReachable: true, IDClusterCredentials: true}

// checkers is every check, in the order they run.
func checkers() []checker {
	return []checker{
		{id: IDClusterReachable, run: checkReachable},
		{id: IDClusterCredentials, run: checkCredentials},
		{id: IDClusterVersion, needs: IDClusterReachable, run: checkVersion},
		{id: IDPermissionsOperator, run: checkOperatorPermissions},
		{id: IDPermissionsCreateLock, run: checkLockPermissions},
		{id: IDStorageClass, run: checkStorageClass},
		{id: IDStorageExpansion, needs: IDStorageClass, run: checkExpansion},
		{id: IDIngressClass, run: checkIngressClass},
		{id: IDIngressController, run: checkIngressController},
		{id: IDIngressClusterIssuer, run: checkClusterIssuer},
		{id: IDPolicyPodSecurity, run: checkPodSecurity},
		{id: IDPolicyNetworkPolicy, run: checkNetworkPolicy},
		{id: IDCapacityNodes, run: checkCapacity},
		{id: IDStoresPending, run: checkPending},
		{id: IDStoresOrphaned, run: checkOrphaned},
		{id: IDStoresFailed, run: checkFailed},
		{id: IDStoresChart, run: checkChartVersions},
		{id: IDLocalAuditLog, run: checkAuditLog},
	}
}

// Check IDs. They are stable: scripts, --skip and docs/doctor.md refer to them.
const (
	IDClusterReachable      = "cluster.reachable"
	IDClusterCredentials    = "cluster.credentials" //nolint:gosec // a check's name, not a credential
	IDClusterVersion        = "cluster.version"
	IDPermissionsOperator   = "permissions.operator"
	IDPermissionsCreateLock = "permissions.create-lock"
	IDStorageClass          = "storage.class"
	IDStorageExpansion      = "storage.expansion"
	IDIngressClass          = "ingress.class"
	IDIngressController     = "ingress.controller"
	IDIngressClusterIssuer  = "ingress.cluster-issuer"
	IDPolicyPodSecurity     = "policy.pod-security"
	IDPolicyNetworkPolicy   = "policy.network-policy"
	IDCapacityNodes         = "capacity.nodes"
	IDStoresPending         = "stores.pending"
	IDStoresOrphaned        = "stores.orphaned"
	IDStoresFailed          = "stores.failed"
	IDStoresChart           = "stores.chart-version"
	IDLocalAuditLog         = "local.audit-log"
)

// IDs lists every check ID in the order the checks run.
func IDs() []string {
	cs := checkers()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.id
	}
	return out
}

// categoryOf returns the category of a check ID.
func categoryOf(id string) string {
	for i := range len(id) {
		if id[i] == '.' {
			return id[:i]
		}
	}
	return id
}

// Run runs the checks and returns their outcomes. It never fails as a whole: a check that
// cannot be made says so in its own outcome.
func Run(ctx context.Context, o Options) Report {
	r := newRunner(o)
	var rep Report
	var stopped string
	for _, c := range checkers() {
		if len(o.Only) > 0 && !slices.Contains(o.Only, c.id) {
			continue
		}
		cat := categoryOf(c.id)
		out := r.decide(c, cat, stopped)
		var took time.Duration
		if out.result == "" {
			start := r.now()
			cctx, cancel := context.WithTimeout(ctx, r.checkTimeout)
			out = c.run(cctx, r)
			cancel()
			took = r.now().Sub(start)
		}
		if ctx.Err() != nil && out.result == ResultFailed && out.err == nil {
			out.err = ctx.Err()
		}
		chk := Check{ID: c.id, Category: cat, Result: out.result, Message: out.message,
			Hint: "docs/doctor.md#" + anchor(c.id), Duration: took, Err: out.err}
		r.results[c.id] = out.result
		rep.Checks = append(rep.Checks, chk)
		if fatal[c.id] && out.result == ResultFailed && stopped == "" {
			stopped = c.id
		}
	}
	return rep
}

// decide returns the outcome of a check that is not to run, or a zero outcome.
func (r *runner) decide(c checker, cat, stopped string) outcome {
	switch {
	case slices.Contains(r.o.Skip, c.id) || slices.Contains(r.o.Skip, cat):
		return skip("skipped as asked")
	case stopped != "":
		return skip("skipped: %s failed", stopped)
	case r.o.Pre && cat == CategoryStores:
		return skip("skipped before an install: there are no stores to check yet")
	case c.needs != "" && (r.results[c.needs] == ResultFailed || r.results[c.needs] == ResultSkipped):
		return skip("skipped: %s did not pass", c.needs)
	}
	return outcome{}
}

// anchor is the docs/doctor.md anchor of a check: its ID without dots.
func anchor(id string) string {
	b := []byte(id)
	for i := range b {
		if b[i] == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

// runner holds what the checks of one run share: options and what was read once.
type runner struct {
	o            Options
	now          func() time.Time
	checkTimeout time.Duration
	results      map[string]Result
	version      string // the server's gitVersion, once cluster.reachable has read it

	nsOnce     sync.Once
	namespaces []corev1.Namespace
	nsErr      error
}

func newRunner(o Options) *runner {
	r := &runner{o: o, now: o.Now, checkTimeout: o.CheckTimeout, results: map[string]Result{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.checkTimeout <= 0 {
		r.checkTimeout = DefaultCheckTimeout
	}
	if r.o.OrphanGrace <= 0 {
		r.o.OrphanGrace = DefaultOrphanGrace
	}
	if r.o.LockNamespace == "" {
		r.o.LockNamespace = store.DefaultLockNamespace
	}
	return r
}
