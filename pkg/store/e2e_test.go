//go:build e2e

package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
	"github.com/storectl/storectl/pkg/testcluster"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Run(m)) }

type env struct {
	c       *testcluster.Cluster
	clients *kube.Clients
}

// setup returns the shared test cluster.
func setup(t *testing.T) *env {
	t.Helper()
	return envOf(t, testcluster.Require(t))
}

// setupPrivate returns a sandbox of the test's own, for a test that stops its
// API server or counts every store in it.
func setupPrivate(t *testing.T) *env {
	t.Helper()
	return envOf(t, testcluster.Private(t))
}

func envOf(t *testing.T, c *testcluster.Cluster) *env {
	t.Helper()
	cl, err := kube.NewClients(c.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, clients: cl}
}

// testFailFast and testLockLease shorten the engine's waits: the sandbox
// shows a failure within seconds, so production's grace periods only slow
// the tests. An image pull is in ImagePullBackOff from about 2s to 12s after
// its pod starts, and a crash loop restarts after 2s; the graces that guard
// against passing states (a pod not yet scheduled while its volume is
// provisioned) stay at several seconds. The binary's tests use the same
// values (cmd/storectl, testTimings).
var (
	testFailFast = store.FailFast{
		ImagePullGrace:     5 * time.Second,
		CrashLoopRestarts:  1,
		UnschedulableGrace: 8 * time.Second,
		VolumeGrace:        5 * time.Second,
		ConfigErrorGrace:   5 * time.Second,
	}
	testLockLease = 6 * time.Second
)

// engine returns a fresh engine, as a separate storectl process would have.
func (v *env) engine(t *testing.T, s store.Settings) *store.Engine {
	t.Helper()
	rel, err := release.NewHelm(release.HelmOptions{Client: v.clients.Interface, Getter: v.clients.Getter})
	if err != nil {
		t.Fatal(err)
	}
	if s.Profile == "" {
		s.Profile = "local"
	}
	ff := testFailFast
	e, err := store.New(store.Options{Kube: v.clients.Interface, Releases: rel, Settings: s, FailFast: &ff, LockLease: testLockLease})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func uniqueName(prefix string) string { return prefix + "-" + rand.String(5) }

// cleanup deletes the store at the end of the test and checks nothing is left.
func (v *env) cleanup(t *testing.T, e *store.Engine, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := e.Delete(ctx, name, store.DeleteOptions{Wait: true, Timeout: 3 * time.Minute, IgnoreNotFound: true}); err != nil {
			t.Errorf("cleanup delete %s: %v", name, err)
		}
	})
}

func delay(d string) map[string]any {
	ann := map[string]any{"sandbox.storectl.dev/ready-delay": d}
	return map[string]any{
		"mariadb":   map[string]any{"podAnnotations": ann},
		"wordpress": map[string]any{"podAnnotations": ann},
		"setup":     map[string]any{"podAnnotations": ann},
	}
}

