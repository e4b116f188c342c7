package charts

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var mailOn = map[string]any{"mail": map[string]any{
	"enabled": true, "host": "smtp.example.com", "port": 465, "tls": "tls", "from": "shop@example.com",
	"username": "shop", "authSecret": map[string]any{"name": "shop-smtp", "key": "pw"},
}}

// envOf returns a container's environment as name -> value, secret references as "secret:NAME/KEY".
func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		default:
			out[e.Name] = e.Value
		}
	}
	return out
}

func TestBackgroundProcessingAndMailRender(t *testing.T) {
	ev := restrictedEvaluator(t)
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			objs := objects(t, mustInstall(t, presetValues(t, preset, mailOn)))
			specs := podSpecs(t, objs)
			for _, p := range specs {
				if v := violations(ev, p); len(v) > 0 {
					t.Errorf("%s violates restricted with mail on: %v", p.owner, v)
				}
				if p.owner == "StatefulSet/demo-mariadb" {
					continue
				}
				// Every pod that runs WordPress sends mail the same way and runs no WP-Cron itself.
				c := p.spec.Containers[0]
				env := envOf(c)
				if env["STORE_SMTP_HOST"] != "smtp.example.com" || env["STORE_SMTP_PORT"] != "465" || env["STORE_SMTP_TLS"] != "tls" ||
					env["STORE_SMTP_PASSWORD"] != "secret:shop-smtp/pw" || env["STORE_SMTP_FROM_NAME"] != "demo" {
					t.Errorf("%s mail environment: %v", p.owner, env)
				}
				if !strings.Contains(env["WORDPRESS_CONFIG_EXTRA"], "define('DISABLE_WP_CRON', true);") ||
					!strings.Contains(env["WORDPRESS_CONFIG_EXTRA"], "require_once '/usr/local/etc/storectl/mail.php';") {
					t.Errorf("%s wp-config additions:\n%s", p.owner, env["WORDPRESS_CONFIG_EXTRA"])
				}
				if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
					return m.MountPath == "/usr/local/etc/storectl/mail.php" && m.ReadOnly
				}) {
					t.Errorf("%s does not mount the mail settings", p.owner)
				}
			}

			cron := find(t, objs, "CronJob", "demo-cron")
			if s, _, _ := unstructured.NestedString(cron.Object, "spec", "schedule"); s != "*/5 * * * *" {
				t.Errorf("cron schedule %q", s)
			}
			if p, _, _ := unstructured.NestedString(cron.Object, "spec", "concurrencyPolicy"); p != "Forbid" {
				t.Errorf("cron runs may overlap: concurrencyPolicy %q", p)
			}
			dep := find(t, objs, "Deployment", "demo-wordpress")
			ann := dep.GetAnnotations()
			if ann["storectl.dev/mail"] != "smtp://smtp.example.com:465 tls from shop@example.com" || ann["storectl.dev/cron"] != "*/5 * * * *" {
				t.Errorf("deployment annotations: %v", ann)
			}

			// The SMTP port is open to the pods that send mail, next to the web ports.
			for _, name := range []string{"demo-allow-app-egress", "demo-allow-setup-egress"} {
				if ports := egressPorts(t, find(t, objs, "NetworkPolicy", name)); !slices.Contains(ports, "465") {
					t.Errorf("%s ports %v lack the SMTP port", name, ports)
				}
			}
		})
	}
}

func TestMailOffAndCronOffRender(t *testing.T) {
	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, map[string]any{"cron": map[string]any{"enabled": false}})))
	for _, o := range objs {
		if o.GetKind() == "CronJob" {
			t.Errorf("a CronJob is rendered with cron off")
		}
	}
	dep := find(t, objs, "Deployment", "demo-wordpress")
	if a := dep.GetAnnotations(); a["storectl.dev/mail"] != "off" || a["storectl.dev/cron"] != "off" {
		t.Errorf("annotations %v", a)
	}
	for _, p := range podSpecsAny(t, objs) {
		for _, c := range p.spec.Containers {
			env := envOf(c)
			if strings.Contains(env["WORDPRESS_CONFIG_EXTRA"], "DISABLE_WP_CRON") {
				t.Errorf("%s disables WP-Cron with nothing else to run it", p.owner)
			}
			for k := range env {
				if strings.HasPrefix(k, "STORE_SMTP_") {
					t.Errorf("%s has %s with mail off", p.owner, k)
				}
			}
		}
	}
}

