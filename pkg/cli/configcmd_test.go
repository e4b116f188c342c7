package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
)

// configViewHarness runs commands with the real configuration loader over a clean environment,
// and fails the test if anything reaches for the cluster or the audit log.
func configViewHarness(t *testing.T) (*harness, string) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range config.Keys() {
		t.Setenv(config.EnvVar(k), "")
	}
	t.Setenv(config.EnvConfig, "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg-config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "xdg-state"))
	h := newHarness(t, false)
	real := NewFactory(h.f.IOStreams, h.f.Build)
	h.f = real
	h.f.Now = func() time.Time { return testNow }
	h.f.Engine = func() (Engine, error) { t.Error("config view built the engine"); return nil, os.ErrInvalid }
	h.f.Cluster = func() (*Cluster, error) { t.Error("config view reached for the cluster"); return nil, os.ErrInvalid }
	h.f.Audit = func() (AuditLog, error) { t.Error("config view opened the audit log"); return nil, os.ErrInvalid }
	return h, dir
}

func TestConfigViewShowsValuesAndSources(t *testing.T) {
	h, dir := configViewHarness(t)
	file := filepath.Join(dir, "config.yaml")
	writeFile(t, file, "timeout: 15m\nprofiles:\n  local:\n    storage-class: fast\n")
	// The kubeconfig holds a credential; config view names the file and never reads it.
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeFile(t, kubeconfig, "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: s3cr3t-token-value\n")
	t.Setenv(config.EnvVar(config.KeyMaxStores), "7")

	code := h.run("config", "view", "-o", "json", "--config", file, "--kubeconfig", kubeconfig, "--profile", "local")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	var v ConfigView
	if err := json.Unmarshal([]byte(h.stdout()), &v); err != nil {
		t.Fatalf("%v: %s", err, h.stdout())
	}
	if v.File != file {
		t.Errorf("file %q, want %q", v.File, file)
	}
	got := map[string]config.Setting{}
	for _, s := range v.Settings {
		got[s.Key] = s
	}
	if len(got) != len(config.Keys()) {
		t.Errorf("%d settings, want every one of %v", len(got), config.Keys())
	}
	for _, want := range []struct {
		key, value, source string
	}{
		{config.KeyProfile, "local", "flag --profile"},
		{config.KeyTimeout, "15m0s", "file " + file + ":1"},
		{config.KeyStorageClass, "fast", "file " + file + ":4 (profiles.local)"},
		{config.KeyMaxStores, "7", "env STORECTL_MAX_STORES"},
		{config.KeyDomain, "127.0.0.1.nip.io", "profile local"},
		{config.KeyKubeconfig, kubeconfig, "flag --kubeconfig"},
		{config.KeyContext, "", "default"},
	} {
		s := got[want.key]
		if value := strings.Trim(mustJSON(t, s.Value), `"`); value != want.value || s.Source.String() != want.source {
			t.Errorf("%s = %s from %q, want %s from %q", want.key, value, s.Source, want.value, want.source)
		}
	}
	if out := h.stdout() + h.stderr(); strings.Contains(out, "s3cr3t") {
		t.Errorf("config view printed the kubeconfig's credential:\n%s", out)
	}
	if !strings.Contains(h.stderr(), "Config file: "+file) {
		t.Errorf("stderr does not name the config file: %q", h.stderr())
	}
}

func TestConfigViewTable(t *testing.T) {
	h, _ := configViewHarness(t)
	t.Setenv(config.EnvVar(config.KeyIngressControllerLabels), "b=2,a=1")
	if code := h.run("config", "view"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	lines := strings.Split(strings.TrimRight(h.stdout(), "\n"), "\n")
	if len(lines) != len(config.Keys())+1 || strings.Join(strings.Fields(lines[0]), " ") != "KEY VALUE SOURCE" {
		t.Fatalf("want a header and one row per setting:\n%s", h.stdout())
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = strings.Join(f[1:], " ")
	}
	for key, want := range map[string]string{
		config.KeyIngressControllerLabels:  "a=1,b=2 env STORECTL_INGRESS_CONTROLLER_LABELS",
		config.KeyTLSClusterIssuer:         "<none> profile local",
		config.KeyTenantIsolationOverrides: "<none> default",
	} {
		if rows[key] != want {
			t.Errorf("row %s: %q, want %q", key, rows[key], want)
		}
	}
	if want := "Config file: none (" + config.DefaultFilePath() + " does not exist)"; !strings.Contains(h.stderr(), want) {
		t.Errorf("stderr %q lacks %q", h.stderr(), want)
	}
}

func TestConfigViewShowsInvalidValuesThenFails(t *testing.T) {
	h, _ := configViewHarness(t)
	t.Setenv(config.EnvVar(config.KeyImagePullPolicy), "always")
	code := h.run("config", "view")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d: %s", code, ExitUsage, h.stderr())
	}
	if !strings.Contains(h.stdout(), "always") || !strings.Contains(h.stdout(), "env STORECTL_IMAGE_PULL_POLICY") {
		t.Errorf("the table does not show the invalid value and its source:\n%s", h.stdout())
	}
	if !strings.Contains(h.stderr(), `invalid image-pull-policy "always" (from env STORECTL_IMAGE_PULL_POLICY)`) {
		t.Errorf("stderr does not explain the invalid value: %s", h.stderr())
	}
}

func TestConfigViewRefusesOtherFormats(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.f.Config = nil // parsing -o happens before the configuration is loaded
	if code := h.run("config", "view", "-o", "wide"); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(h.stderr(), "table, json, yaml") {
		t.Errorf("stderr does not list the formats: %s", h.stderr())
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var _ output.Tabular = ConfigView{}

func TestConfigUnknownSubcommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.f.Config = nil
	if code := h.run("config", "vew"); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(h.stderr(), `unknown command "vew" for storectl config (did you mean "view"?)`) {
		t.Errorf("stderr: %s", h.stderr())
	}
}