func fault(component, f string) map[string]any {
	return map[string]any{component: map[string]any{"podAnnotations": map[string]any{"sandbox.storectl.dev/fault": f}}}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{Domain: "127.0.0.1.nip.io"})
	name := uniqueName("life")
	v.cleanup(t, e, name)
	ctx := context.Background()

	var steps []string
	start := time.Now()
	st, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute, Values: delay("3s"),
		OnProgress: func(p store.Progress) { steps = append(steps, p.Step+":"+p.State) }})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Logf("Ready after %s", time.Since(start).Round(time.Millisecond))
	if st.Phase != store.PhaseReady || st.Revision != 1 || st.ReleaseStatus != "deployed" || st.URL != "http://"+name+".127.0.0.1.nip.io/" {
		t.Errorf("created store = %+v", st)
	}
	for _, s := range []string{"namespace", "database", "wordpress", "setup", "ingress"} {
		if !strings.Contains(strings.Join(steps, " "), s+":done") {
			t.Errorf("no %s:done in progress %v", s, steps)
		}
	}

	list, err := e.List(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		if s.Name == name {
			found = true
			if s.Phase != store.PhaseReady || s.ReadyPods != 2 {
				t.Errorf("listed store = %+v", s)
			}
		}
	}
	if !found {
		t.Errorf("store %s not listed", name)
	}
	got, err := e.Get(ctx, name)
	if err != nil || got.Phase != store.PhaseReady || got.ChartVersion == "" || got.CreatedAt.IsZero() || len(got.Components) != 5 {
		t.Errorf("get = %+v, %v", got, err)
	}

	creds, err := e.Credentials(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := v.clients.Interface.CoreV1().Secrets(store.Namespace(name)).Get(ctx, name+"-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if creds.Password == "" || creds.Password != string(sec.Data["wordpress-admin-password"]) {
		t.Errorf("credentials password does not match the Secret")
	}
	// No password in the release record's values.
	rs, err := driver.NewSecrets(v.clients.Interface.CoreV1().Secrets(store.Namespace(name))).Query(map[string]string{"name": name, "owner": "helm"})
	if err != nil || len(rs) == 0 {
		t.Fatalf("read release record: %v", err)
	}
	for _, r := range rs {
		for _, k := range []string{"mariadb-root-password", "mariadb-password", "wordpress-admin-password"} {
			if strings.Contains(fmt.Sprint(r.Config), string(sec.Data[k])) || strings.Contains(r.Manifest, string(sec.Data[k])) {
				t.Errorf("password %s found in the Helm release record", k)
			}
		}
	}

	again, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: time.Minute})
	if !errors.Is(err, store.ErrAlreadyExists) || again.Revision != 1 {
		t.Errorf("create again = %v (revision %d), want ErrAlreadyExists with nothing changed", err, again.Revision)
	}

	if err := e.Delete(ctx, name, store.DeleteOptions{Wait: true, Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := v.clients.Interface.CoreV1().Namespaces().Get(ctx, store.Namespace(name), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace still there after delete: %v", err)
	}
	pvs, err := v.clients.Interface.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == store.Namespace(name) {
			t.Errorf("volume %s of the store is left", pv.Name)
		}
	}
	if err := e.Delete(ctx, name, store.DeleteOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again = %v, want ErrNotFound", err)
	}
}

func TestFailFast(t *testing.T) {
	t.Parallel()
	v := setup(t)
	tests := []struct {
		name      string
		values    map[string]any
		settings  store.Settings
		component string
		reason    string
		within    time.Duration
	}{
		{"image-pull", fault("wordpress", "image-pull"), store.Settings{}, "wordpress", "ImagePullBackOff", 90 * time.Second},
		{"crashloop", fault("mariadb", "crashloop"), store.Settings{}, "database", "CrashLoopBackOff", 90 * time.Second},
		{"job-fail", fault("setup", "job-fail"), store.Settings{}, "setup", "", 120 * time.Second},
		{"no-storage-class", nil, store.Settings{StorageClass: "missing"}, "", "", 90 * time.Second},
		{"unschedulable", map[string]any{"quota": map[string]any{"enabled": false}, "limitRange": map[string]any{"enabled": false},
			"wordpress": map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "4000Gi"}, "limits": map[string]any{"memory": "4000Gi"}}}},
			store.Settings{TenantIsolationOverrides: []string{"quota", "limitRange"}}, "wordpress", "Unschedulable", 60 * time.Second},
		{"quota", map[string]any{"quota": map[string]any{"hard": map[string]any{"requests.memory": "300Mi"}}},
			store.Settings{TenantIsolationOverrides: []string{"quota"}}, "", "FailedCreate", 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := v.engine(t, tt.settings)
			name := uniqueName("ff-" + tt.name)
			if len(name) > 40 {
				name = name[:40]
			}
			v.cleanup(t, e, name)
			start := time.Now()
			_, err := e.Create(context.Background(), store.CreateOptions{Name: name, Wait: true, Timeout: 4 * time.Minute, Values: tt.values})
			took := time.Since(start)
			t.Logf("%s: after %s: %v", tt.name, took.Round(time.Millisecond), err)
			if !errors.Is(err, store.ErrFailed) {
				t.Fatalf("err = %v, want ErrFailed", err)
			}
			var se *store.Error
			if !errors.As(err, &se) || se.Reason == "" || se.Message == "" {
				t.Fatalf("failure lacks details: %+v", se)
			}
			if tt.component != "" && se.Component != tt.component {
				t.Errorf("component = %q, want %q", se.Component, tt.component)
			}
			if tt.reason != "" && se.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", se.Reason, tt.reason)
			}
			if took > tt.within {
				t.Errorf("failure took %s, want within %s", took, tt.within)
			}
			st, err := e.Get(context.Background(), name)
			if err != nil || st.Phase != store.PhaseFailed {
				t.Errorf("get after failure = %+v, %v; want Failed", st, err)
			}
		})
	}
}

