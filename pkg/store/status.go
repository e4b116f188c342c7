package store

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/storectl/storectl/pkg/release"
)

// Labels storectl and the chart put on objects.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelStore     = "storectl.dev/store"
	LabelType      = "storectl.dev/type"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelComponent = "app.kubernetes.io/component"
	ManagedBy      = "storectl"
)

// FailFast says when a condition stops being a retry and becomes a failure.
type FailFast struct {
	// ImagePullGrace is how long a pod may sit in ErrImagePull /
	// ImagePullBackOff before the pull counts as failed: a registry blip or a
	// slow first pull is retried by the kubelet; half a minute of backoff is not
	// a blip.
	ImagePullGrace time.Duration
	// CrashLoopRestarts is the restart count at which a container in
	// CrashLoopBackOff counts as failed.
	CrashLoopRestarts int32
	// UnschedulableGrace is how long a pod may be unschedulable (the
	// scheduler retries as nodes and volumes appear) before it fails, unless
	// the cluster is adding a node for it (see unschedulable).
	UnschedulableGrace time.Duration
	// VolumeGrace is how long a claim may stay Pending with a Warning
	// binding/provisioning event.
	VolumeGrace time.Duration
	// ConfigErrorGrace is how long a container may fail to be created
	// (CreateContainerConfigError: a missing Secret key, say).
	ConfigErrorGrace time.Duration
}

// DefaultUnschedulableGrace gives a cluster autoscaler time to look at a pod that fits no
// node (cluster-autoscaler scans every 10 seconds) and say whether it adds one.
const DefaultUnschedulableGrace = 30 * time.Second

// DefaultFailFast are the thresholds used unless Options.FailFast is set.
var DefaultFailFast = FailFast{
	ImagePullGrace:     30 * time.Second,
	CrashLoopRestarts:  2,
	UnschedulableGrace: DefaultUnschedulableGrace,
	VolumeGrace:        10 * time.Second,
	ConfigErrorGrace:   15 * time.Second,
}

// Snapshot is everything the status of one store is computed from. Every
// slice holds the objects of the store's namespace only.
type Snapshot struct {
	Name         string
	Namespace    *corev1.Namespace
	Release      *release.Release
	StatefulSets []appsv1.StatefulSet
	Deployments  []appsv1.Deployment
	Jobs         []batchv1.Job
	Pods         []corev1.Pod
	PVCs         []corev1.PersistentVolumeClaim
	Events       []corev1.Event
	Ingresses    []networkingv1.Ingress
	// Nodes are read only while a pod waits for one (nil otherwise): a node that joined
	// and is not Ready yet is room being made.
	Nodes []corev1.Node
	// Drift lists what of a deployed release the cluster no longer holds as
	// applied (read by Get only).
	Drift []release.Drift
	// chartLive holds the other kinds of the store chart, listed with the kinds above so
	// that the drift check need not list them after the release is read (Get only).
	chartLive release.Live
	// CredentialsMissing says the credentials Secret was looked for and is
	// not there (false when it exists or was not looked for).
	CredentialsMissing bool
	// Partial means PVCs, Events and Ingresses were not read (List keeps to
	// a fixed number of cluster-wide calls); checks needing them are skipped.
	Partial bool
	// Since ignores events older than the operation being judged.
	Since time.Time
	// StaleJobs are setup Jobs that existed before the revision being
	// applied: they say nothing about this revision. Judged by UID, which
	// needs no clock.
	StaleJobs map[types.UID]bool
	// StalePods are pods that existed before the revision being applied.
	// Until StaleUntil their failures are not judged: the new revision may be
	// about to replace them (the controllers need a moment to react), and a
	// pod of the failed attempt must not fail its retry.
	StalePods  map[types.UID]bool
	StaleUntil time.Time
	// Now is the time the snapshot is judged at; thresholds (image pull grace, ...)
	// count from it.
	Now time.Time
	// ReadOnly means the reader will not record the release's outcome (get, list, the
	// decision of a create): a first install whose resources and setup are complete is
	// then judged Ready though its record is still pending (see settled). A watch that
	// finalizes such records judges them as recorded.
	ReadOnly bool
}

