package charts

import (
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// podSpec is a rendered pod template and the workload it belongs to.
type podSpec struct {
	owner string
	meta  metav1.ObjectMeta
	spec  corev1.PodSpec
}

// podSpecs returns the pod template of every Deployment, StatefulSet and Job rendered.
func podSpecs(t testing.TB, objs []*unstructured.Unstructured) []podSpec {
	t.Helper()
	out := podSpecsAny(t, objs)
	if len(out) != 4 {
		t.Fatalf("found %d pod templates, want 4 (database, WordPress, setup, cron)", len(out))
	}
	return out
}

// podSpecsAny returns the pod templates of the rendered workloads, however many there are.
func podSpecsAny(t testing.TB, objs []*unstructured.Unstructured) []podSpec {
	t.Helper()
	var out []podSpec
	for _, o := range objs {
		var tmpl *corev1.PodTemplateSpec
		switch o.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			fromUnstructured(t, o, &d)
			tmpl = &d.Spec.Template
		case "StatefulSet":
			var s appsv1.StatefulSet
			fromUnstructured(t, o, &s)
			tmpl = &s.Spec.Template
		case "Job":
			var j batchv1.Job
			fromUnstructured(t, o, &j)
			tmpl = &j.Spec.Template
		case "CronJob":
			var c batchv1.CronJob
			fromUnstructured(t, o, &c)
			tmpl = &c.Spec.JobTemplate.Spec.Template
		default:
			continue
		}
		out = append(out, podSpec{owner: o.GetKind() + "/" + o.GetName(), meta: tmpl.ObjectMeta, spec: tmpl.Spec})
	}
	return out
}

// fromUnstructured converts strictly, so a misspelt field in a template fails the test.
func fromUnstructured(t testing.TB, o *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true); err != nil {
		t.Fatalf("%s/%s: %v", o.GetKind(), o.GetName(), err)
	}
}

func restrictedEvaluator(t testing.TB) policy.Evaluator {
	t.Helper()
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

var restrictedLatest = psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}

// violations lists what Pod Security "restricted" (latest) forbids in a pod.
func violations(ev policy.Evaluator, p podSpec) []string {
	var out []string
	for _, r := range ev.EvaluatePod(restrictedLatest, &p.meta, &p.spec) {
		if !r.Allowed {
			out = append(out, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return out
}

func TestEveryPodPassesPodSecurityRestricted(t *testing.T) {
	ev := restrictedEvaluator(t)
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			for _, p := range podSpecs(t, objects(t, mustInstall(t, presetValues(t, preset, nil)))) {
				if v := violations(ev, p); len(v) > 0 {
					t.Errorf("%s violates restricted: %v", p.owner, v)
				}
				checkHardening(t, p)
			}
		})
	}
}

// checkHardening asserts what Pod Security admission does not check but the chart promises.
func checkHardening(t *testing.T, p podSpec) {
	t.Helper()
	s := p.spec
	if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
		t.Errorf("%s mounts a service account token", p.owner)
	}
	if s.EnableServiceLinks == nil || *s.EnableServiceLinks {
		t.Errorf("%s has service links enabled", p.owner)
	}
	psc := s.SecurityContext
	if psc == nil || psc.RunAsUser == nil || psc.RunAsGroup == nil || psc.FSGroup == nil {
		t.Fatalf("%s has no numeric pod uid/gid/fsGroup", p.owner)
	}
	if psc.FSGroupChangePolicy == nil || *psc.FSGroupChangePolicy != corev1.FSGroupChangeOnRootMismatch {
		t.Errorf("%s fsGroupChangePolicy is not OnRootMismatch", p.owner)
	}
	wantUID := map[string]int64{"StatefulSet/demo-mariadb": 999, "Deployment/demo-wordpress": 33, "Job/demo-setup-r1": 33, "CronJob/demo-cron": 33}[p.owner]
	if *psc.RunAsUser != wantUID || *psc.RunAsGroup != wantUID || *psc.FSGroup != wantUID {
		t.Errorf("%s runs as %d:%d fsGroup %d, want %d", p.owner, *psc.RunAsUser, *psc.RunAsGroup, *psc.FSGroup, wantUID)
	}
	for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s container %s has a writable root filesystem", p.owner, c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() ||
			c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s container %s lacks requests or limits: %v", p.owner, c.Name, c.Resources)
		}
		for _, e := range c.Env {
			if strings.Contains(e.Name, "PASSWORD") && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s container %s: %s does not come from a Secret", p.owner, c.Name, e.Name)
			}
		}
		// Every path the image writes to must be a volume, since the root is read-only.
		mounts := map[string]bool{}
		for _, m := range c.VolumeMounts {
			mounts[m.MountPath] = true
		}
		for _, path := range map[string][]string{
			"mariadb":   {"/var/lib/mysql", "/run/mysqld", "/tmp"},
			"wordpress": {"/var/www/html", "/run", "/tmp"},
			"setup":     {"/var/www/html", "/tmp"},
		}[c.Name] {
			if !mounts[path] {
				t.Errorf("%s container %s: %s is not a volume", p.owner, c.Name, path)
			}
		}
	}
}