func TestNeverReadyTimesOutWithLastState(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{})
	name := uniqueName("never")
	v.cleanup(t, e, name)
	_, err := e.Create(context.Background(), store.CreateOptions{Name: name, Wait: true, Timeout: 25 * time.Second, Values: fault("wordpress", "never-ready")})
	if !errors.Is(err, store.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	var se *store.Error
	if !errors.As(err, &se) || len(se.Components) != 5 || !strings.Contains(se.Message, "wordpress progressing") {
		t.Fatalf("timeout details = %+v", se)
	}
}

func TestConcurrentCreateOfOneStore(t *testing.T) {
	t.Parallel()
	v := setup(t)
	name := uniqueName("twice")
	first := v.engine(t, store.Settings{})
	v.cleanup(t, first, name)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = v.engine(t, store.Settings{}).Create(context.Background(), store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrBusy), errors.Is(err, store.ErrAlreadyExists):
			t.Logf("the other create: %v", err)
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok < 1 {
		t.Fatalf("no create succeeded: %v", errs)
	}
	st, err := first.Wait(context.Background(), name, store.WaitOptions{For: "ready", Timeout: 2 * time.Minute})
	if err != nil || st.Phase != store.PhaseReady || st.ReleaseStatus != "deployed" {
		t.Errorf("store after concurrent creates = %+v, %v", st, err)
	}
}

func TestKilledCreateResumes(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{})
	ctx := context.Background()
	cs := v.clients.Interface

	t.Run("after the namespace", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("kill-ns")
		v.cleanup(t, e, name)
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: store.Namespace(name),
			Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: name, store.LabelType: store.TypeWooCommerce,
				"pod-security.kubernetes.io/enforce": "restricted"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute})
		if err != nil || st.Phase != store.PhaseReady {
			t.Fatalf("resume = %+v, %v", st, err)
		}
	})

	t.Run("pending-install with a dead lock holder", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("kill-pend")
		v.cleanup(t, e, name)
		ns := store.Namespace(name)
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: name, store.LabelType: store.TypeWooCommerce}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// What a SIGKILL during the install leaves: the release record
		// pending-install, and the lock of a process that no longer renews it.
		ch, err := charts.Load()
		if err != nil {
			t.Fatal(err)
		}
		r := &helmrelease.Release{Name: name, Namespace: ns, Version: 1, Chart: ch, Config: map[string]any{},
			Info: &helmrelease.Info{Status: helmrelease.StatusPendingInstall, Description: "Initial install underway",
				FirstDeployed: helmtime.Now(), LastDeployed: helmtime.Now()}}
		if err := driver.NewSecrets(cs.CoreV1().Secrets(ns)).Create(fmt.Sprintf("sh.helm.release.v1.%s.v1", name), r); err != nil {
			t.Fatal(err)
		}
		past := metav1.NewMicroTime(time.Now().Add(-time.Minute))
		_, err = cs.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: store.StoreLockName},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("killed/1/x"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &past}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute})
		if err != nil || st.Phase != store.PhaseReady || st.Revision != 2 {
			t.Fatalf("resume = %+v, %v", st, err)
		}
		hist, err := release.Manager(mustHelm(t, v)).History(ctx, ns, name)
		if err != nil || len(hist) != 2 || !strings.Contains(hist[0].Description, "interrupted") || hist[1].Status != "deployed" {
			t.Errorf("history = %+v, %v", hist, err)
		}
	})

	t.Run("interrupted create resumes", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("kill-int")
		v.cleanup(t, e, name)
		cctx, cancel := context.WithCancel(ctx)
		go func() { time.Sleep(2 * time.Second); cancel() }()
		start := time.Now()
		_, err := e.Create(cctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute, Values: delay("20s")})
		if !errors.Is(err, store.ErrInterrupted) {
			t.Fatalf("err = %v, want ErrInterrupted", err)
		}
		if d := time.Since(start); d > 4500*time.Millisecond {
			t.Errorf("interrupted create returned after %s, want within 2s of the signal", d)
		}
		st, err := v.engine(t, store.Settings{}).Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute})
		if err != nil || st.Phase != store.PhaseReady {
			t.Fatalf("resume = %+v, %v", st, err)
		}
	})
}

