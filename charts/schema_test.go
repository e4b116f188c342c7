package charts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSchemaRefusesBadValues(t *testing.T) {
	tests := []struct {
		name   string
		preset string
		extra  map[string]any
		// want are fragments the error must contain: where the problem is and what it is.
		want []string
	}{
		{"missing store name", PresetLocal, map[string]any{"store": map[string]any{"name": ""}}, []string{"/store/name", "minLength"}},
		{"uppercase store name", PresetLocal, map[string]any{"store": map[string]any{"name": "MyShop"}}, []string{"/store/name", "does not match pattern"}},
		{"store name with a leading digit", PresetLocal, map[string]any{"store": map[string]any{"name": "1shop"}}, []string{"/store/name", "does not match pattern"}},
		{"store name ending in a hyphen", PresetLocal, map[string]any{"store": map[string]any{"name": "shop-"}}, []string{"/store/name", "does not match pattern"}},
		{"store name with a dot", PresetLocal, map[string]any{"store": map[string]any{"name": "my.shop"}}, []string{"/store/name", "does not match pattern"}},
		{"store name too long", PresetLocal, map[string]any{"store": map[string]any{"name": "a" + strings.Repeat("b", 40)}}, []string{"/store/name", "maxLength"}},
		{"store name not a string", PresetLocal, map[string]any{"store": map[string]any{"name": 42}}, []string{"/store/name", "want string"}},
		{"production without a domain", PresetProd, map[string]any{"store": map[string]any{"domain": ""}}, []string{"/store/domain", "minLength"}},
		{"domain with a scheme", PresetLocal, map[string]any{"store": map[string]any{"domain": "https://example.com"}}, []string{"/store/domain", "does not match pattern"}},
		{"unknown pull policy", PresetLocal, map[string]any{"image": map[string]any{"pullPolicy": "Sometimes"}}, []string{"/image/pullPolicy", "Always"}},
		{"misspelt value", PresetLocal, map[string]any{"ingress": map[string]any{"tls": map[string]any{"enable": true}}}, []string{"/ingress/tls", "additional properties 'enable' not allowed"}},
		{"unknown top-level key", PresetLocal, map[string]any{"replicas": 3}, []string{"additional properties 'replicas' not allowed"}},
		{"a password in values", PresetLocal, map[string]any{"credentials": map[string]any{"adminPassword": "hunter2hunter2"}}, []string{"/credentials", "additional properties 'adminPassword' not allowed"}},
		{"tls flag as text", PresetLocal, map[string]any{"ingress": map[string]any{"tls": map[string]any{"enabled": "yes"}}}, []string{"/ingress/tls/enabled", "want boolean"}},
		{"empty ingress class", PresetLocal, map[string]any{"ingress": map[string]any{"className": ""}}, []string{"/ingress/className", "minLength"}},
		{"no controller namespace", PresetLocal, map[string]any{"ingress": map[string]any{"controller": map[string]any{"namespace": nil}}}, []string{"/ingress/controller", "missing property 'namespace'"}},
		{"bad controller pod label", PresetLocal, map[string]any{"ingress": map[string]any{"controller": map[string]any{"podLabels": map[string]any{"app name": "x"}}}}, []string{"/ingress/controller/podLabels", "additional properties 'app name' not allowed"}},
		{"bad memory quantity", PresetLocal, map[string]any{"wordpress": map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "lots"}}}}, []string{"/wordpress/resources/limits/memory", "does not match pattern"}},
		{"unknown resource", PresetLocal, map[string]any{"mariadb": map[string]any{"resources": map[string]any{"requests": map[string]any{"gpu": "1"}}}}, []string{"/mariadb/resources/requests", "additional properties 'gpu' not allowed"}},
		{"volume size without unit", PresetLocal, map[string]any{"persistence": map[string]any{"mariadb": map[string]any{"size": "10"}}}, []string{"/persistence/mariadb/size", "does not match pattern"}},
		{"pod annotation not a string", PresetLocal, map[string]any{"setup": map[string]any{"podAnnotations": map[string]any{"delay": 5}}}, []string{"/setup/podAnnotations/delay", "want string"}},
		{"egress port out of range", PresetLocal, map[string]any{"networkPolicy": map[string]any{"egressPorts": []any{70000}}}, []string{"/networkPolicy/egressPorts/0", "maximum"}},
		{"image digest malformed", PresetLocal, map[string]any{"wordpress": map[string]any{"image": map[string]any{"digest": "sha256:abc"}}}, []string{"/wordpress/image/digest", "does not match pattern"}},
		{"woocommerce version not a release", PresetLocal, map[string]any{"setup": map[string]any{"woocommerce": map[string]any{"version": "latest"}}}, []string{"/setup/woocommerce/version", "does not match pattern"}},
		{"woocommerce source without a checksum", PresetLocal, map[string]any{"setup": map[string]any{"woocommerce": map[string]any{"url": "https://mirror.example/wc.zip"}}}, []string{"/setup/woocommerce", "sha256"}},
		{"woocommerce source with credentials", PresetLocal, map[string]any{"setup": map[string]any{"woocommerce": map[string]any{"url": "https://user:pw@mirror.example/wc.zip", "sha256": strings.Repeat("a", 64)}}}, []string{"/setup/woocommerce/url", "does not match pattern"}},
		{"woocommerce source of another scheme", PresetLocal, map[string]any{"setup": map[string]any{"woocommerce": map[string]any{"url": "ftp://mirror.example/wc.zip", "sha256": strings.Repeat("a", 64)}}}, []string{"/setup/woocommerce/url", "does not match pattern"}},
		{"woocommerce checksum malformed", PresetLocal, map[string]any{"setup": map[string]any{"woocommerce": map[string]any{"sha256": "abc"}}}, []string{"/setup/woocommerce/sha256", "does not match pattern"}},
		{"cron schedule malformed", PresetLocal, map[string]any{"cron": map[string]any{"schedule": "every minute"}}, []string{"/cron/schedule", "does not match pattern"}},
		{"mail on without a host", PresetLocal, map[string]any{"mail": map[string]any{"enabled": true, "from": "shop@example.com"}}, []string{"/mail/host"}},
		{"mail on without a sender", PresetLocal, map[string]any{"mail": map[string]any{"enabled": true, "host": "smtp.example.com"}}, []string{"/mail/from"}},
		{"mail tls unknown", PresetLocal, map[string]any{"mail": map[string]any{"tls": "maybe"}}, []string{"/mail/tls"}},
		{"mail host with a newline", PresetLocal, map[string]any{"mail": map[string]any{"host": "smtp.example.com\nX: y"}}, []string{"/mail/host", "does not match pattern"}},
		{"mail password as a value", PresetLocal, map[string]any{"mail": map[string]any{"password": "hunter2"}}, []string{"/mail", "additional properties 'password' not allowed"}},
		{"price as a number", PresetLocal, map[string]any{"setup": map[string]any{"sampleProduct": map[string]any{"price": 19.99}}}, []string{"/setup/sampleProduct/price", "want string"}},
		{"currency not ISO", PresetLocal, map[string]any{"store": map[string]any{"currency": "dollars"}}, []string{"/store/currency", "does not match pattern"}},
		{"NUL in the title", PresetLocal, map[string]any{"store": map[string]any{"title": "a\x00b"}}, []string{"/store/title", "does not match pattern"}},
		{"newline in the city", PresetLocal, map[string]any{"store": map[string]any{"city": "a\nb"}}, []string{"/store/city", "does not match pattern"}},
		{"escape in the product name", PresetLocal, map[string]any{"setup": map[string]any{"sampleProduct": map[string]any{"name": "\x1b[31m"}}}, []string{"/setup/sampleProduct/name", "does not match pattern"}},
		{"snippet annotation", PresetLocal, map[string]any{"ingress": map[string]any{"annotations": map[string]any{"nginx.ingress.kubernetes.io/server-snippet": "x"}}}, []string{"invalid propertyName", "server-snippet"}},
		{"invalid annotation key", PresetLocal, map[string]any{"wordpress": map[string]any{"podAnnotations": map[string]any{"a b": "x"}}}, []string{"invalid propertyName", "a b"}},
		{"control character in an annotation", PresetLocal, map[string]any{"mariadb": map[string]any{"podAnnotations": map[string]any{"a": "x\ny"}}}, []string{"/mariadb/podAnnotations/a", "does not match pattern"}},
		{"space in a database argument", PresetLocal, map[string]any{"mariadb": map[string]any{"extraArgs": []any{"--max-connections=1 --skip-grant-tables"}}}, []string{"/mariadb/extraArgs/0", "does not match pattern"}},
		{"secret name invalid", PresetLocal, map[string]any{"credentials": map[string]any{"existingSecret": "My_Secret"}}, []string{"/credentials/existingSecret", "does not match pattern"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := install(presetValues(t, tt.preset, tt.extra))
			if err == nil {
				t.Fatal("the chart accepted the values")
			}
			msg := err.Error()
			if !strings.Contains(msg, "values don't meet the specifications of the schema") {
				t.Errorf("the error is not a schema error: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not contain %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestSchemaAcceptsTheContractValues(t *testing.T) {
	// Every key the engine sets, with non-default values.
	extra := map[string]any{
		"store":       map[string]any{"name": "a-1", "domain": "shops.internal"},
		"credentials": map[string]any{"existingSecret": "a-1-credentials"},
		"ingress": map[string]any{
			"className":   "traefik",
			"annotations": map[string]any{"example.com/x": "y"},
			"tls":         map[string]any{"enabled": true, "clusterIssuer": "letsencrypt-staging"},
			"controller":  map[string]any{"namespace": "kube-system", "podLabels": map[string]any{"app.kubernetes.io/name": "traefik"}},
		},
		"persistence":   map[string]any{"storageClass": "standard"},
		"image":         map[string]any{"pullPolicy": "Never"},
		"mariadb":       map[string]any{"podAnnotations": map[string]any{"sandbox.storectl.dev/fault": "crashloop"}},
		"wordpress":     map[string]any{"podAnnotations": map[string]any{"sandbox.storectl.dev/ready-delay": "5s"}},
		"setup":         map[string]any{"podAnnotations": map[string]any{"sandbox.storectl.dev/fault": "job-fail"}},
		"quota":         map[string]any{"enabled": false},
		"limitRange":    map[string]any{"enabled": false},
		"networkPolicy": map[string]any{"egressPorts": []any{443}},
	}
	rel := mustInstall(t, presetValues(t, PresetLocal, extra))
	objs := objects(t, rel)
	wantAnnotation := map[string][2]string{
		"StatefulSet/demo-mariadb":  {"sandbox.storectl.dev/fault", "crashloop"},
		"Deployment/demo-wordpress": {"sandbox.storectl.dev/ready-delay", "5s"},
		"Job/demo-setup-r1":         {"sandbox.storectl.dev/fault", "job-fail"},
	}
	for _, p := range podSpecs(t, objs) {
		want := wantAnnotation[p.owner]
		if got := p.meta.Annotations[want[0]]; got != want[1] {
			t.Errorf("%s pods: annotation %s=%q, want %q", p.owner, want[0], got, want[1])
		}
	}
	for _, o := range objs {
		if o.GetKind() == "ResourceQuota" || o.GetKind() == "LimitRange" {
			t.Errorf("%s rendered although disabled", o.GetKind())
		}
	}
	pvc := find(t, objs, "PersistentVolumeClaim", "demo-wordpress")
	if sc, _, _ := unstructured.NestedString(pvc.Object, "spec", "storageClassName"); sc != "standard" {
		t.Errorf("storageClassName = %q, want standard", sc)
	}
}

// TestLint runs Helm's linter, as "helm lint" does, on the chart written out from the embedded
// files, with each preset.
func TestLint(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, FS); err != nil {
		t.Fatal(err)
	}
	chartDir := filepath.Join(dir, Name)
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			linter := lint.All(chartDir, presetValues(t, preset, nil), testNamespace, false)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				}
			}
		})
	}
	// The linter must also catch a broken chart, or the test above proves nothing.
	if err := os.WriteFile(filepath.Join(chartDir, "templates", "broken.yaml"), []byte("{{ .Values.nope.missing }"), 0o644); err != nil {
		t.Fatal(err)
	}
	linter := lint.All(chartDir, presetValues(t, PresetLocal, nil), testNamespace, false)
	if linter.HighestSeverity < support.ErrorSev {
		t.Errorf("lint of a broken template reported nothing: %v", linter.Messages)
	}
}