// TestPodSecurityCheckCatchesViolations proves the check above can fail: each mutation of a
// rendered, compliant pod must be refused.
func TestPodSecurityCheckCatchesViolations(t *testing.T) {
	ev := restrictedEvaluator(t)
	var wp podSpec
	for _, p := range podSpecs(t, objects(t, mustInstall(t, presetValues(t, PresetLocal, nil)))) {
		if p.owner == "Deployment/demo-wordpress" {
			wp = p
		}
	}
	if v := violations(ev, wp); len(v) > 0 {
		t.Fatalf("the unmodified WordPress pod is refused: %v", v)
	}

	yes, no, root := true, false, int64(0)
	tests := []struct {
		name   string
		mutate func(*corev1.PodSpec)
		reason string
	}{
		{"privilege escalation", func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes }, "allowPrivilegeEscalation"},
		{"runs as root", func(s *corev1.PodSpec) { s.SecurityContext.RunAsUser = &root }, "runAsUser"},
		{"may run as root", func(s *corev1.PodSpec) {
			s.SecurityContext.RunAsNonRoot = &no
			s.Containers[0].SecurityContext.RunAsNonRoot = nil
		}, "runAsNonRoot"},
		{"keeps capabilities", func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.Capabilities.Drop = nil }, "unrestricted capabilities"},
		{"adds a capability", func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}, "capabilities"},
		{"no seccomp profile", func(s *corev1.PodSpec) {
			s.SecurityContext.SeccompProfile = nil
			s.Containers[0].SecurityContext.SeccompProfile = nil
		}, "seccompProfile"},
		{"privileged", func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.Privileged = &yes }, "privileged"},
		{"hostPath volume", func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, "hostPath"},
		{"host network", func(s *corev1.PodSpec) { s.HostNetwork = true }, "host namespaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := deepCopyPod(t, wp)
			tt.mutate(&p.spec)
			v := violations(ev, p)
			if len(v) == 0 {
				t.Fatalf("the check allowed a pod with %s", tt.name)
			}
			if !strings.Contains(strings.Join(v, "; "), tt.reason) {
				t.Errorf("violations %v do not mention %q", v, tt.reason)
			}
		})
	}
}

func deepCopyPod(t *testing.T, p podSpec) podSpec {
	t.Helper()
	return podSpec{owner: p.owner, meta: *p.meta.DeepCopy(), spec: *p.spec.DeepCopy()}
}

// TestNoPasswordIsRendered checks that the chart carries no credential: no Secret object, no
// password-like literal, and every credential reference names the configured Secret.
func TestNoPasswordIsRendered(t *testing.T) {
	passwordLiteral := regexp.MustCompile(`(?i)(password|passwd|pwd)[a-z_-]*["']?\s*[:=]\s*["']?[^\s"'{$]`)
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			rel := mustInstall(t, presetValues(t, preset, nil))
			objs := objects(t, rel)
			refs := 0
			for _, o := range objs {
				if o.GetKind() == "Secret" {
					t.Errorf("the chart renders Secret %s", o.GetName())
				}
				walkSecretRefs(o.Object, func(name, key string) {
					refs++
					if name != testSecret {
						t.Errorf("%s/%s references Secret %q, want %q", o.GetKind(), o.GetName(), name, testSecret)
					}
					switch key {
					case "mariadb-root-password", "mariadb-password", "wordpress-admin-password", "wordpress-admin-user":
					default:
						t.Errorf("%s/%s reads unknown Secret key %q", o.GetKind(), o.GetName(), key)
					}
				})
			}
			// Root and user password for MariaDB, the user password for WordPress (its
			// database wait and Apache), the setup Job and the cron Job, and the admin user and
			// password for the setup Job.
			if refs != 8 {
				t.Errorf("found %d Secret references, want 8", refs)
			}
			for i, line := range strings.Split(manifest(rel), "\n") {
				if strings.Contains(line, "secretKeyRef") || strings.Contains(line, "ADMIN_PASSWORD") ||
					strings.Contains(line, "existingSecret") {
					continue
				}
				if m := passwordLiteral.FindString(line); m != "" {
					// The script's own checks mention variable names, never values.
					if strings.Contains(line, "${") || strings.Contains(line, ":?") || strings.Contains(line, "$WORDPRESS") {
						continue
					}
					t.Errorf("line %d looks like a literal credential: %q", i+1, strings.TrimSpace(line))
				}
			}
		})
	}
}

// walkSecretRefs calls fn for every secretKeyRef in an object.
func walkSecretRefs(v any, fn func(name, key string)) {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["secretKeyRef"].(map[string]any); ok {
			name, _ := ref["name"].(string)
			key, _ := ref["key"].(string)
			fn(name, key)
		}
		for _, child := range x {
			walkSecretRefs(child, fn)
		}
	case []any:
		for _, child := range x {
			walkSecretRefs(child, fn)
		}
	}
}