// Status is the computed state of a store.
type Status struct {
	Phase      Phase
	Reason     string
	Message    string
	Components []Component
	ReadyPods  int
	TotalPods  int
	// Failure is set when Phase is Failed because of a component.
	Failure *Failure
}

// Failure is a diagnosed, certain failure of a component: the cluster's reason and
// message, and the objects that tell more.
type Failure struct {
	Component string
	Reason    string
	Message   string
	// Pod and Container, or Job, hold the log that explains the failure.
	Pod, Container, Job string
	// Refusal classifies a FailedCreate: RefusalQuota, RefusalPodSecurity, RefusalLimitRange.
	Refusal string
}

// Compute derives a store's status from its objects. It is a pure function of
// the snapshot (its clock included, s.Now) and the thresholds, and the only
// status rule: Create, Wait, Get and List all judge a store through it.
func Compute(s Snapshot, ff FailFast) Status {
	st := compute(s, ff)
	if s.ReadOnly {
		st = settled(s, st)
	}
	return st
}

func compute(s Snapshot, ff FailFast) Status {
	var st Status
	comps := []Component{namespaceComponent(s)}
	var failure *Failure
	for _, c := range []string{ComponentDatabase, ComponentWordPress, ComponentSetup, ComponentIngress} {
		comp, f := componentStatus(s, c, ff)
		comps = append(comps, comp)
		if f != nil && failure == nil {
			failure = f
		}
	}
	st.Components = comps
	st.ReadyPods, st.TotalPods = countPods(s.Pods)

	rel := s.Release
	switch {
	case s.Namespace == nil:
		st.Phase, st.Reason, st.Message = PhaseProvisioning, "NamespaceMissing", "namespace "+Namespace(s.Name)+" does not exist yet"
	case s.Namespace.DeletionTimestamp != nil || s.Namespace.Status.Phase == corev1.NamespaceTerminating:
		st.Phase, st.Reason, st.Message = PhaseDeleting, "NamespaceTerminating", "namespace "+s.Namespace.Name+" is terminating"
		for i := range st.Components {
			if st.Components[i].State != StatePending {
				st.Components[i].State, st.Components[i].Ready = StateTerminating, false
			}
		}
	case failure != nil:
		st.Phase, st.Reason, st.Message, st.Failure = PhaseFailed, failure.Reason, failure.Component+": "+failure.Message, failure
	case s.CredentialsMissing && databaseVolume(s) != "":
		f := credentialsFailure(s.Name, databaseVolume(s))
		st.Phase, st.Reason, st.Message, st.Failure = PhaseFailed, f.Reason, f.Message, f
	case rel == nil:
		st.Phase, st.Reason, st.Message = PhaseProvisioning, "ReleaseNotInstalled", "the chart is not installed yet"
	case rel.Status == release.StatusUnreadable:
		// The workloads are readable cluster-wide, the release records only inside
		// stores the caller is bound in: the phase comes from the workloads.
		st.Phase, st.Reason = PhaseProvisioning, ReasonReleaseUnreadable
		if allReady(comps) {
			st.Phase = PhaseReady
		}
		st.Message = "the release records in " + Namespace(s.Name) + " are not readable with these credentials"
	case rel.Status == release.StatusFailed:
		st.Phase, st.Reason, st.Message = PhaseFailed, "ReleaseFailed", rel.Description
		st.Failure = &Failure{Component: "release", Reason: "ReleaseFailed", Message: rel.Description}
	case rel.Pending():
		st.Phase, st.Reason = PhaseProvisioning, "Release"+camel(rel.Status)
		st.Message = notReadyMessage(comps)
		if st.Message == "" {
			st.Message = "release revision " + fmt.Sprint(rel.Revision) + " is " + rel.Status
		}
	case rel.Status == release.StatusDeployed && len(s.Drift) > 0:
		st.Phase, st.Reason = PhaseFailed, ReasonDrift
		st.Message = fmt.Sprintf("release revision %d is deployed but the cluster no longer holds it as applied: %s", rel.Revision, describeDrift(s.Drift))
		st.Failure = &Failure{Component: "release", Reason: ReasonDrift, Message: st.Message}
	case rel.Status == release.StatusUninstalling:
		st.Phase, st.Reason, st.Message = PhaseDeleting, "Uninstalling", "the release is being uninstalled"
	case allReady(comps):
		st.Phase, st.Reason = PhaseReady, ""
	default:
		st.Phase, st.Reason, st.Message = PhaseProvisioning, "ComponentsNotReady", notReadyMessage(comps)
	}
	return st
}

