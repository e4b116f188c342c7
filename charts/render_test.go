package charts

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/charts")

const (
	testRelease   = "demo"
	testNamespace = "store-demo"
	// testSecret is deliberately not the default name, so tests can tell that
	// credentials.existingSecret reaches every reference.
	testSecret = "demo-credentials-v1"
)

// storeValues returns the values storectl would pass for the test store on top of a preset.
func storeValues(preset string) map[string]any {
	store := map[string]any{"name": testRelease}
	if preset == PresetProd {
		store["domain"] = "shops.example.com"
	}
	return map[string]any{
		"store":       store,
		"credentials": map[string]any{"existingSecret": testSecret},
	}
}

// mergeValues layers override over base, recursing into maps, and returns a new map.
func mergeValues(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// presetValues returns a preset with the test store's values and extra layered on top.
func presetValues(t testing.TB, preset string, extra map[string]any) map[string]any {
	t.Helper()
	p, err := Preset(preset)
	if err != nil {
		t.Fatalf("Preset(%q): %v", preset, err)
	}
	return mergeValues(mergeValues(p, storeValues(preset)), extra)
}

// install renders the chart as "helm install --dry-run" does, through the same SDK call the
// engine uses, so schema validation and hook handling are the real ones.
func install(vals map[string]any) (*release.Release, error) {
	chrt, err := Load()
	if err != nil {
		return nil, err
	}
	return installChart(chrt, vals)
}

// installChart renders chrt as install does.
func installChart(chrt *chart.Chart, vals map[string]any) (*release.Release, error) {
	cfg := &action.Configuration{Log: func(string, ...any) {}}
	inst := action.NewInstall(cfg)
	inst.DryRun = true
	inst.ClientOnly = true
	inst.ReleaseName = testRelease
	inst.Namespace = testNamespace
	inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	return inst.Run(chrt, vals)
}

func mustInstall(t testing.TB, vals map[string]any) *release.Release {
	t.Helper()
	rel, err := install(vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return rel
}

// manifest is the whole rendered output: resources, then hooks, then the notes.
func manifest(rel *release.Release) string {
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "\n---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	fmt.Fprintf(&b, "\n# NOTES.txt\n%s\n", rel.Info.Notes)
	return b.String()
}

// objects decodes every rendered resource and hook.
func objects(t testing.TB, rel *release.Release) []*unstructured.Unstructured {
	t.Helper()
	docs := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		docs = append(docs, h.Manifest)
	}
	var out []*unstructured.Unstructured
	for _, doc := range docs {
		for _, part := range strings.Split(doc, "\n---") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(part), &m); err != nil {
				t.Fatalf("decode rendered object: %v\n%s", err, part)
			}
			if len(m) == 0 {
				continue
			}
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
	return out
}

// find returns the object of kind and name, failing the test when it is missing.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return nil
}

func TestRenderMatchesGolden(t *testing.T) {
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			got := manifest(mustInstall(t, presetValues(t, preset, nil)))
			golden := filepath.Join("..", "testdata", "charts", preset+".yaml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./charts -run TestRenderMatchesGolden -update to create it)", err)
			}
			if !bytes.Equal(want, []byte(got)) {
				t.Errorf("rendered %s preset differs from %s; if the change is intended, rerun with -update\n%s",
					preset, golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			if shown++; shown == 10 {
				break
			}
		}
	}
	return b.String()
}