// TestQuotaFitsOneStore checks each preset's ResourceQuota against the pods it must admit at
// the same time: two WordPress pods (an update), MariaDB, the setup Job and one pod sized by
// the LimitRange defaults (a cert-manager solver).
func TestQuotaFitsOneStore(t *testing.T) {
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			objs := objects(t, mustInstall(t, presetValues(t, preset, nil)))
			need := map[string]*resource.Quantity{}
			add := func(key string, q resource.Quantity, times int64) {
				if need[key] == nil {
					need[key] = resource.NewQuantity(0, q.Format)
				}
				for range times {
					need[key].Add(q)
				}
			}
			for _, p := range podSpecs(t, objs) {
				n := int64(1)
				if p.owner == "Deployment/demo-wordpress" {
					n = 2
				}
				for _, c := range p.spec.Containers {
					add("requests.cpu", *c.Resources.Requests.Cpu(), n)
					add("requests.memory", *c.Resources.Requests.Memory(), n)
					add("limits.cpu", *c.Resources.Limits.Cpu(), n)
					add("limits.memory", *c.Resources.Limits.Memory(), n)
				}
			}
			lr := find(t, objs, "LimitRange", "demo")
			limits, _, _ := unstructured.NestedSlice(lr.Object, "spec", "limits")
			l := limits[0].(map[string]any)
			for res, src := range map[string]string{"requests.cpu": "defaultRequest.cpu", "requests.memory": "defaultRequest.memory", "limits.cpu": "default.cpu", "limits.memory": "default.memory"} {
				section, field, _ := strings.Cut(src, ".")
				add(res, resource.MustParse(l[section].(map[string]any)[field].(string)), 1)
			}
			for _, pvc := range []string{"persistence.wordpress.size", "persistence.mariadb.size"} {
				v, _ := chartutil.Values(presetValues(t, preset, nil)).PathValue(pvc)
				add("requests.storage", resource.MustParse(v.(string)), 1)
			}
			add("pods", resource.MustParse("5"), 1)
			add("persistentvolumeclaims", resource.MustParse("2"), 1)

			quota := find(t, objs, "ResourceQuota", "demo")
			hard, _, _ := unstructured.NestedStringMap(quota.Object, "spec", "hard")
			for key, want := range need {
				got, err := resource.ParseQuantity(hard[key])
				if err != nil {
					t.Errorf("quota %s = %q: %v", key, hard[key], err)
					continue
				}
				if got.Cmp(*want) < 0 {
					t.Errorf("quota %s = %s, but one store needs %s", key, got.String(), want.String())
				}
			}
			// The largest container must fit under the LimitRange maximum.
			max := l["max"].(map[string]any)
			for _, p := range podSpecs(t, objs) {
				for _, c := range p.spec.Containers {
					if c.Resources.Limits.Cpu().Cmp(resource.MustParse(max["cpu"].(string))) > 0 ||
						c.Resources.Limits.Memory().Cmp(resource.MustParse(max["memory"].(string))) > 0 {
						t.Errorf("%s container %s limits %v exceed the LimitRange max %v", p.owner, c.Name, c.Resources.Limits, max)
					}
				}
			}
		})
	}
}

func TestEmbedKeepsHelpersAndHiddenFiles(t *testing.T) {
	for _, f := range []string{"woocommerce/templates/_helpers.tpl", "woocommerce/.helmignore", "woocommerce/values.schema.json", "woocommerce/files/setup.sh"} {
		if _, err := FS.ReadFile(f); err != nil {
			t.Errorf("embedded chart lacks %s: %v", f, err)
		}
	}
	chrt, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, tpl := range chrt.Templates {
		if tpl.Name == "templates/_helpers.tpl" {
			found = true
		}
	}
	if !found {
		t.Error("the loaded chart has no templates/_helpers.tpl")
	}
	if chrt.Schema == nil {
		t.Error("the loaded chart has no values schema")
	}
	if chrt.Metadata.Version == "" || chrt.Metadata.AppVersion == "" {
		t.Errorf("Chart.yaml version %q appVersion %q", chrt.Metadata.Version, chrt.Metadata.AppVersion)
	}
}