// settled judges, for Get and List, a first install whose resources and setup
// are all complete as Ready even though its release record still says
// pending-install. That record is left by a process that exited before Helm
// saw a setup hook end (stores made with chart 0.1.0, whose setup Job was a
// hook), or before Helm recorded the install. The store works; the next
// create or wait records the revision as deployed. An upgrade left pending is
// not judged so: the completed Job may be the previous revision's.
func settled(s Snapshot, st Status) Status {
	if st.Phase != PhaseProvisioning || s.Release == nil || s.Release.Status != release.StatusPendingInstall {
		return st
	}
	for _, c := range st.Components {
		// List reads no Ingresses; the ingress is judged from the release there.
		if !c.Ready && (!s.Partial || c.Name != ComponentIngress) {
			return st
		}
	}
	st.Phase, st.Reason = PhaseReady, ""
	st.Message = fmt.Sprintf("release revision %d is still recorded as %s", s.Release.Revision, s.Release.Status)
	return st
}

// countPods counts the store's serving pods (the setup Job's and finished ones aside), and
// how many of them are Ready.
func countPods(pods []corev1.Pod) (ready, total int) {
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || componentOf(p.Labels) == ComponentSetup {
			continue
		}
		total++
		if podReady(p) {
			ready++
		}
	}
	return ready, total
}

func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func allReady(cs []Component) bool {
	for _, c := range cs {
		if !c.Ready {
			return false
		}
	}
	return true
}

func notReadyMessage(cs []Component) string {
	var parts []string
	for _, c := range cs {
		if !c.Ready {
			m := c.Name + " " + c.State
			if c.Message != "" {
				m += " (" + c.Message + ")"
			}
			parts = append(parts, m)
		}
	}
	return strings.Join(parts, ", ")
}

func namespaceComponent(s Snapshot) Component {
	c := Component{Name: ComponentNamespace}
	switch {
	case s.Namespace == nil:
		c.State = StatePending
	case s.Namespace.DeletionTimestamp != nil || s.Namespace.Status.Phase == corev1.NamespaceTerminating:
		c.State, c.Reason = StateTerminating, "Terminating"
	default:
		c.State, c.Ready, c.Message = StateReady, true, s.Namespace.Name
	}
	return c
}

// componentOf maps an object's labels onto a component.
func componentOf(labels map[string]string) string {
	return labels[LabelComponent]
}

// componentOfObject maps an event's object onto a component by the names the
// chart gives its objects (pods may be gone by the time the event is read).
func componentOfObject(name, kind, store string) string {
	switch {
	case kind == "Ingress":
		return ComponentIngress
	case strings.HasPrefix(name, store+"-mariadb"), strings.HasPrefix(name, "data-"+store+"-mariadb"):
		return ComponentDatabase
	case strings.HasPrefix(name, store+"-wordpress"):
		return ComponentWordPress
	case strings.HasPrefix(name, store+"-setup"):
		return ComponentSetup
	}
	return ""
}