func TestRenderedObjectsFollowTheContract(t *testing.T) {
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			rel := mustInstall(t, presetValues(t, preset, nil))
			objs := objects(t, rel)

			wantNames := []string{
				"ConfigMap/demo-setup",
				"ConfigMap/demo-wordpress",
				"CronJob/demo-cron",
				"Deployment/demo-wordpress",
				"Ingress/demo",
				"Job/demo-setup-r1",
				"LimitRange/demo",
				"NetworkPolicy/demo-allow-app-egress",
				"NetworkPolicy/demo-allow-database",
				"NetworkPolicy/demo-allow-dns",
				"NetworkPolicy/demo-allow-ingress-controller",
				"NetworkPolicy/demo-allow-setup-egress",
				"NetworkPolicy/demo-default-deny",
				"PersistentVolumeClaim/demo-wordpress",
				"ResourceQuota/demo",
				"Service/demo-mariadb",
				"Service/demo-wordpress",
				"StatefulSet/demo-mariadb",
			}
			if preset == PresetProd {
				wantNames = append(wantNames, "NetworkPolicy/demo-allow-acme-solver")
				sort.Strings(wantNames)
			}
			var gotNames []string
			for _, o := range objs {
				gotNames = append(gotNames, o.GetKind()+"/"+o.GetName())
			}
			sort.Strings(gotNames)
			if strings.Join(gotNames, " ") != strings.Join(wantNames, " ") {
				t.Errorf("rendered objects:\n got %v\nwant %v", gotNames, wantNames)
			}

			common := map[string]string{
				"app.kubernetes.io/name":       "woocommerce",
				"app.kubernetes.io/instance":   testRelease,
				"app.kubernetes.io/part-of":    "storectl",
				"app.kubernetes.io/managed-by": "Helm",
				"storectl.dev/store":           testRelease,
			}
			for _, o := range objs {
				labels := o.GetLabels()
				for k, v := range common {
					if labels[k] != v {
						t.Errorf("%s/%s: label %s=%q, want %q", o.GetKind(), o.GetName(), k, labels[k], v)
					}
				}
				if !strings.HasPrefix(labels["helm.sh/chart"], "woocommerce-") {
					t.Errorf("%s/%s: label helm.sh/chart=%q", o.GetKind(), o.GetName(), labels["helm.sh/chart"])
				}
			}

			components := map[string]string{
				"StatefulSet/demo-mariadb":  "database",
				"Deployment/demo-wordpress": "wordpress",
				"Job/demo-setup-r1":         "setup",
			}
			for ref, component := range components {
				kind, name, _ := strings.Cut(ref, "/")
				o := find(t, objs, kind, name)
				if got := o.GetLabels()["app.kubernetes.io/component"]; got != component {
					t.Errorf("%s: component label %q, want %q", ref, got, component)
				}
				podLabels, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels")
				for k, v := range common {
					if podLabels[k] != v {
						t.Errorf("%s pods: label %s=%q, want %q", ref, k, podLabels[k], v)
					}
				}
				if podLabels["app.kubernetes.io/component"] != component {
					t.Errorf("%s pods: component label %q, want %q", ref, podLabels["app.kubernetes.io/component"], component)
				}
			}

			sts := find(t, objs, "StatefulSet", "demo-mariadb")
			claims, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
			if len(claims) != 1 || claims[0].(map[string]any)["metadata"].(map[string]any)["name"] != "data" {
				t.Errorf("StatefulSet volumeClaimTemplates = %v, want one named data", claims)
			}
			if svc, _, _ := unstructured.NestedString(find(t, objs, "Service", "demo-mariadb").Object, "spec", "clusterIP"); svc != "None" {
				t.Errorf("MariaDB Service clusterIP = %q, want None (headless)", svc)
			}
			wpSvcPorts, _, _ := unstructured.NestedSlice(find(t, objs, "Service", "demo-wordpress").Object, "spec", "ports")
			if len(wpSvcPorts) != 1 || fmt.Sprint(wpSvcPorts[0].(map[string]any)["port"]) != "80" ||
				wpSvcPorts[0].(map[string]any)["targetPort"] != "http" {
				t.Errorf("WordPress Service ports = %v, want 80 -> http", wpSvcPorts)
			}

			job := find(t, objs, "Job", "demo-setup-r1")
			// An ordinary resource, named and labelled for its revision: Helm records the
			// revision without waiting for it, and the next revision's Job has a new name.
			for k := range job.GetAnnotations() {
				if strings.HasPrefix(k, "helm.sh/hook") {
					t.Errorf("setup Job has the hook annotation %s", k)
				}
			}
			if len(rel.Hooks) != 0 {
				t.Errorf("the chart renders %d hook(s), want none", len(rel.Hooks))
			}
			if rev := job.GetLabels()["storectl.dev/revision"]; rev != "1" {
				t.Errorf("setup Job revision label = %q, want 1", rev)
			}
		})
	}
}

