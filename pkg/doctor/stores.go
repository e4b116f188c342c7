package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
)

// storeReleases returns the store namespaces and the latest release revision of each.
func (r *runner) storeReleases(ctx context.Context) ([]corev1.Namespace, map[string]release.Release, error) {
	nss, err := r.storeNamespaces(ctx)
	if err != nil || len(nss) == 0 {
		return nss, nil, err
	}
	names := make([]string, len(nss))
	for i, n := range nss {
		names[i] = n.Name
	}
	rels, err := r.o.Releases.ListLatest(ctx, names)
	if err != nil {
		return nss, nil, err
	}
	byNS := map[string]release.Release{}
	for _, rel := range rels {
		byNS[rel.Namespace] = rel
	}
	return nss, byNS, nil
}

// lockHeld reports whether a live process holds the store's Lease.
func (r *runner) lockHeld(ctx context.Context, ns string) (bool, string, error) {
	l, err := r.o.Kube.CoordinationV1().Leases(ns).Get(ctx, store.StoreLockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	return leaseLive(l, r.now()), ptr.Deref(l.Spec.HolderIdentity, ""), nil
}

func leaseLive(l *coordinationv1.Lease, now time.Time) bool {
	h := ptr.Deref(l.Spec.HolderIdentity, "")
	if h == "" || l.Spec.RenewTime == nil {
		return false
	}
	d := time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 0)) * time.Second
	return now.Before(l.Spec.RenewTime.Add(d))
}

func checkPending(ctx context.Context, r *runner) outcome {
	if r.o.Releases == nil {
		return skip("skipped: releases cannot be read here")
	}
	nss, rels, err := r.storeReleases(ctx)
	if err != nil {
		return readErr("store releases", err)
	}
	var dead, live []string
	for _, n := range nss {
		rel, found := rels[n.Name]
		if !found || !rel.Pending() {
			continue
		}
		name, _ := store.StoreName(&n)
		held, holder, err := r.lockHeld(ctx, n.Name)
		if err != nil {
			return readErr("the lock of store "+name, err)
		}
		if held {
			live = append(live, fmt.Sprintf("%s (%s, held by %s)", name, rel.Status, holder))
		} else {
			dead = append(dead, fmt.Sprintf("%s (%s)", name, rel.Status))
		}
	}
	sort.Strings(dead)
	if len(dead) > 0 {
		return fail("%d stores have a release left pending by a process that is gone: %s", len(dead), strings.Join(dead, ", "))
	}
	if len(live) > 0 {
		sort.Strings(live)
		return ok("no release is left pending; %d are being applied now: %s", len(live), strings.Join(live, ", "))
	}
	return ok("no release of %d stores is left pending", len(nss))
}

func checkOrphaned(ctx context.Context, r *runner) outcome {
	if r.o.Releases == nil {
		return skip("skipped: releases cannot be read here")
	}
	nss, rels, err := r.storeReleases(ctx)
	if err != nil {
		return readErr("store releases", err)
	}
	var orphans []string
	for _, n := range nss {
		if _, found := rels[n.Name]; found || n.DeletionTimestamp != nil {
			continue
		}
		if r.now().Sub(n.CreationTimestamp.Time) < r.o.OrphanGrace {
			continue // a create makes the namespace moments before the release
		}
		held, _, err := r.lockHeld(ctx, n.Name)
		if err != nil {
			return readErr("the lock of namespace "+n.Name, err)
		}
		if !held {
			orphans = append(orphans, n.Name)
		}
	}
	if len(orphans) > 0 {
		sort.Strings(orphans)
		return fail("%d store namespaces have no release and no process working on them: %s", len(orphans), strings.Join(orphans, ", "))
	}
	return ok("every store namespace has a release")
}

func checkFailed(ctx context.Context, r *runner) outcome {
	if r.o.Stores == nil {
		return skip("skipped: stores cannot be listed here")
	}
	stores, err := r.o.Stores(ctx)
	if err != nil {
		return readErr("stores", err)
	}
	var failed []string
	for _, s := range stores {
		if s.Phase == store.PhaseFailed {
			failed = append(failed, fmt.Sprintf("%s (%s)", s.Name, orUnknown(s.Reason)))
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return fail("%d of %d stores failed: %s", len(failed), len(stores), strings.Join(failed, ", "))
	}
	return ok("none of %d stores failed", len(stores))
}

func checkChartVersions(ctx context.Context, r *runner) outcome {
	if r.o.Stores == nil {
		return skip("skipped: stores cannot be listed here")
	}
	current, err := semver.NewVersion(r.o.ChartVersion)
	if err != nil {
		return skip("skipped: this storectl's chart version %q is not a version", r.o.ChartVersion)
	}
	stores, err := r.o.Stores(ctx)
	if err != nil {
		return readErr("stores", err)
	}
	var older []string
	for _, s := range stores {
		v, err := semver.NewVersion(s.ChartVersion)
		if err == nil && v.LessThan(current) {
			older = append(older, fmt.Sprintf("%s (%s)", s.Name, s.ChartVersion))
		}
	}
	if len(older) > 0 {
		sort.Strings(older)
		return warn("%d stores run a chart older than this storectl's %s: %s", len(older), current, strings.Join(older, ", "))
	}
	return ok("no store runs a chart older than this storectl's %s", current)
}