func mustHelm(t *testing.T, v *env) *release.Helm {
	h, err := release.NewHelm(release.HelmOptions{Client: v.clients.Interface, Getter: v.clients.Getter})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestStoreLimitUnderRace counts every store in the cluster, so it has a
// sandbox of its own.
func TestStoreLimitUnderRace(t *testing.T) {
	t.Parallel()
	v := setupPrivate(t)
	ctx := context.Background()
	prefix := "race-" + rand.String(4)
	// live counts the stores that count against the limit (not being
	// deleted), other than this test's own.
	live := func() int {
		list, err := v.engine(t, store.Settings{}).List(ctx, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range list {
			if s.Phase != store.PhaseDeleting && !strings.HasPrefix(s.Name, prefix) {
				n++
			}
		}
		return n
	}
	before := live()
	limit := before + 10
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := v.engine(t, store.Settings{MaxStores: limit})
			_, errs[i] = e.Create(ctx, store.CreateOptions{Name: fmt.Sprintf("%s-%d", prefix, i), Wait: true, Timeout: 4 * time.Minute})
		}()
	}
	wg.Wait()
	cleaner := v.engine(t, store.Settings{})
	defer func() {
		var dw sync.WaitGroup
		for i := range 20 {
			dw.Add(1)
			go func() {
				defer dw.Done()
				_ = cleaner.Delete(ctx, fmt.Sprintf("%s-%d", prefix, i), store.DeleteOptions{Wait: true, Timeout: 3 * time.Minute, IgnoreNotFound: true})
			}()
		}
		dw.Wait()
	}()
	ok, limited := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrLimitReached):
			limited++
			if _, gerr := v.clients.Interface.CoreV1().Namespaces().Get(ctx, store.Namespace(fmt.Sprintf("%s-%d", prefix, i)), metav1.GetOptions{}); !apierrors.IsNotFound(gerr) {
				t.Errorf("refused store %d left a namespace behind", i)
			}
		default:
			t.Errorf("create %d: %v", i, err)
		}
	}
	// On a cluster that others share, they may create or delete stores
	// meanwhile; the exact count holds when nobody else did, as on the
	// sandbox of this test's own.
	after := live()
	drift := before - after
	if drift < 0 {
		drift = -drift
	}
	if ok+limited != 20 || ok < 10-drift || ok > 10+drift {
		t.Errorf("%d created and %d refused (other stores: %d before, %d after), want exactly 10 and 10", ok, limited, before, after)
	}
	if drift != 0 {
		t.Logf("other stores changed from %d to %d during the race; %d created", before, after, ok)
	}
}

// TestCreateSurvivesAPIServerRestart stops the API server, so it has a
// sandbox of its own.
func TestCreateSurvivesAPIServerRestart(t *testing.T) {
	t.Parallel()
	v := setupPrivate(t)
	e := v.engine(t, store.Settings{})
	name := uniqueName("restart")
	v.cleanup(t, e, name)
	done := make(chan error, 1)
	go func() {
		_, err := e.Create(context.Background(), store.CreateOptions{Name: name, Wait: true, Timeout: 4 * time.Minute, Values: delay("15s")})
		done <- err
	}()
	time.Sleep(5 * time.Second)
	v.c.StopAPIServer(t)
	time.Sleep(5 * time.Second)
	v.c.StartAPIServer(t)
	if err := <-done; err != nil {
		t.Fatalf("create across an API server restart: %v", err)
	}
}