func TestSetupEgressFollowsTheWooCommerceSource(t *testing.T) {
	sum := strings.Repeat("a", 64)
	tests := []struct {
		name string
		wc   map[string]any
		want []string // internet ports; none for an archive in the image
	}{
		{"wordpress.org", nil, []string{"443"}},
		{"mirror on its own port", map[string]any{"url": "http://mirror.internal:8080/wc.zip", "sha256": sum}, []string{"8080"}},
		{"mirror over http", map[string]any{"url": "http://mirror.internal/wc.zip", "sha256": sum}, []string{"80"}},
		{"archive in the image", map[string]any{"url": "file:///opt/woocommerce.zip", "sha256": sum}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := map[string]any{}
			if tt.wc != nil {
				extra["setup"] = map[string]any{"woocommerce": tt.wc}
			}
			objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, extra)))
			np := find(t, objs, "NetworkPolicy", "demo-allow-setup-egress")
			got := egressPorts(t, np)
			want := append([]string{"3306"}, tt.want...)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("setup egress ports %v, want %v", got, want)
			}
			job := find(t, objs, "Job", "demo-setup-r1")
			if src := job.GetAnnotations()["storectl.dev/woocommerce-source"]; tt.wc != nil && src != tt.wc["url"] {
				t.Errorf("source annotation %q", src)
			}
		})
	}
}

// egressPorts lists the ports of every egress rule of a policy, in order.
func egressPorts(t *testing.T, np *unstructured.Unstructured) []string {
	t.Helper()
	rules, _, _ := unstructured.NestedSlice(np.Object, "spec", "egress")
	var out []string
	for _, r := range rules {
		for _, p := range r.(map[string]any)["ports"].([]any) {
			out = append(out, fmt.Sprint(p.(map[string]any)["port"]))
		}
	}
	return out
}

// TestEveryConfigMapMountHasItsKey checks that each file a pod mounts from one of the chart's
// ConfigMaps exists in that ConfigMap: a missing key makes the kubelet refuse to start the
// container, which the sandbox's simulated pods would not show.
func TestEveryConfigMapMountHasItsKey(t *testing.T) {
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			objs := objects(t, mustInstall(t, presetValues(t, preset, mailOn)))
			keys := map[string]map[string]any{}
			for _, o := range objs {
				if o.GetKind() == "ConfigMap" {
					data, _, _ := unstructured.NestedMap(o.Object, "data")
					keys[o.GetName()] = data
				}
			}
			mounts := 0
			for _, p := range podSpecs(t, objs) {
				vols := map[string]*corev1.ConfigMapVolumeSource{}
				for _, v := range p.spec.Volumes {
					if v.ConfigMap != nil {
						vols[v.Name] = v.ConfigMap
					}
				}
				for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
					for _, m := range c.VolumeMounts {
						cm := vols[m.Name]
						if cm == nil {
							continue
						}
						data, ok := keys[cm.Name]
						if !ok {
							t.Errorf("%s/%s mounts ConfigMap %s, which the chart does not render", p.owner, c.Name, cm.Name)
							continue
						}
						key := m.SubPath
						for _, it := range cm.Items {
							if it.Path == m.SubPath {
								key = it.Key
							}
						}
						if key == "" {
							for _, it := range cm.Items {
								if _, ok := data[it.Key]; !ok {
									t.Errorf("%s/%s: ConfigMap %s has no key %s", p.owner, c.Name, cm.Name, it.Key)
								}
							}
							continue
						}
						mounts++
						if _, ok := data[key]; !ok {
							t.Errorf("%s/%s mounts %s from ConfigMap %s, which has no key %s", p.owner, c.Name, m.MountPath, cm.Name, key)
						}
					}
				}
			}
			if mounts < 10 {
				t.Errorf("checked only %d file mounts", mounts)
			}
		})
	}
}