func componentStatus(s Snapshot, name string, ff FailFast) (Component, *Failure) {
	c := Component{Name: name, State: StatePending}
	pods := podsOf(s, name)
	fail := func(f *Failure) (Component, *Failure) {
		c.State, c.Ready, c.Reason, c.Message = StateFailed, false, f.Reason, f.Message
		f.Component = name
		return c, f
	}

	// Evidence of certain failure first: it is what the user needs to see.
	if f := podFailure(s, pods, ff); f != nil {
		return fail(f)
	}
	if f := createFailure(s, name, pods, ff); f != nil {
		return fail(f)
	}
	if !s.Partial && name != ComponentIngress {
		if f := volumeFailure(s, name, ff); f != nil {
			return fail(f)
		}
	}

	switch name {
	case ComponentDatabase:
		sts := findSTS(s.StatefulSets, s.Name+"-mariadb", name)
		if sts == nil {
			return c, nil
		}
		return workload(c, sts, "StatefulSet", pods, sts.Status.ReadyReplicas, replicas(sts.Spec.Replicas)), nil
	case ComponentWordPress:
		d := findDeploy(s.Deployments, s.Name+"-wordpress", name)
		if d == nil {
			return c, nil
		}
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentReplicaFailure && cond.Status == corev1.ConditionTrue && len(pods) == 0 {
				return fail(&Failure{Reason: orDefault(cond.Reason, "FailedCreate"), Message: cond.Message, Refusal: refusalOf(cond.Message)})
			}
		}
		return workload(c, d, "Deployment", pods, d.Status.ReadyReplicas, replicas(d.Spec.Replicas)), nil
	case ComponentSetup:
		c, f := setupStatus(s, c, pods)
		if f != nil {
			return fail(f)
		}
		return c, nil
	case ComponentIngress:
		return ingressStatus(s, c), nil
	}
	return c, nil
}

// setupStatus judges the setup Job of the revision being judged.
func setupStatus(s Snapshot, c Component, pods []corev1.Pod) (Component, *Failure) {
	j := currentJob(s)
	if j == nil {
		c.Message = "waiting for the setup Job"
		return c, nil
	}
	if cond := jobFailedCondition(j); cond != nil {
		msg := orDefault(cond.Message, "the setup job failed")
		// Where WooCommerce came from is the first thing to check when a setup
		// fails on a cluster without internet access.
		if src := j.Annotations[AnnotationWooCommerceSource]; src != "" {
			msg += " (WooCommerce from " + src + ")"
		}
		return c, &Failure{Reason: orDefault(cond.Reason, "JobFailed"), Message: msg, Job: j.Name}
	}
	// Only the Complete condition means the setup ran: kstatus calls a Job
	// that merely has an active pod Current.
	switch {
	case jobComplete(j):
		c.State, c.Ready, c.Message = StateReady, true, "completed"
	default:
		c.State = StateProgressing
		c.Message = podSummary(pods)
		if c.Message == "" {
			c.Message = "running"
		}
	}
	return c, nil
}

// ingressStatus judges the store's Ingress; List, which reads none, judges it from the release.
func ingressStatus(s Snapshot, c Component) Component {
	if s.Partial {
		if s.Release != nil && (s.Release.Status == release.StatusDeployed || s.Release.Status == release.StatusSuperseded) {
			c.State, c.Ready = StateReady, true
		}
		return c
	}
	if len(s.Ingresses) == 0 {
		if s.Release != nil && s.Release.Status == release.StatusDeployed {
			// The chart rendered no Ingress: nothing to wait for.
			c.State, c.Ready, c.Message = StateReady, true, "no ingress"
		}
		return c
	}
	ing := s.Ingresses[0]
	c.State, c.Ready = StateReady, true
	var hosts []string
	for _, r := range ing.Spec.Rules {
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	c.Message = strings.Join(hosts, ",")
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		if a := lb.IP + lb.Hostname; a != "" {
			c.Message += " via " + a
			break
		}
	}
	return c
}