func TestIngressFollowsValues(t *testing.T) {
	tests := []struct {
		name       string
		preset     string
		extra      map[string]any
		wantHost   string
		wantClass  string
		wantIssuer string
		wantTLS    string // secret name, "" for no tls block
		wantAnno   map[string]string
	}{
		{
			name: "local", preset: PresetLocal,
			wantHost: "demo.127.0.0.1.nip.io", wantClass: "nginx",
			wantAnno: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "64m"},
		},
		{
			name: "prod", preset: PresetProd,
			wantHost: "demo.shops.example.com", wantClass: "traefik", wantIssuer: "letsencrypt-prod", wantTLS: "demo-tls",
			wantAnno: map[string]string{"traefik.ingress.kubernetes.io/router.tls": "true"},
		},
		{
			name: "custom issuer and secret", preset: PresetLocal,
			extra: map[string]any{
				"store":   map[string]any{"domain": "example.org"},
				"ingress": map[string]any{"className": "private", "tls": map[string]any{"enabled": true, "clusterIssuer": "internal-ca", "secretName": "wildcard"}},
			},
			wantHost: "demo.example.org", wantClass: "private", wantIssuer: "internal-ca", wantTLS: "wildcard",
		},
		{
			name: "tls without cert-manager", preset: PresetProd,
			extra:    map[string]any{"ingress": map[string]any{"tls": map[string]any{"clusterIssuer": ""}}},
			wantHost: "demo.shops.example.com", wantClass: "traefik", wantTLS: "demo-tls",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel := mustInstall(t, presetValues(t, tt.preset, tt.extra))
			ing := find(t, objects(t, rel), "Ingress", "demo")
			if class, _, _ := unstructured.NestedString(ing.Object, "spec", "ingressClassName"); class != tt.wantClass {
				t.Errorf("ingressClassName = %q, want %q", class, tt.wantClass)
			}
			rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
			if len(rules) != 1 || rules[0].(map[string]any)["host"] != tt.wantHost {
				t.Errorf("rules = %v, want one for host %s", rules, tt.wantHost)
			}
			if got := ing.GetAnnotations()["cert-manager.io/cluster-issuer"]; got != tt.wantIssuer {
				t.Errorf("cluster-issuer annotation = %q, want %q", got, tt.wantIssuer)
			}
			for k, v := range tt.wantAnno {
				if ing.GetAnnotations()[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, ing.GetAnnotations()[k], v)
				}
			}
			tls, _, _ := unstructured.NestedSlice(ing.Object, "spec", "tls")
			if tt.wantTLS == "" {
				if len(tls) != 0 {
					t.Errorf("tls = %v, want none", tls)
				}
			} else {
				if len(tls) != 1 {
					t.Fatalf("tls = %v, want one entry", tls)
				}
				entry := tls[0].(map[string]any)
				if entry["secretName"] != tt.wantTLS || fmt.Sprint(entry["hosts"]) != "["+tt.wantHost+"]" {
					t.Errorf("tls = %v, want secret %s for %s", entry, tt.wantTLS, tt.wantHost)
				}
			}
			scheme := "http"
			if tt.wantTLS != "" {
				scheme = "https"
			}
			if want := scheme + "://" + tt.wantHost + "/wp-admin/"; !strings.Contains(rel.Info.Notes, want) {
				t.Errorf("NOTES do not show the admin URL %s:\n%s", want, rel.Info.Notes)
			}
		})
	}
}

func TestImagesArePinnedAndPullPolicyIsGlobal(t *testing.T) {
	for _, preset := range Presets() {
		t.Run(preset, func(t *testing.T) {
			p, _ := Preset(preset)
			wantPolicy := p["image"].(map[string]any)["pullPolicy"]
			objs := objects(t, mustInstall(t, presetValues(t, preset, nil)))
			want := map[string]string{
				"mariadb":   "mariadb:11.8",
				"wordpress": "wordpress:7.1-php8.3-apache",
				"setup":     "wordpress:cli-2.12-php8.3",
				"cron":      "wordpress:cli-2.12-php8.3",
			}
			for _, spec := range podSpecs(t, objs) {
				for _, c := range spec.spec.Containers {
					if c.Image != want[c.Name] {
						t.Errorf("%s container %s image %q, want %q", spec.owner, c.Name, c.Image, want[c.Name])
					}
					if string(c.ImagePullPolicy) != wantPolicy {
						t.Errorf("%s container %s pull policy %q, want %q", spec.owner, c.Name, c.ImagePullPolicy, wantPolicy)
					}
				}
			}
		})
	}

	digest := "sha256:" + strings.Repeat("ab", 32)
	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, map[string]any{
		"mariadb": map[string]any{"image": map[string]any{"digest": digest}},
	})))
	for _, spec := range podSpecs(t, objs) {
		if spec.spec.Containers[0].Name == "mariadb" && spec.spec.Containers[0].Image != "mariadb@"+digest {
			t.Errorf("with a digest the MariaDB image is %q, want mariadb@%s", spec.spec.Containers[0].Image, digest)
		}
	}
}

