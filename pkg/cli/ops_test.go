package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kversion "k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/doctor"
	"github.com/storectl/storectl/pkg/store"
)

// withOps gives the harness a fake cluster for the operations commands and the preflight.
func (h *harness) withOps(objs ...runtime.Object) *fake.Clientset {
	cs := fake.NewClientset(objs...)
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &kversion.Info{GitVersion: "v1.37.2"}
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{}, nil
	})
	h.f.Ops = func() (*Ops, error) {
		return &Ops{
			Doctor: doctor.Options{Kube: cs, Settings: store.Settings{IngressClass: "nginx"}, Now: h.f.Now,
				Only: []string{doctor.IDClusterReachable, doctor.IDClusterCredentials, doctor.IDStorageClass, doctor.IDIngressClass}},
			Cluster: store.NewOps(cs, h.f.Now),
		}, nil
	}
	return cs
}

func classes() []runtime.Object {
	return []runtime.Object{
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}}},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}},
	}
}

func TestDoctorOutput(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		h := newHarness(t, tty)
		h.withOps(classes()[0]) // no IngressClass
		code := h.run("doctor")
		if code != ExitError {
			t.Errorf("tty=%v: exit %d, want 1\n%s", tty, code, h.stderr())
		}
		out := ansi.Strip(h.stdout())
		okMark, failMark := "[ok]", "[FAIL]"
		if tty {
			okMark, failMark = "✓", "✗"
		}
		for _, w := range []string{"cluster\n", okMark + " cluster.reachable", failMark + " ingress.class", `IngressClass "nginx"`,
			"hint: install the ingress controller", "docs: docs/doctor.md#ingress-class", "3 ok, 0 warnings, 1 failed, 0 skipped"} {
			if !strings.Contains(out, w) {
				t.Errorf("tty=%v: output lacks %q:\n%s", tty, w, out)
			}
		}
		if !strings.Contains(h.stderr(), "ingress.class") {
			t.Errorf("tty=%v: the error does not name the failed check:\n%s", tty, h.stderr())
		}
	}

	h := newHarness(t, false)
	h.withOps(classes()...)
	if code := h.run("doctor", "-o", "json"); code != 0 {
		t.Fatalf("healthy: exit %d\n%s", code, h.stderr())
	}
	var v DoctorView
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Summary.OK != 4 || len(v.Checks) != 4 || v.Checks[0].ID != doctor.IDClusterReachable || v.Checks[0].Hint != "" ||
		v.Checks[0].Docs != "docs/doctor.md#cluster-reachable" {
		t.Errorf("doctor -o json: %+v", v)
	}
}

func TestDoctorExitCodeOfRefusedCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	cs := h.withOps(classes()...)
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("expired")
	})
	if code := h.run("doctor"); code != ExitUnauthorized {
		t.Errorf("exit %d, want 7\n%s", code, h.stderr())
	}
	if !strings.Contains(h.stdout(), "[skip] storage.class skipped: cluster.credentials failed") {
		t.Errorf("later checks are not skipped:\n%s", h.stdout())
	}
}

func TestCreateRefusedByPreflight(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.withOps(classes()[0])
	code := h.run("create", "shop")
	if code != ExitError {
		t.Errorf("exit %d, want 1", code)
	}
	if slices.Contains(h.eng.Calls(), "create shop") {
		t.Error("the engine was asked to create the store")
	}
	for _, w := range []string{"ingress.class", `IngressClass "nginx"`, "Next: install the ingress controller"} {
		if !strings.Contains(h.stderr(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, h.stderr())
		}
	}
	if len(h.audit.records) != 0 {
		t.Errorf("a refused create was recorded: %+v", h.audit.records)
	}
}

func TestAuditRecordsCarryTheReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.create = func(_ context.Context, o store.CreateOptions) (*store.Store, error) {
		return nil, &store.Error{Err: store.ErrFailed, Store: o.Name, Component: store.ComponentWordPress, Reason: "ImagePullBackOff", Message: "cannot pull"}
	}
	h.run("create", "shop")
	if len(h.audit.records) != 1 || h.audit.records[0].Reason != store.OutcomeImagePullBackOff {
		t.Errorf("audit records %+v, want one with reason ImagePullBackOff", h.audit.records)
	}
}

func TestStatsFromTheAuditLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	rec := func(action, outcome, reason string, secs int, ago time.Duration) {
		_ = h.audit.Append(audit.Record{Time: testNow.Add(-ago), Action: action, Store: "s", Outcome: outcome, Reason: reason,
			Duration: time.Duration(secs) * time.Second})
	}
	for i, s := range []int{30, 10, 50, 20, 40} {
		rec("create", audit.OutcomeSucceeded, "", s, time.Duration(i)*time.Hour)
	}
	rec("create", audit.OutcomeFailed, store.OutcomeImagePullBackOff, 12, time.Hour)
	rec("create", audit.OutcomeFailed, store.OutcomeImagePullBackOff, 14, time.Hour)
	rec("create", audit.OutcomeFailed, store.OutcomeTimeout, 600, time.Hour)
	rec("create", audit.OutcomeInterrupted, store.OutcomeInterrupted, 3, time.Hour)
	rec("create", audit.OutcomeSucceeded, "", 999, 60*24*time.Hour) // older than --since
	rec("delete", audit.OutcomeSucceeded, "", 25, time.Hour)

	if code := h.run("stats", "--since", "720h", "-o", "json"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr())
	}
	var v StatsView
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil {
		t.Fatal(err)
	}
	want := StatsView{Source: "audit-log", Actions: []ActionStatsView{
		{Action: "create", Count: 9, Succeeded: 5, Failed: 3, Interrupted: 1, N: 5, P50Seconds: 30, P95Seconds: 50, MaxSeconds: 50,
			Reasons: []ReasonCounts{{"ImagePullBackOff", 2}, {"Interrupted", 1}, {"Timeout", 1}}},
		{Action: "delete", Count: 1, Succeeded: 1, N: 1, P50Seconds: 25, P95Seconds: 25, MaxSeconds: 25, Reasons: []ReasonCounts{}},
	}}
	if !jsonEqual(t, v, want) {
		t.Errorf("stats:\n got %+v\nwant %+v", v, want)
	}

	h = newHarness(t, false)
	h.audit = &memAudit{records: nil}
	h.f.Audit = func() (AuditLog, error) { return h.audit, nil }
	rec("create", audit.OutcomeSucceeded, "", 7, time.Minute)
	if code := h.run("stats"); code != 0 || !strings.Contains(h.stdout(), "create") || !strings.Contains(h.stderr(), "audit log") {
		t.Errorf("table: exit %d\n%s\n%s", code, h.stdout(), h.stderr())
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

func TestStatsFromTheCluster(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	t0 := testNow.Add(-time.Hour)
	ns := func(name string, created time.Time) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: store.Namespace(name), CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{store.LabelManagedBy: store.ManagedBy, store.LabelStore: name}}}
	}
	job := func(name string, done time.Time) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name + "-setup", Namespace: store.Namespace(name), CreationTimestamp: metav1.NewTime(t0),
			Labels: map[string]string{store.LabelStore: name, store.LabelComponent: store.ComponentSetup}},
			Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}},
				CompletionTime: &metav1.Time{Time: done}}}
	}
	h.withOps(ns("a", t0), job("a", t0.Add(60*time.Second)), ns("b", t0), job("b", t0.Add(120*time.Second)), ns("c", t0))
	if code := h.run("stats", "--cluster", "-o", "json"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr())
	}
	var v StatsView
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil {
		t.Fatal(err)
	}
	if v.Source != "cluster" || v.Provisioning != 1 || len(v.Actions) != 1 || v.Actions[0].Count != 2 || v.Actions[0].P50Seconds != 60 ||
		v.Actions[0].MaxSeconds != 120 {
		t.Errorf("stats --cluster: %+v", v)
	}
}

func TestOpsFlagsAreChecked(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"doctor", "--skip", "nonsense"},
		{"doctor", "--wait", "-1s"},
		{"logs", "shop", "--component", "php"},
		{"logs", "shop", "--previous", "-f"},
		{"logs", "Shop!"},
		{"events", "shop", "-o", "yaml"},
		{"stats", "--cluster", "--action", "delete"},
	} {
		h := newHarness(t, false)
		if code := h.run(args...); code != ExitUsage {
			t.Errorf("storectl %v: exit %d, want 2\n%s", args, code, h.stderr())
		}
	}
}