func jobComplete(j *batchv1.Job) bool {
	for _, cond := range j.Status.Conditions {
		if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func workload(c Component, obj runtime.Object, kind string, pods []corev1.Pod, ready, want int32) Component {
	if kstatusOf(obj, kind) == status.CurrentStatus && ready >= want {
		c.State, c.Ready = StateReady, true
		c.Message = fmt.Sprintf("%d/%d ready", ready, want)
		return c
	}
	c.State = StateProgressing
	c.Message = fmt.Sprintf("%d/%d ready", ready, want)
	if sum := podSummary(pods); sum != "" {
		c.Message += ": " + sum
	}
	return c
}

// kstatusOf judges a typed workload with kstatus, the readiness rules Flux
// and Helm 4 share.
func kstatusOf(obj runtime.Object, kind string) status.Status {
	group := "apps"
	if kind == "Job" {
		group = "batch"
	}
	m, ok := statusFields(obj)
	if !ok {
		var err error
		if m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(withoutPodTemplate(obj)); err != nil {
			return status.UnknownStatus
		}
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(group + "/v1")
	u.SetKind(kind)
	r, err := status.Compute(u)
	if err != nil {
		return status.UnknownStatus
	}
	return r.Status
}

// statusFields lays out, as their conversion to unstructured would, the fields of a typed
// workload that kstatus reads. The conversion walks every field of the type by reflection,
// which in a short-lived process costs more than the rest of judging a store. ok is false
// for other kinds.
func statusFields(obj runtime.Object) (m map[string]any, ok bool) {
	spec, st := map[string]any{}, map[string]any{}
	var om *metav1.ObjectMeta
	var observed int64
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		om, observed = &o.ObjectMeta, o.Status.ObservedGeneration
		statefulSetFields(o, spec, st)
	case *appsv1.Deployment:
		om, observed = &o.ObjectMeta, o.Status.ObservedGeneration
		deploymentFields(o, spec, st)
	case *batchv1.Job:
		om = &o.ObjectMeta
		jobFields(o, spec, st)
	default:
		return nil, false
	}
	meta := map[string]any{}
	if om.Generation != 0 {
		meta["generation"] = om.Generation
	}
	if om.DeletionTimestamp != nil {
		meta["deletionTimestamp"] = om.DeletionTimestamp.UTC().Format(time.RFC3339)
	}
	if observed != 0 {
		st["observedGeneration"] = observed
	}
	return map[string]any{"metadata": meta, "spec": spec, "status": st}, true
}

// setInt sets key to *v as the conversion does: absent when v is nil.
func setInt(into map[string]any, key string, v *int32) {
	if v != nil {
		into[key] = int64(*v)
	}
}

// setNonZero sets key to v as the conversion does for an omitempty field: absent when 0.
func setNonZero(into map[string]any, key string, v int32) {
	if v != 0 {
		into[key] = int64(v)
	}
}

func setNonEmpty(into map[string]any, key, v string) {
	if v != "" {
		into[key] = v
	}
}

func statefulSetFields(o *appsv1.StatefulSet, spec, st map[string]any) {
	setInt(spec, "replicas", o.Spec.Replicas)
	us := map[string]any{}
	setNonEmpty(us, "type", string(o.Spec.UpdateStrategy.Type))
	if ru := o.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		r := map[string]any{}
		setInt(r, "partition", ru.Partition)
		us["rollingUpdate"] = r
	}
	spec["updateStrategy"] = us
	st["replicas"] = int64(o.Status.Replicas)
	setNonZero(st, "readyReplicas", o.Status.ReadyReplicas)
	setNonZero(st, "currentReplicas", o.Status.CurrentReplicas)
	setNonZero(st, "updatedReplicas", o.Status.UpdatedReplicas)
	setNonEmpty(st, "currentRevision", o.Status.CurrentRevision)
	setNonEmpty(st, "updateRevision", o.Status.UpdateRevision)
	setConditions(st, o.Status.Conditions, func(c appsv1.StatefulSetCondition) []string {
		return []string{string(c.Type), string(c.Status), c.Reason, c.Message}
	})
}

func deploymentFields(o *appsv1.Deployment, spec, st map[string]any) {
	setInt(spec, "replicas", o.Spec.Replicas)
	setInt(spec, "progressDeadlineSeconds", o.Spec.ProgressDeadlineSeconds)
	setNonZero(st, "replicas", o.Status.Replicas)
	setNonZero(st, "updatedReplicas", o.Status.UpdatedReplicas)
	setNonZero(st, "readyReplicas", o.Status.ReadyReplicas)
	setNonZero(st, "availableReplicas", o.Status.AvailableReplicas)
	setConditions(st, o.Status.Conditions, func(c appsv1.DeploymentCondition) []string {
		return []string{string(c.Type), string(c.Status), c.Reason, c.Message}
	})
}

func jobFields(o *batchv1.Job, spec, st map[string]any) {
	setInt(spec, "parallelism", o.Spec.Parallelism)
	setInt(spec, "completions", o.Spec.Completions)
	setNonZero(st, "succeeded", o.Status.Succeeded)
	setNonZero(st, "active", o.Status.Active)
	setNonZero(st, "failed", o.Status.Failed)
	if o.Status.StartTime != nil {
		st["startTime"] = o.Status.StartTime.UTC().Format(time.RFC3339)
	}
	setConditions(st, o.Status.Conditions, func(c batchv1.JobCondition) []string {
		return []string{string(c.Type), string(c.Status), c.Reason, c.Message}
	})
}

// setConditions lays out a workload's conditions as kstatus reads them: type, status,
// reason and message (the last two left out when empty, as the conversion does). fields
// gives those four of one condition.
func setConditions[C any](st map[string]any, cs []C, fields func(C) []string) {
	if len(cs) == 0 {
		return
	}
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		f := fields(c)
		m := map[string]any{"type": f[0], "status": f[1]}
		setNonEmpty(m, "reason", f[2])
		setNonEmpty(m, "message", f[3])
		out = append(out, m)
	}
	st["conditions"] = out
}