func TestSetupJobRunsBesideWordPress(t *testing.T) {
	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, nil)))
	var job *podSpec
	for _, s := range podSpecs(t, objs) {
		if s.owner == "Job/demo-setup-r1" {
			job = &s
		}
	}
	if job == nil {
		t.Fatal("no setup Job pod template")
	}
	aff := job.spec.Affinity
	if aff == nil || aff.PodAffinity == nil || len(aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("setup Job affinity = %+v, want one required pod affinity term", aff)
	}
	term := aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
	if term.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("topologyKey = %q", term.TopologyKey)
	}
	wp := find(t, objs, "Deployment", "demo-wordpress")
	podLabels, _, _ := unstructured.NestedStringMap(wp.Object, "spec", "template", "metadata", "labels")
	for k, v := range term.LabelSelector.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("affinity selects %s=%s, which WordPress pods do not carry", k, v)
		}
	}
	if term.LabelSelector.MatchLabels["app.kubernetes.io/component"] != "wordpress" {
		t.Errorf("affinity selector %v does not pick the WordPress pod", term.LabelSelector.MatchLabels)
	}

	c := job.spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["HOME"] != "/tmp" || env["WC_VERSION"] != "11.1.2" || env["PRODUCT_PRICE"] != "19.99" ||
		env["STORE_URL"] != "http://demo.127.0.0.1.nip.io" || env["ADMIN_EMAIL"] != "admin@demo.127.0.0.1.nip.io" {
		t.Errorf("setup env = %v", env)
	}
	if *job.spec.SecurityContext.RunAsUser != 33 || *job.spec.SecurityContext.RunAsGroup != 33 {
		t.Errorf("setup Job runs as %d:%d, want 33:33", *job.spec.SecurityContext.RunAsUser, *job.spec.SecurityContext.RunAsGroup)
	}
}

func TestSetupConfigMapCarriesTheScriptUnchanged(t *testing.T) {
	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, nil)))
	cm := find(t, objs, "ConfigMap", "demo-setup")
	for key, file := range map[string]string{"setup.sh": "woocommerce/files/setup.sh", "db-ready.php": "woocommerce/files/db-ready.php"} {
		want, err := FS.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, _, _ := unstructured.NestedString(cm.Object, "data", key)
		if got != string(want) {
			t.Errorf("ConfigMap key %s differs from %s:\n%s", key, file, lineDiff(string(want), got))
		}
	}
}

func TestUnknownPresetIsRefused(t *testing.T) {
	_, err := Preset("staging")
	if err == nil || !strings.Contains(err.Error(), `"staging"`) || !strings.Contains(err.Error(), "local") {
		t.Fatalf("Preset(staging) error = %v, want one naming the preset and the known ones", err)
	}
}

func TestPresetsMatchTheProfiles(t *testing.T) {
	tests := []struct {
		preset, class, ctrlNS, ctrlName, pull string
		tls                                   bool
	}{
		{PresetLocal, "nginx", "ingress-nginx", "ingress-nginx", "IfNotPresent", false},
		{PresetProd, "traefik", "kube-system", "traefik", "Always", true},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			v, err := Preset(tt.preset)
			if err != nil {
				t.Fatal(err)
			}
			vals := chartutil.Values(v)
			check := func(path string, want any) {
				t.Helper()
				got, err := vals.PathValue(path)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %v (%v), want %v", path, got, err, want)
				}
			}
			check("ingress.className", tt.class)
			check("ingress.controller.namespace", tt.ctrlNS)
			check("image.pullPolicy", tt.pull)
			check("ingress.tls.enabled", tt.tls)
			labels, _ := vals.Table("ingress.controller.podLabels")
			if labels["app.kubernetes.io/name"] != tt.ctrlName {
				t.Errorf("controller pod labels = %v, want app.kubernetes.io/name=%s", labels, tt.ctrlName)
			}
			// Each call returns a fresh copy, so the engine may change it freely.
			v["image"].(map[string]any)["pullPolicy"] = "Never"
			again, _ := Preset(tt.preset)
			if again["image"].(map[string]any)["pullPolicy"] != tt.pull {
				t.Error("changing a returned preset changed the next one")
			}
		})
	}
}