func TestCreateWithoutWaitThenWait(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{})
	name := uniqueName("nowait")
	v.cleanup(t, e, name)
	ctx := context.Background()
	start := time.Now()
	st, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: false, Timeout: 3 * time.Minute, Values: delay("10s")})
	if err != nil {
		t.Fatalf("create --wait=false: %v", err)
	}
	if st.Phase != store.PhaseProvisioning || time.Since(start) > 9*time.Second {
		t.Errorf("create --wait=false returned %s after %s, want Provisioning before the pods are ready", st.Phase, time.Since(start))
	}
	// Another process waits; the one that installed is gone.
	st, err = v.engine(t, store.Settings{}).Wait(ctx, name, store.WaitOptions{For: "ready", Timeout: 3 * time.Minute})
	if err != nil || st.Phase != store.PhaseReady || st.ReleaseStatus != "deployed" {
		t.Fatalf("wait = %+v, %v; want Ready with the release deployed", st, err)
	}
}

func TestInterruptedDeleteResumes(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{})
	name := uniqueName("del")
	v.cleanup(t, e, name)
	ctx := context.Background()
	if _, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithCancel(ctx)
	var progress []string
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	err := e.Delete(dctx, name, store.DeleteOptions{Wait: true, Timeout: 3 * time.Minute,
		OnProgress: func(p store.Progress) { progress = append(progress, p.Step+":"+p.State+":"+p.Message) }})
	if err != nil && !errors.Is(err, store.ErrInterrupted) {
		t.Fatalf("interrupted delete = %v", err)
	}
	t.Logf("first delete: %v; progress %q", err, progress)
	if err := e.Delete(ctx, name, store.DeleteOptions{Wait: true, Timeout: 3 * time.Minute, IgnoreNotFound: true}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := v.clients.Interface.CoreV1().Namespaces().Get(ctx, store.Namespace(name), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace left after the resumed delete: %v", err)
	}
	if _, err := e.Wait(ctx, name, store.WaitOptions{For: "deleted", Timeout: 10 * time.Second}); err != nil {
		t.Errorf("wait --for deleted on a gone store = %v", err)
	}
}

// TestForbiddenIdentity runs storectl as a ServiceAccount bound to nothing.
func TestForbiddenIdentity(t *testing.T) {
	t.Parallel()
	v := setup(t)
	ctx := context.Background()
	ns := v.c.NewNamespace(t, "e2e-sa", nil)
	cs := v.clients.Interface
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "nobody", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(v.clients.RESTConfig)
	cfg.BearerToken = tok.Status.Token
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := release.NewHelm(release.HelmOptions{Client: kc, Getter: kube.NewGetter(cfg, nil)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := store.New(store.Options{Kube: kc, Releases: rel})
	if err != nil {
		t.Fatal(err)
	}
	if got := kube.Identity(ctx, kc); got != "system:serviceaccount:"+ns+":nobody" {
		t.Errorf("identity = %q", got)
	}
	if _, err := e.List(ctx, store.ListOptions{}); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("list = %v, want ErrUnauthorized", err)
	}
	name := uniqueName("forbidden")
	if _, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: time.Minute}); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("create = %v, want ErrUnauthorized", err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, store.Namespace(name), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a forbidden create left namespace %s", store.Namespace(name))
	}
}

// TestRetryAfterFailedSetup fixes a failed store by creating it again with
// corrected values: the failed Job of the first attempt must not fail the
// second. (A retry without values reuses the failing ones, as recorded.)
func TestRetryAfterFailedSetup(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{})
	name := uniqueName("retry")
	v.cleanup(t, e, name)
	ctx := context.Background()
	if _, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute, Values: fault("setup", "job-fail")}); !errors.Is(err, store.ErrFailed) {
		t.Fatalf("first create = %v, want ErrFailed", err)
	}
	st, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute, Values: fault("setup", "none")})
	if err != nil || st.Phase != store.PhaseReady || st.Revision != 2 {
		t.Fatalf("second create = %+v, %v; want Ready at revision 2", st, err)
	}
}

// TestRetryAfterCrashLoop fixes a crash-looping database by creating the
// store again with other values: the pod of the first attempt must not fail
// the second.
func TestRetryAfterCrashLoop(t *testing.T) {
	t.Parallel()
	v := setup(t)
	e := v.engine(t, store.Settings{})
	name := uniqueName("retry-crash")
	v.cleanup(t, e, name)
	ctx := context.Background()
	if _, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute, Values: fault("mariadb", "crashloop")}); !errors.Is(err, store.ErrFailed) {
		t.Fatalf("first create = %v, want ErrFailed", err)
	}
	st, err := e.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute, Values: fault("mariadb", "none")})
	if err != nil || st.Phase != store.PhaseReady || st.Revision != 2 {
		t.Fatalf("second create = %+v, %v; want Ready at revision 2", st, err)
	}
}