// withoutPodTemplate returns a shallow copy of a workload without its pod template and its
// managed fields, which kstatus does not read and which are most of what the conversion to
// unstructured, done for every change a watch sees, would copy (managed fields through a
// JSON round trip each).
func withoutPodTemplate(obj runtime.Object) runtime.Object {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		c := *o
		c.Spec.Template = corev1.PodTemplateSpec{}
		c.ManagedFields = nil
		return &c
	case *appsv1.Deployment:
		c := *o
		c.Spec.Template = corev1.PodTemplateSpec{}
		c.ManagedFields = nil
		return &c
	case *batchv1.Job:
		c := *o
		c.Spec.Template = corev1.PodTemplateSpec{}
		c.ManagedFields = nil
		return &c
	}
	return obj
}

func findSTS(list []appsv1.StatefulSet, name, comp string) *appsv1.StatefulSet {
	for i := range list {
		if list[i].Name == name || componentOf(list[i].Labels) == comp {
			return &list[i]
		}
	}
	return nil
}

func findDeploy(list []appsv1.Deployment, name, comp string) *appsv1.Deployment {
	for i := range list {
		if list[i].Name == name || componentOf(list[i].Labels) == comp {
			return &list[i]
		}
	}
	return nil
}

func podsOf(s Snapshot, comp string) []corev1.Pod {
	var out []corev1.Pod
	var job *batchv1.Job
	if comp == ComponentSetup {
		job = currentJob(s)
		if job == nil {
			return nil
		}
	}
	for _, p := range s.Pods {
		if componentOf(p.Labels) != comp || p.DeletionTimestamp != nil {
			continue
		}
		if job != nil && p.CreationTimestamp.Before(&job.CreationTimestamp) {
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podSummary describes why pods are not ready yet, e.g. "ContainerCreating".
func podSummary(pods []corev1.Pod) string {
	var parts []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	for _, p := range pods {
		if podReady(&p) || p.Status.Phase == corev1.PodSucceeded {
			continue
		}
		found := false
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				add(cs.State.Waiting.Reason)
				found = true
			}
		}
		if !found {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
					add(orDefault(c.Reason, "Unscheduled"))
					found = true
				}
			}
		}
		if !found {
			if p.Status.Phase == corev1.PodRunning {
				add("Running, not ready")
			} else {
				add(string(p.Status.Phase))
			}
		}
	}
	return strings.Join(parts, ", ")
}

func podStartTime(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time
	}
	return p.CreationTimestamp.Time
}