func TestNetworkPoliciesFollowValues(t *testing.T) {
	t.Run("chart defaults", func(t *testing.T) {
		// Without a preset the controller labels default in the template, and labels given at
		// install time replace them instead of being merged into them.
		for labels, want := range map[string]string{
			"":          "map[app.kubernetes.io/name:ingress-nginx]",
			"app=proxy": "map[app:proxy]",
		} {
			vals := storeValues(PresetLocal)
			if labels != "" {
				k, v, _ := strings.Cut(labels, "=")
				vals["ingress"] = map[string]any{"controller": map[string]any{"podLabels": map[string]any{k: v}}}
			}
			objs := objects(t, mustInstall(t, vals))
			np := find(t, objs, "NetworkPolicy", "demo-allow-ingress-controller")
			rules, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
			peer := rules[0].(map[string]any)["from"].([]any)[0].(map[string]any)
			if got := fmt.Sprint(peer["podSelector"].(map[string]any)["matchLabels"]); got != want {
				t.Errorf("podLabels %q: controller selector %s, want %s", labels, got, want)
			}
		}
	})

	extra := map[string]any{
		"ingress":       map[string]any{"controller": map[string]any{"namespace": "edge"}},
		"networkPolicy": map[string]any{"egressPorts": []any{443}},
	}
	vals := presetValues(t, PresetLocal, extra)
	// Label maps are selectors: whoever layers values must replace them, not merge them.
	vals["ingress"].(map[string]any)["controller"].(map[string]any)["podLabels"] = map[string]any{"app": "router", "tier": "front"}
	objs := objects(t, mustInstall(t, vals))

	deny := find(t, objs, "NetworkPolicy", "demo-default-deny")
	sel, _, _ := unstructured.NestedMap(deny.Object, "spec", "podSelector")
	types, _, _ := unstructured.NestedStringSlice(deny.Object, "spec", "policyTypes")
	if len(sel) != 0 || strings.Join(types, ",") != "Ingress,Egress" {
		t.Errorf("default deny selects %v for %v, want every pod for Ingress,Egress", sel, types)
	}

	ctrl := find(t, objs, "NetworkPolicy", "demo-allow-ingress-controller")
	from, _, _ := unstructured.NestedSlice(ctrl.Object, "spec", "ingress")
	rule := from[0].(map[string]any)
	peer := rule["from"].([]any)[0].(map[string]any)
	if ns := peer["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)["kubernetes.io/metadata.name"]; ns != "edge" {
		t.Errorf("controller namespace selector = %v, want edge", ns)
	}
	// The labels given replace the default ones: extra labels would select no controller pod.
	if pl := peer["podSelector"].(map[string]any)["matchLabels"].(map[string]any); len(pl) != 2 || pl["app"] != "router" || pl["tier"] != "front" {
		t.Errorf("controller pod selector = %v, want exactly app=router,tier=front", pl)
	}
	if port := rule["ports"].([]any)[0].(map[string]any)["port"]; fmt.Sprint(port) != "8080" {
		t.Errorf("controller may reach port %v, want 8080", port)
	}

	egress := find(t, objs, "NetworkPolicy", "demo-allow-app-egress")
	rules, _, _ := unstructured.NestedSlice(egress.Object, "spec", "egress")
	if len(rules) != 2 {
		t.Fatalf("app egress rules = %v", rules)
	}
	if p := rules[0].(map[string]any)["ports"].([]any); len(p) != 1 || fmt.Sprint(p[0].(map[string]any)["port"]) != "3306" {
		t.Errorf("database egress ports = %v", p)
	}
	if p := rules[1].(map[string]any)["ports"].([]any); len(p) != 1 || fmt.Sprint(p[0].(map[string]any)["port"]) != "443" {
		t.Errorf("internet egress ports = %v, want only 443", p)
	}

	dns := find(t, objs, "NetworkPolicy", "demo-allow-dns")
	dnsRules, _, _ := unstructured.NestedSlice(dns.Object, "spec", "egress")
	dnsPeer := dnsRules[0].(map[string]any)["to"].([]any)[0].(map[string]any)
	if fmt.Sprint(dnsPeer["podSelector"]) != "map[matchLabels:map[k8s-app:kube-dns]]" {
		t.Errorf("DNS pod selector = %v, want k8s-app=kube-dns", dnsPeer["podSelector"])
	}

	db := find(t, objs, "NetworkPolicy", "demo-allow-database")
	ing, _, _ := unstructured.NestedSlice(db.Object, "spec", "ingress")
	exprs := ing[0].(map[string]any)["from"].([]any)[0].(map[string]any)["podSelector"].(map[string]any)["matchExpressions"].([]any)
	if vals := fmt.Sprint(exprs[0].(map[string]any)["values"]); vals != "[wordpress setup cron]" {
		t.Errorf("database reachable from components %s, want [wordpress setup cron]", vals)
	}
}
