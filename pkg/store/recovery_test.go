package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storectl/storectl/pkg/release"
)

func TestIsStore(t *testing.T) {
	t.Parallel()
	ns := func(name string, labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	both := map[string]string{LabelManagedBy: ManagedBy, LabelStore: "shop"}
	for _, tt := range []struct {
		what string
		n    *corev1.Namespace
		want bool
	}{
		{"both labels", ns("store-shop", both), true},
		{"managed-by only", ns("store-shop", map[string]string{LabelManagedBy: ManagedBy}), false},
		{"store label only", ns("store-shop", map[string]string{LabelStore: "shop"}), false},
		{"store label of another store", ns("store-shop", map[string]string{LabelManagedBy: ManagedBy, LabelStore: "outlet"}), false},
		{"another manager", ns("store-shop", map[string]string{LabelManagedBy: "Helm", LabelStore: "shop"}), false},
		{"name not store-<name>", ns("shop", both), false},
		{"nil", nil, false},
	} {
		if got := IsStore(tt.n, "shop"); got != tt.want {
			t.Errorf("%s: IsStore = %v, want %v", tt.what, got, tt.want)
		}
		if name, ok := StoreName(tt.n); ok != tt.want || (ok && name != "shop") {
			t.Errorf("%s: StoreName = %q, %v", tt.what, name, ok)
		}
	}
}

// Every command refuses a namespace that is not a store, and delete leaves it alone.
func TestNotAStoreIsNeverTouched(t *testing.T) {
	t.Parallel()
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "store-shop", Labels: map[string]string{LabelManagedBy: ManagedBy}}}
	env := newEnv(t, Settings{}, foreign)
	ctx := context.Background()
	for what, err := range map[string]error{
		"get":                       func() error { _, err := env.e.Get(ctx, "shop"); return err }(),
		"credentials":               func() error { _, err := env.e.Credentials(ctx, "shop"); return err }(),
		"wait":                      func() error { _, err := env.e.Wait(ctx, "shop", WaitOptions{Timeout: time.Second}); return err }(),
		"delete":                    env.e.Delete(ctx, "shop", DeleteOptions{Wait: true, Timeout: time.Second}),
		"delete --ignore-not-found": env.e.Delete(ctx, "shop", DeleteOptions{Wait: true, Timeout: time.Second, IgnoreNotFound: true}),
	} {
		var se *Error
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &se) || se.Reason != "NotAStore" {
			t.Errorf("%s: %v, want ErrNotFound (NotAStore)", what, err)
		}
	}
	if _, err := env.e.Create(ctx, CreateOptions{Name: "shop", Timeout: time.Second}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("create: %v, want ErrAlreadyExists", err)
	}
	n, err := env.kube.CoreV1().Namespaces().Get(ctx, "store-shop", metav1.GetOptions{})
	if err != nil || n.DeletionTimestamp != nil {
		t.Fatalf("the namespace was deleted (%v)", err)
	}
	for _, a := range env.kube.Actions() {
		if a.GetVerb() == "delete" || a.GetVerb() == "create" && a.GetResource().Resource != "leases" {
			t.Errorf("unexpected %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
}

func TestStoreVolumes(t *testing.T) {
	t.Parallel()
	created := t0
	pv := func(name string, uid types.UID, policy corev1.PersistentVolumeReclaimPolicy, at time.Time) corev1.PersistentVolume {
		return corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(at)},
			Spec: corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: policy,
				ClaimRef: &corev1.ObjectReference{Namespace: "store-shop", Name: "data-shop-mariadb-0", UID: uid}},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased},
		}
	}
	del, ret := corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain
	pvs := []corev1.PersistentVolume{
		pv("mine-deleting", "c1", del, created.Add(time.Minute)),
		pv("mine-retained", "c2", ret, created.Add(time.Minute)),
		pv("earlier-retained", "c0", ret, created.Add(-time.Hour)),
		pv("earlier-deleting", "c9", del, created.Add(-time.Hour)),
	}
	other := pv("other-namespace", "c1", del, created)
	other.Spec.ClaimRef.Namespace = "store-outlet"
	pvs = append(pvs, other)

	for _, tt := range []struct {
		what            string
		claims          map[types.UID]bool
		created         time.Time
		waiting, retain string
	}{
		{"claims known", map[types.UID]bool{"c1": true, "c2": true}, time.Time{}, "mine-deleting", "mine-retained"},
		{"namespace creation known", nil, created, "mine-deleting", "mine-retained"},
		{"nothing known", nil, time.Time{}, "mine-deleting,earlier-deleting", ""},
	} {
		w, r := storeVolumes(pvs, "store-shop", tt.claims, tt.created)
		var rn []string
		for _, v := range r {
			rn = append(rn, v.Name)
		}
		if got := strings.Join(w, ","); got != sortedCSV(tt.waiting) {
			t.Errorf("%s: waiting for %q, want %q", tt.what, got, sortedCSV(tt.waiting))
		}
		if got := strings.Join(rn, ","); got != tt.retain {
			t.Errorf("%s: retained %q, want %q", tt.what, got, tt.retain)
		}
	}
}