// podFailure looks for certain failures in the pods of one component.
func podFailure(s Snapshot, pods []corev1.Pod, ff FailFast) *Failure {
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodSucceeded || (s.StalePods[p.UID] && s.Now.Before(s.StaleUntil)) {
			continue
		}
		age := s.Now.Sub(podStartTime(p))
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			where := fmt.Sprintf("pod %s container %s", p.Name, cs.Name)
			switch w.Reason {
			case "InvalidImageName", "ErrImageNeverPull":
				return &Failure{Reason: w.Reason, Message: where + ": " + w.Message, Pod: p.Name, Container: cs.Name}
			case "ErrImagePull", "ImagePullBackOff":
				if age >= ff.ImagePullGrace {
					return &Failure{Reason: w.Reason, Message: fmt.Sprintf("%s: image %s cannot be pulled for %s: %s", where, imageOf(p, cs.Name), age.Truncate(time.Second), w.Message),
						Pod: p.Name, Container: cs.Name}
				}
			case "CrashLoopBackOff":
				if cs.RestartCount >= ff.CrashLoopRestarts {
					msg := fmt.Sprintf("%s restarted %d times: %s", where, cs.RestartCount, w.Message)
					if t := cs.LastTerminationState.Terminated; t != nil {
						msg += fmt.Sprintf(" (last exit code %d, %s)", t.ExitCode, orDefault(t.Reason, "Error"))
					}
					return &Failure{Reason: "CrashLoopBackOff", Message: msg, Pod: p.Name, Container: cs.Name}
				}
			case "CreateContainerConfigError", "CreateContainerError":
				if age >= ff.ConfigErrorGrace {
					return &Failure{Reason: w.Reason, Message: where + ": " + w.Message, Pod: p.Name, Container: cs.Name}
				}
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				since := c.LastTransitionTime.Time
				if since.IsZero() {
					since = p.CreationTimestamp.Time
				}
				if f := unschedulable(s, p, c, since, ff.UnschedulableGrace); f != nil {
					return f
				}
			}
		}
	}
	return nil
}

func imageOf(p *corev1.Pod, container string) string {
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		if c.Name == container {
			return c.Image
		}
	}
	return "?"
}

// createFailure finds a controller that cannot create its pods (Pod Security
// or ResourceQuota rejection): a FailedCreate event while no pod exists.
func createFailure(s Snapshot, comp string, pods []corev1.Pod, ff FailFast) *Failure {
	if len(pods) > 0 || comp == ComponentIngress {
		return nil
	}
	for _, ev := range recentWarnings(s) {
		if ev.Reason != "FailedCreate" {
			continue
		}
		k := ev.InvolvedObject.Kind
		if k != "StatefulSet" && k != "ReplicaSet" && k != "Job" && k != "Deployment" {
			continue
		}
		if componentOfObject(ev.InvolvedObject.Name, k, s.Name) != comp {
			continue
		}
		if comp == ComponentSetup && currentJob(s) == nil {
			continue
		}
		if claim, exists := refusedClaim(s, ev.Message); exists || claim != "" && s.Now.Sub(firstEventTime(ev)) < ff.VolumeGrace {
			continue
		}
		return &Failure{Reason: "FailedCreate", Message: fmt.Sprintf("%s %s cannot create pods: %s", k, ev.InvolvedObject.Name, ev.Message),
			Refusal: refusalOf(ev.Message)}
	}
	return nil
}

// refusalOf classifies the API server's refusal to create a pod, as its admission plugins
// word it.
func refusalOf(msg string) string {
	switch {
	case strings.Contains(msg, "exceeded quota"):
		return RefusalQuota
	case strings.Contains(msg, "PodSecurity"):
		return RefusalPodSecurity
	case strings.Contains(msg, "LimitRange") || strings.Contains(msg, "maximum") || strings.Contains(msg, "minimum"):
		return RefusalLimitRange
	}
	return ""
}

// volumeFailure finds claims of the component that cannot be bound.
func volumeFailure(s Snapshot, comp string, ff FailFast) *Failure {
	for _, pvc := range s.PVCs {
		if componentOfObject(pvc.Name, "PersistentVolumeClaim", s.Name) != comp || pvc.Status.Phase != corev1.ClaimPending {
			continue
		}
		if s.Now.Sub(pvc.CreationTimestamp.Time) < ff.VolumeGrace {
			continue
		}
		for _, ev := range recentWarnings(s) {
			if ev.InvolvedObject.Kind != "PersistentVolumeClaim" || ev.InvolvedObject.Name != pvc.Name {
				continue
			}
			if ev.Reason == "ProvisioningFailed" || ev.Reason == "FailedBinding" {
				sc := "the default StorageClass"
				if pvc.Spec.StorageClassName != nil {
					sc = "StorageClass " + *pvc.Spec.StorageClassName
				}
				return &Failure{Reason: ev.Reason, Message: fmt.Sprintf("volume claim %s is not bound (%s): %s", pvc.Name, sc, ev.Message)}
			}
		}
	}
	return nil
}