// countingTransport records the secrets requests a client makes.
type countingTransport struct {
	rt http.RoundTripper
	mu sync.Mutex
	// full counts requests for Secrets with their data, meta those for
	// metadata only; bytes is what their responses carried.
	full, meta []string
	bytes      int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if !strings.Contains(r.URL.Path, "/secrets") {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Contains(r.Header.Get("Accept"), "PartialObjectMetadata") {
		c.meta = append(c.meta, r.URL.String())
	} else {
		c.full = append(c.full, r.URL.String())
	}
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, c: c}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	c *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.bytes += int64(n)
	b.c.mu.Unlock()
	return n, err
}

// gzipBomb is base64 of gzip of size zero bytes: a Helm release record
// payload as small to store as it is huge to decode.
func gzipBomb(t *testing.T, size int) []byte {
	t.Helper()
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for n := 0; n < size; n += len(chunk) {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(base64.StdEncoding.EncodeToString(z.Bytes()))
}

func bombSecret(ns, release string, version int, payload []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", release, version), Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": release, "status": "deployed", "version": fmt.Sprint(version)}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": payload},
	}
}

// Helm release records outside store namespaces, however large, are not
// read by list: it asks for the labels of release records alone, and the
// bombs' payloads never cross the wire. A bomb inside a store's namespace is
// refused when a command decodes it, with ErrTooLarge.
func TestListReadsNoReleasePayload(t *testing.T) {
	t.Parallel()
	v := setup(t)
	ctx := context.Background()
	payload := gzipBomb(t, 512<<20)
	foreign := v.c.NewNamespace(t, "e2e-bombs", nil)
	for i := range 3 {
		if _, err := v.clients.Interface.CoreV1().Secrets(foreign).Create(ctx, bombSecret(foreign, fmt.Sprintf("bomb%d", i), 1, payload), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	admin := v.engine(t, store.Settings{})
	name := uniqueName("bombs")
	v.cleanup(t, admin, name)
	if st, err := admin.Create(ctx, store.CreateOptions{Name: name, Wait: true, Timeout: 3 * time.Minute}); err != nil || st.Phase != store.PhaseReady {
		t.Fatalf("create = %+v, %v", st, err)
	}

	ct := &countingTransport{}
	cfg := rest.CopyConfig(v.clients.RESTConfig)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { ct.rt = rt; return ct })
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := release.NewHelm(release.HelmOptions{Client: kc, Getter: kube.NewGetter(cfg, nil)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := store.New(store.Options{Kube: kc, Releases: rel})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.List(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		if s.Name == name {
			found = s.Phase == store.PhaseReady && s.Revision == 1 && s.ReleaseStatus == release.StatusDeployed && s.ChartVersion != ""
			if !found {
				t.Errorf("list shows %+v", s)
			}
		}
	}
	if !found {
		t.Errorf("list does not show %s", name)
	}
	if len(ct.full) != 0 {
		t.Errorf("list read whole Secrets: %v", ct.full)
	}
	if len(ct.meta) == 0 {
		t.Error("list read no release record labels")
	}
	if ct.bytes >= int64(len(payload)) {
		t.Errorf("list read %d bytes of Secrets, as much as a bomb's payload (%d)", ct.bytes, len(payload))
	}

	// A bomb in the store's own namespace, as the latest revision of its
	// release: decoding it is refused, clearly.
	ns := store.Namespace(name)
	if _, err := v.clients.Interface.CoreV1().Secrets(ns).Create(ctx, bombSecret(ns, name, 99, payload), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = v.clients.Interface.CoreV1().Secrets(ns).Delete(context.Background(), fmt.Sprintf("sh.helm.release.v1.%s.v99", name), metav1.DeleteOptions{})
	})
	if _, err := e.Get(ctx, name); !errors.Is(err, release.ErrTooLarge) || !strings.Contains(err.Error(), "MiB") {
		t.Errorf("get of a store whose release record is a bomb = %v, want ErrTooLarge", err)
	}
}