func sortedCSV(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return strings.Join(parts, ",")
}

func TestComputeMissingCredentialsAndDrift(t *testing.T) {
	t.Parallel()
	deployed := &release.Release{Name: "shop", Namespace: "store-shop", Revision: 1, Status: release.StatusDeployed}
	claim := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-shop-mariadb-0", Namespace: "store-shop"}}
	base := func() Snapshot {
		return Snapshot{Name: "shop", Namespace: storeNS("shop"), Release: deployed, Now: t0}
	}
	for _, tt := range []struct {
		what   string
		mutate func(*Snapshot)
		phase  Phase
		reason string
	}{
		{"secret missing, database volume exists", func(s *Snapshot) { s.CredentialsMissing, s.PVCs = true, []corev1.PersistentVolumeClaim{claim} },
			PhaseFailed, ReasonCredentialsMissing},
		{"secret missing, list sees the StatefulSet", func(s *Snapshot) {
			s.CredentialsMissing, s.Partial, s.StatefulSets = true, true, append(s.StatefulSets, *sts("shop", 1))
		}, PhaseFailed, ReasonCredentialsMissing},
		{"secret missing before any volume", func(s *Snapshot) { s.CredentialsMissing, s.Release = true, nil },
			PhaseProvisioning, "ReleaseNotInstalled"},
		{"deployed release drifted", func(s *Snapshot) {
			s.Drift = []release.Drift{{Kind: "StatefulSet", Name: "shop-mariadb", Reason: release.DriftMissing}}
		}, PhaseFailed, ReasonDrift},
	} {
		s := base()
		tt.mutate(&s)
		st := Compute(s, DefaultFailFast)
		if st.Phase != tt.phase || st.Reason != tt.reason {
			t.Errorf("%s: %s %s (%s), want %s %s", tt.what, st.Phase, st.Reason, st.Message, tt.phase, tt.reason)
		}
	}
}

// A create never generates passwords next to an existing database volume.
func TestCreateKeepsPasswordsOfAnExistingDatabase(t *testing.T) {
	t.Parallel()
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-shop-mariadb-0", Namespace: "store-shop"}}
	env := newEnv(t, Settings{}, storeNS("shop"), claim)
	_, err := env.e.Create(context.Background(), CreateOptions{Name: "shop", Timeout: 5 * time.Second})
	var se *Error
	if !errors.Is(err, ErrFailed) || !errors.As(err, &se) || se.Reason != ReasonCredentialsMissing {
		t.Fatalf("create: %v, want ErrFailed (%s)", err, ReasonCredentialsMissing)
	}
	if _, err := env.kube.CoreV1().Secrets("store-shop").Get(context.Background(), "shop-credentials", metav1.GetOptions{}); err == nil {
		t.Error("a credentials Secret was generated next to the existing database volume")
	}
	if _, err := env.e.Credentials(context.Background(), "shop"); !errors.As(err, &se) || se.Reason != ReasonCredentialsMissing {
		t.Errorf("credentials: %v, want %s", err, ReasonCredentialsMissing)
	}
}