// recentWarnings returns Warning events not older than s.Since.
func recentWarnings(s Snapshot) []corev1.Event {
	var out []corev1.Event
	for _, ev := range s.Events {
		if ev.Type != corev1.EventTypeWarning {
			continue
		}
		if !s.Since.IsZero() && eventTime(ev).Before(s.Since) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func eventTime(ev corev1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	}
	return ev.CreationTimestamp.Time
}

// ReasonCredentialsMissing is the reason of a store whose credentials Secret
// is gone while its database volume, initialised with those passwords, stays.
// New passwords would not open that database, so storectl never generates
// them then: the Secret must be restored, or the database's passwords reset.
const ReasonCredentialsMissing = "CredentialsMissing"

// ComponentCredentials names the credentials Secret in failures.
const ComponentCredentials = "credentials"

// databaseVolume names the evidence that the store's database volume exists:
// its claim, or (List reads no claims) its StatefulSet, which creates the
// claim. "" when there is none.
func databaseVolume(s Snapshot) string {
	for _, c := range s.PVCs {
		if componentOfObject(c.Name, "PersistentVolumeClaim", s.Name) == ComponentDatabase && c.DeletionTimestamp == nil {
			return "volume claim " + c.Name
		}
	}
	if s.Partial {
		if sts := findSTS(s.StatefulSets, s.Name+"-mariadb", ComponentDatabase); sts != nil {
			return "StatefulSet " + sts.Name + " and its volume"
		}
	}
	return ""
}

func credentialsFailure(name, volume string) *Failure {
	return &Failure{Component: ComponentCredentials, Reason: ReasonCredentialsMissing,
		Message: fmt.Sprintf("secret %s/%s is missing while the database (%s) keeps the passwords it was initialised with; storectl does not generate new ones",
			Namespace(name), credentialsSecret(name), volume)}
}

// ReasonDrift is the reason of a store whose deployed release lost objects
// or had them changed (kubectl delete, scale, edit): nothing in the cluster
// restores them, a create re-applies the release.
const ReasonDrift = "ReleaseDrift"

// ReasonReleaseUnreadable says that the caller may not read a store's release records
// (a store another operator created, with the roles of docs/rbac.yaml).
const ReasonReleaseUnreadable = "ReleaseUnreadable"

func describeDrift(ds []release.Drift) string {
	parts := make([]string, 0, len(ds))
	for _, d := range ds {
		p := d.Kind + " " + d.Name + " missing"
		if d.Reason == release.DriftChanged {
			p = d.Kind + " " + d.Name + " " + d.Field + " changed"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// createClaimRE finds the claim a StatefulSet failed to create in its event message.
var createClaimRE = regexp.MustCompile(`Create Claim (\S+) for Pod`)

// refusedClaim returns the claim a StatefulSet's FailedCreate is about ("" when it is about a
// pod), and whether that claim exists after all. A controller whose cache lags tries to
// create a claim again, and the quota, which admission checks first, refuses the duplicate;
// the controller sees the claim on its next sync, so this is no failure. The store's own
// reads can lag the same way (the event may arrive before the claim), so a refusal about a
// claim not seen yet counts only once it has lasted VolumeGrace: a real quota refusal
// outlasts it, a duplicate's claim shows up.
func refusedClaim(s Snapshot, msg string) (claim string, exists bool) {
	m := createClaimRE.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	for _, c := range s.PVCs {
		if c.Name == m[1] && c.DeletionTimestamp == nil {
			return m[1], true
		}
	}
	return m[1], false
}

// firstEventTime is when an event was first seen.
func firstEventTime(ev corev1.Event) time.Time {
	switch {
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.CreationTimestamp.Time
}
