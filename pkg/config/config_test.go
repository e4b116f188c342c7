package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// These tests set environment variables, which viper reads from the process, so they do not
// run in parallel.

type env struct {
	configHome string // $XDG_CONFIG_HOME
	stateHome  string // $XDG_STATE_HOME
	home       string // $HOME
}

// isolate points every location Load reads at fresh directories and unsets STORECTL_*.
func isolate(t *testing.T) env {
	t.Helper()
	root := t.TempDir()
	e := env{
		configHome: filepath.Join(root, "config"),
		stateHome:  filepath.Join(root, "state"),
		home:       filepath.Join(root, "home"),
	}
	t.Setenv("XDG_CONFIG_HOME", e.configHome)
	t.Setenv("XDG_STATE_HOME", e.stateHome)
	t.Setenv("HOME", e.home)
	t.Setenv(EnvConfig, "")
	for _, k := range Keys() {
		t.Setenv(EnvVar(k), "")
	}
	return e
}

// writeConfig writes the default config file and returns its path.
func (e env) writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(e.configHome, "storectl", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cliFlags builds the flags the CLI defines, with zero defaults as LoadOptions asks, and
// parses args into them.
func cliFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("storectl", pflag.ContinueOnError)
	fs.String(FlagConfig, "", "")
	fs.String(KeyProfile, "", "")
	fs.String(KeyDomain, "", "")
	fs.String(KeyIngressClass, "", "")
	fs.String(KeyIngressControllerNamespace, "", "")
	fs.StringToString(KeyIngressControllerLabels, nil, "")
	fs.String(KeyTLSClusterIssuer, "", "")
	fs.String(KeyStorageClass, "", "")
	fs.Int(KeyMaxStores, 0, "")
	fs.String(KeyImagePullPolicy, "", "")
	fs.Duration(KeyTimeout, 0, "")
	fs.String(KeyAuditPath, "", "")
	fs.String(KeyKubeconfig, "", "")
	fs.String(KeyContext, "", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestLocalProfileIsTheDefault(t *testing.T) {
	e := isolate(t)
	cfg, err := Load(LoadOptions{Flags: cliFlags(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Profile:                    "local",
		Domain:                     "127.0.0.1.nip.io",
		IngressClass:               "nginx",
		IngressControllerNamespace: "ingress-nginx",
		IngressControllerLabels:    map[string]string{"app.kubernetes.io/name": "ingress-nginx"},
		MaxStores:                  10,
		ImagePullPolicy:            "IfNotPresent",
		Timeout:                    10 * time.Minute,
		UnschedulableGrace:         30 * time.Second,
		AuditPath:                  filepath.Join(e.stateHome, "storectl", "audit.db"),
		TenantIsolationOverrides:   []string{},
	}
	got := *cfg
	got.sources = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", got, want)
	}
	if cfg.TLS() {
		t.Error("the local profile enables TLS")
	}
	for key, kind := range map[string]string{
		KeyProfile: SourceDefault, KeyDomain: SourceProfile, KeyMaxStores: SourceProfile,
		KeyTimeout: SourceDefault, KeyAuditPath: SourceDefault, KeyTLSClusterIssuer: SourceProfile,
	} {
		if s := cfg.Source(key); s.Kind != kind {
			t.Errorf("source of %s = %v, want %s", key, s, kind)
		}
	}
}

func TestProdProfile(t *testing.T) {
	e := isolate(t)
	cfg, err := Load(LoadOptions{Flags: cliFlags(t, "--profile", "prod", "--domain", "shops.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Profile:                    "prod",
		Domain:                     "shops.example.com",
		IngressClass:               "traefik",
		IngressControllerNamespace: "kube-system",
		IngressControllerLabels:    map[string]string{"app.kubernetes.io/name": "traefik"},
		TLSClusterIssuer:           "letsencrypt-prod",
		MaxStores:                  50,
		ImagePullPolicy:            "Always",
		Timeout:                    10 * time.Minute,
		UnschedulableGrace:         30 * time.Second,
		AuditPath:                  filepath.Join(e.stateHome, "storectl", "audit.db"),
		TenantIsolationOverrides:   []string{},
	}
	got := *cfg
	got.sources = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", got, want)
	}
	if !cfg.TLS() {
		t.Error("the prod profile does not enable TLS")
	}
	if s := cfg.Source(KeyIngressClass); s != (Source{Kind: SourceProfile, Name: "prod"}) {
		t.Errorf("source of ingress-class = %+v, want profile prod", s)
	}
}

func TestProdWithoutDomainSaysHowToSetIt(t *testing.T) {
	e := isolate(t)
	t.Setenv(EnvVar(KeyProfile), "prod")
	_, err := Load(LoadOptions{Flags: cliFlags(t)})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Load error = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"domain is not set", "profile prod", "--domain", "STORECTL_DOMAIN=",
		filepath.Join(e.configHome, "storectl", "config.yaml"), "profiles.prod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestPrecedence adds one layer at a time and checks that each beats the ones below it:
// flag > env > file profile section > file top level > profile > default.
func TestPrecedence(t *testing.T) {
	type layers struct {
		top, section, env string // values written into each layer; empty = layer not set
		flag              string
	}
	tests := []struct {
		key       string
		yamlValue func(string) string // how the value is written in YAML
		layers    layers
		want      any
		wantKind  string
		wantLine  int
	}{
		{KeyDomain, plain, layers{}, "127.0.0.1.nip.io", SourceProfile, 0},
		{KeyDomain, plain, layers{top: "top.test"}, "top.test", SourceFile, 2},
		{KeyDomain, plain, layers{top: "top.test", section: "section.test"}, "section.test", SourceFile, 5},
		{KeyDomain, plain, layers{top: "top.test", section: "section.test", env: "env.test"}, "env.test", SourceEnv, 0},
		{KeyDomain, plain, layers{top: "top.test", section: "section.test", env: "env.test", flag: "flag.test"}, "flag.test", SourceFlag, 0},
		{KeyDomain, plain, layers{flag: "flag.test"}, "flag.test", SourceFlag, 0},
		{KeyDomain, plain, layers{env: "env.test"}, "env.test", SourceEnv, 0},

		{KeyMaxStores, plain, layers{}, 10, SourceProfile, 0},
		{KeyMaxStores, plain, layers{top: "3"}, 3, SourceFile, 2},
		{KeyMaxStores, plain, layers{top: "3", section: "4"}, 4, SourceFile, 5},
		{KeyMaxStores, plain, layers{top: "3", section: "4", env: "5"}, 5, SourceEnv, 0},
		{KeyMaxStores, plain, layers{top: "3", section: "4", env: "5", flag: "6"}, 6, SourceFlag, 0},

		{KeyTimeout, plain, layers{}, 10 * time.Minute, SourceDefault, 0},
		{KeyTimeout, plain, layers{top: "1m"}, time.Minute, SourceFile, 2},
		{KeyTimeout, plain, layers{top: "1m", section: "2m"}, 2 * time.Minute, SourceFile, 5},
		{KeyTimeout, plain, layers{top: "1m", section: "2m", env: "3m"}, 3 * time.Minute, SourceEnv, 0},
		{KeyTimeout, plain, layers{top: "1m", section: "2m", env: "3m", flag: "4m"}, 4 * time.Minute, SourceFlag, 0},

		{KeyIngressControllerLabels, labelsYAML, layers{}, map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, SourceProfile, 0},
		{KeyIngressControllerLabels, labelsYAML, layers{top: "app=top"}, map[string]string{"app": "top"}, SourceFile, 2},
		{KeyIngressControllerLabels, labelsYAML, layers{top: "app=top", section: "App=section"}, map[string]string{"App": "section"}, SourceFile, 6},
		{KeyIngressControllerLabels, labelsYAML, layers{top: "app=top", env: "app=env,tier=edge"}, map[string]string{"app": "env", "tier": "edge"}, SourceEnv, 0},
		{KeyIngressControllerLabels, labelsYAML, layers{top: "app=top", env: "app=env", flag: "app=flag"}, map[string]string{"app": "flag"}, SourceFlag, 0},

		{KeyTLSClusterIssuer, plain, layers{top: "issuer-a"}, "issuer-a", SourceFile, 2},
		{KeyImagePullPolicy, plain, layers{section: "Never", env: "Always"}, "Always", SourceEnv, 0},
		{KeyStorageClass, plain, layers{section: "fast"}, "fast", SourceFile, 5},
		{KeyContext, plain, layers{top: "ctx-file", flag: "ctx-flag"}, "ctx-flag", SourceFlag, 0},
	}
	for _, tt := range tests {
		name := tt.key + "/" + strings.Join(nonEmpty(tt.layers.top, tt.layers.section, tt.layers.env, tt.layers.flag), ">")
		t.Run(name, func(t *testing.T) {
			e := isolate(t)
			// Line 1 is a comment so that line numbers are not trivially 1.
			file := "# storectl settings\n"
			if tt.layers.top != "" {
				file += tt.key + ":" + tt.yamlValue(tt.layers.top) + "\n"
			} else {
				file += "context: untouched\n"
			}
			file += "profiles:\n  local:\n"
			if tt.layers.section != "" {
				file += "    " + tt.key + ":" + indent(tt.yamlValue(tt.layers.section)) + "\n"
			}
			path := e.writeConfig(t, file)
			if tt.layers.env != "" {
				t.Setenv(EnvVar(tt.key), tt.layers.env)
			}
			var args []string
			if tt.layers.flag != "" {
				args = []string{"--" + tt.key + "=" + tt.layers.flag}
			}
			cfg, err := Load(LoadOptions{Flags: cliFlags(t, args...)})
			if err != nil {
				t.Fatalf("Load: %v\nfile:\n%s", err, file)
			}
			got := settingValue(cfg, tt.key)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.key, got, tt.want)
			}
			src := cfg.Source(tt.key)
			if src.Kind != tt.wantKind {
				t.Errorf("source = %v, want kind %s", src, tt.wantKind)
			}
			switch tt.wantKind {
			case SourceFile:
				if src.Name != path || src.Line != tt.wantLine {
					t.Errorf("source = %v, want %s:%d", src, path, tt.wantLine)
				}
				if wantSection := tt.layers.section != ""; (src.Section == "profiles.local") != wantSection {
					t.Errorf("source section = %q, want section set: %v", src.Section, wantSection)
				}
			case SourceEnv:
				if src.Name != EnvVar(tt.key) {
					t.Errorf("source = %v, want %s", src, EnvVar(tt.key))
				}
			case SourceFlag:
				if src.Name != "--"+tt.key {
					t.Errorf("source = %v, want --%s", src, tt.key)
				}
			}
		})
	}
}

func plain(v string) string { return " " + v }

// labelsYAML writes "k=v,k2=v2" as a YAML block mapping on the following lines.
func labelsYAML(v string) string {
	l, err := parseLabels(v)
	if err != nil {
		panic(err)
	}
	out := ""
	for _, k := range sortedKeys(l) {
		out += "\n  " + k + ": " + l[k]
	}
	return out
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	if out == nil {
		out = []string{"none"}
	}
	return out
}

func settingValue(c *Config, key string) any {
	switch key {
	case KeyMaxStores:
		return c.MaxStores
	case KeyTimeout:
		return c.Timeout
	case KeyIngressControllerLabels:
		return c.IngressControllerLabels
	}
	return c.value(key)
}

func TestProfileSelection(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		env       string
		args      []string
		want      string
		wantClass string
		wantKind  string
	}{
		{"default", "", "", nil, "local", "nginx", SourceDefault},
		{"file", "profile: prod\ndomain: a.test\n", "", nil, "prod", "traefik", SourceFile},
		{"env beats file", "profile: prod\ndomain: a.test\n", "local", nil, "local", "nginx", SourceEnv},
		{"flag beats env", "domain: a.test\n", "local", []string{"--profile=prod"}, "prod", "traefik", SourceFlag},
		// The section of the active profile applies; the other one is ignored.
		{"sections", "profile: prod\nprofiles:\n  local: {ingress-class: lc}\n  prod: {ingress-class: pc, domain: p.test}\n", "", nil, "prod", "pc", SourceFile},
		{"sections, local", "profiles:\n  local: {ingress-class: lc}\n  prod: {ingress-class: pc}\n", "", nil, "local", "lc", SourceDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := isolate(t)
			if tt.file != "" {
				e.writeConfig(t, tt.file)
			}
			if tt.env != "" {
				t.Setenv(EnvVar(KeyProfile), tt.env)
			}
			cfg, err := Load(LoadOptions{Flags: cliFlags(t, tt.args...)})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Profile != tt.want || cfg.IngressClass != tt.wantClass {
				t.Errorf("profile %q, ingress class %q; want %q, %q", cfg.Profile, cfg.IngressClass, tt.want, tt.wantClass)
			}
			if k := cfg.Source(KeyProfile).Kind; k != tt.wantKind {
				t.Errorf("profile source %s, want %s", k, tt.wantKind)
			}
		})
	}
}

func TestUnknownProfile(t *testing.T) {
	isolate(t)
	t.Setenv(EnvVar(KeyProfile), "staging")
	cfg, err := Load(LoadOptions{Flags: cliFlags(t)})
	if cfg != nil || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Load = %v, %v; want ErrInvalidConfig", cfg, err)
	}
	for _, want := range []string{"profile", `"staging"`, "env STORECTL_PROFILE", "allowed: local, prod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string // fragments of the error
	}{
		{"pull policy case", map[string]string{"STORECTL_IMAGE_PULL_POLICY": "always"}, nil,
			[]string{`image-pull-policy "always"`, "env STORECTL_IMAGE_PULL_POLICY", "write Always", "allowed: Always, IfNotPresent, Never"}},
		{"pull policy unknown", nil, []string{"--image-pull-policy=Sometimes"},
			[]string{`image-pull-policy "Sometimes"`, "flag --image-pull-policy", "allowed: Always, IfNotPresent, Never"}},
		{"negative max stores", nil, []string{"--max-stores=-1"},
			[]string{`max-stores "-1"`, "flag --max-stores", "at least 1"}},
		{"zero max stores", map[string]string{"STORECTL_MAX_STORES": "0"}, nil, []string{`max-stores "0"`, "at least 1"}},
		{"max stores not a number", map[string]string{"STORECTL_MAX_STORES": "ten"}, nil,
			[]string{`max-stores "ten"`, "env STORECTL_MAX_STORES", "whole number"}},
		{"timeout without unit", map[string]string{"STORECTL_TIMEOUT": "600"}, nil,
			[]string{`timeout "600"`, "env STORECTL_TIMEOUT", "10m"}},
		{"negative timeout", nil, []string{"--timeout=-5s"}, []string{"timeout", "longer than zero"}},
		{"domain with scheme", nil, []string{"--domain=https://shop.example.com"}, []string{`domain "https://shop.example.com"`, "without a scheme"}},
		{"domain uppercase", nil, []string{"--domain=Shop.Example.com"}, []string{"lowercase (shop.example.com)"}},
		{"domain underscore", nil, []string{"--domain=my_shop.example.com"}, []string{"DNS domain"}},
		{"domain trailing dot", nil, []string{"--domain=example.com."}, []string{"must not end with a dot"}},
		{"domain with port", nil, []string{"--domain=example.com:8080"}, []string{"without a path or port"}},
		{"domain too long", nil, []string{"--domain=" + strings.Repeat("a.", 110) + "com"}, []string{"at most 212 characters"}},
		{"domain label too long", nil, []string{"--domain=" + strings.Repeat("a", 64) + ".com"}, []string{"longer than 63"}},
		{"namespace", nil, []string{"--ingress-controller-namespace=Kube_System"}, []string{"ingress-controller-namespace", "namespace name"}},
		{"labels", map[string]string{"STORECTL_INGRESS_CONTROLLER_LABELS": "app=traefik,bad key=x"}, nil,
			[]string{"ingress-controller-labels", "label name"}},
		{"labels malformed", map[string]string{"STORECTL_INGRESS_CONTROLLER_LABELS": "traefik"}, nil,
			[]string{"ingress-controller-labels", "key=value"}},
		{"issuer", nil, []string{"--tls-cluster-issuer=Lets Encrypt"}, []string{"tls-cluster-issuer", "ClusterIssuer name"}},
		{"storage class", nil, []string{"--storage-class=fast/ssd"}, []string{"storage-class", "StorageClass name"}},
		{"ingress class", nil, []string{"--ingress-class=Nginx"}, []string{"ingress-class", "IngressClass name"}},
		{"several at once", map[string]string{"STORECTL_MAX_STORES": "-3"}, []string{"--image-pull-policy=x"},
			[]string{"max-stores", "image-pull-policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load(LoadOptions{Flags: cliFlags(t, tt.args...)})
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Load error = %v, want ErrInvalidConfig", err)
			}
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Errorf("error %v is not a *ValueError", err)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestValidateHandBuiltConfig(t *testing.T) {
	t.Parallel()
	good := Config{Profile: "local", Domain: "x.test", IngressClass: "nginx", IngressControllerNamespace: "ingress-nginx",
		IngressControllerLabels: map[string]string{"app": "x"}, MaxStores: 1, ImagePullPolicy: "Never",
		Timeout: time.Second, UnschedulableGrace: time.Second, AuditPath: "/tmp/a.db"}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	bad := good
	bad.IngressControllerLabels = nil
	bad.AuditPath = " "
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"ingress-controller-labels", "audit-path"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "(from") {
		t.Errorf("a hand-built config has no sources, yet the error names one: %q", err)
	}
}

func TestInvalidConfigFile(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantLine int
		wants    []string
	}{
		{"yaml syntax", "domain: a.test\ncontext: c\n  e: f\n", 3, []string{"not valid YAML", "mapping values are not allowed"}},
		{"unterminated quote", "domain: 'a.test\n", 2, []string{"not valid YAML"}},
		{"tab indentation", "profiles:\n\tlocal: {}\n", 2, []string{"not valid YAML"}},
		{"unknown key with suggestion", "# c\ndomian: a.test\n", 2, []string{`unknown key "domian"`, `(did you mean "domain"?)`, "allowed keys:"}},
		{"unknown key in section", "profiles:\n  prod:\n    colour: blue\n", 3, []string{`unknown key "profiles.prod.colour"`}},
		{"merge key", "profiles:\n  prod:\n    <<: {domain: a.test}\n", 3, []string{"merge keys are not supported"}},
		{"profile in a section", "profiles:\n  prod:\n    profile: local\n", 3, []string{"cannot be set inside a profile section"}},
		{"unknown profile section", "profiles:\n  staging: {}\n", 2, []string{`unknown profile "staging"`, "allowed: local, prod"}},
		{"int as string", "max-stores: \"ten\"\n", 1, []string{"max-stores must be a whole number", `"ten"`}},
		{"int as float", "max-stores: 2.5\n", 1, []string{"max-stores must be a whole number"}},
		{"duration as number", "timeout: 600\n", 1, []string{"timeout must be a duration", "write 600s or 600m"}},
		{"duration malformed", "\ntimeout: soon\n", 2, []string{"timeout must be a duration", `"soon"`}},
		{"string as list", "domain:\n  - a\n  - b\n", 2, []string{"domain must be a string, not a list"}},
		{"labels as string", "ingress-controller-labels: app=x\n", 1, []string{"ingress-controller-labels must be a mapping"}},
		{"label value a mapping", "ingress-controller-labels:\n  app:\n    x: y\n", 3, []string{`label "app"`}},
		{"repeated key", "domain: a.test\ncontext: c\ndomain: b.test\n", 3, []string{`key "domain" is repeated (first at line 1)`}},
		{"two documents", "domain: a.test\n---\ndomain: b.test\n", 2, []string{"more than one YAML document"}},
		{"top level list", "- domain\n", 1, []string{"must be a mapping of settings"}},
		{"profiles a list", "profiles: [local]\n", 1, []string{"profiles must map profile names"}},
		{"valid file, invalid value", "image-pull-policy: Sometimes\n", 1, []string{`image-pull-policy "Sometimes"`, "config.yaml:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := isolate(t)
			path := e.writeConfig(t, tt.content)
			_, err := Load(LoadOptions{Flags: cliFlags(t)})
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Load error = %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
			var fe *FileError
			var ve *ValueError
			switch {
			case errors.As(err, &fe):
				if fe.Line != tt.wantLine {
					t.Errorf("line %d, want %d (error %q)", fe.Line, tt.wantLine, err)
				}
			case errors.As(err, &ve):
				if ve.Source.Line != tt.wantLine {
					t.Errorf("line %d, want %d (error %q)", ve.Source.Line, tt.wantLine, err)
				}
			default:
				t.Errorf("error %v is neither a FileError nor a ValueError", err)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestEmptyConfigFiles(t *testing.T) {
	for name, content := range map[string]string{
		"empty": "", "comments only": "# nothing yet\n", "null document": "~\n",
		"empty sections": "profiles:\n  local:\n  prod: {}\n", "null values": "domain:\nmax-stores: ~\n",
		"trailing separator": "context: c\n---\n",
	} {
		t.Run(name, func(t *testing.T) {
			e := isolate(t)
			e.writeConfig(t, content)
			cfg, err := Load(LoadOptions{Flags: cliFlags(t)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Domain != "127.0.0.1.nip.io" || cfg.MaxStores != 10 {
				t.Errorf("domain %q, max stores %d: the empty file changed the local profile", cfg.Domain, cfg.MaxStores)
			}
		})
	}
}

func TestConfigFileLocation(t *testing.T) {
	t.Run("explicit path", func(t *testing.T) {
		e := isolate(t)
		e.writeConfig(t, "domain: default-location.test\n")
		other := filepath.Join(t.TempDir(), "other.yaml")
		if err := os.WriteFile(other, []byte("domain: explicit.test\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(LoadOptions{ConfigPath: other})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Domain != "explicit.test" || cfg.File != other {
			t.Errorf("domain %q from %q, want explicit.test from %s", cfg.Domain, cfg.File, other)
		}
	})
	t.Run("config flag and env", func(t *testing.T) {
		isolate(t)
		dir := t.TempDir()
		fromEnv, fromFlag := filepath.Join(dir, "env.yaml"), filepath.Join(dir, "flag.yaml")
		_ = os.WriteFile(fromEnv, []byte("domain: env-file.test\n"), 0o600)
		_ = os.WriteFile(fromFlag, []byte("domain: flag-file.test\n"), 0o600)
		t.Setenv(EnvConfig, fromEnv)
		cfg, err := Load(LoadOptions{Flags: cliFlags(t)})
		if err != nil || cfg.Domain != "env-file.test" {
			t.Fatalf("with %s: %v, %v", EnvConfig, cfg, err)
		}
		cfg, err = Load(LoadOptions{Flags: cliFlags(t, "--config", fromFlag)})
		if err != nil || cfg.Domain != "flag-file.test" {
			t.Fatalf("with --config: %v, %v", cfg, err)
		}
	})
	t.Run("explicit path missing", func(t *testing.T) {
		isolate(t)
		missing := filepath.Join(t.TempDir(), "nope.yaml")
		_, err := Load(LoadOptions{ConfigPath: missing})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Load error = %v, want ErrInvalidConfig naming %s", err, missing)
		}
	})
	t.Run("default path missing is fine", func(t *testing.T) {
		isolate(t)
		cfg, err := Load(LoadOptions{})
		if err != nil || cfg.File != "" {
			t.Errorf("Load = %+v, %v; want the built-in settings and no file", cfg, err)
		}
	})
	t.Run("home fallback", func(t *testing.T) {
		e := isolate(t)
		t.Setenv("XDG_CONFIG_HOME", "")
		want := filepath.Join(e.home, ".config", "storectl", "config.yaml")
		if got := DefaultFilePath(); got != want {
			t.Errorf("DefaultFilePath() = %q, want %q", got, want)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		isolate(t)
		dir := t.TempDir() // a directory where a file is expected
		_, err := Load(LoadOptions{ConfigPath: dir})
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("Load error = %v, want one naming %s", err, dir)
		}
	})
}

func TestPaths(t *testing.T) {
	e := isolate(t)
	path := e.writeConfig(t, "audit-path: logs/audit.db\nkubeconfig: ~/clusters/k3s.yaml\n")
	cfg, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "logs", "audit.db"); cfg.AuditPath != want {
		t.Errorf("audit path %q, want %q (relative to the config file)", cfg.AuditPath, want)
	}
	if want := filepath.Join(e.home, "clusters", "k3s.yaml"); cfg.Kubeconfig != want {
		t.Errorf("kubeconfig %q, want %q", cfg.Kubeconfig, want)
	}
	t.Setenv(EnvVar(KeyAuditPath), "relative.db")
	cfg, err = Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuditPath != "relative.db" {
		t.Errorf("audit path from the environment %q, want it as given", cfg.AuditPath)
	}
}

func TestSettingsExport(t *testing.T) {
	e := isolate(t)
	path := e.writeConfig(t, "storage-class: fast\n")
	t.Setenv(EnvVar(KeyContext), "sandbox")
	cfg, err := Load(LoadOptions{Flags: cliFlags(t, "--max-stores=7")})
	if err != nil {
		t.Fatal(err)
	}
	settings := cfg.Settings()
	if len(settings) != len(Keys()) {
		t.Fatalf("%d settings, want %d", len(settings), len(Keys()))
	}
	byKey := map[string]Setting{}
	for i, s := range settings {
		if s.Key != Keys()[i] {
			t.Errorf("setting %d is %s, want %s", i, s.Key, Keys()[i])
		}
		if s.Source.Kind == "" {
			t.Errorf("%s has no source", s.Key)
		}
		byKey[s.Key] = s
	}
	checks := []struct {
		key, source string
		value       any
	}{
		{KeyStorageClass, "file " + path + ":1", "fast"},
		{KeyContext, "env STORECTL_CONTEXT", "sandbox"},
		{KeyMaxStores, "flag --max-stores", 7},
		{KeyDomain, "profile local", "127.0.0.1.nip.io"},
		{KeyTimeout, "default", "10m0s"},
	}
	for _, c := range checks {
		s := byKey[c.key]
		if s.Source.String() != c.source || !reflect.DeepEqual(s.Value, c.value) {
			t.Errorf("%s = %#v from %q, want %#v from %q", c.key, s.Value, s.Source, c.value, c.source)
		}
	}
	out, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `{"key":"max-stores","value":7,"source":{"kind":"flag","name":"--max-stores"}}`) {
		t.Errorf("JSON export lacks the max-stores setting: %s", out)
	}
}

func TestProfileAccessor(t *testing.T) {
	t.Parallel()
	if got := ProfileNames(); !reflect.DeepEqual(got, []string{"local", "prod"}) {
		t.Errorf("ProfileNames() = %v", got)
	}
	prod, ok := Profile("prod")
	if !ok || prod[KeyIngressClass] != "traefik" || prod[KeyDomain] != "" || prod[KeyTimeout] != "10m0s" || prod[KeyProfile] != "prod" {
		t.Errorf("Profile(prod) = %v, %v", prod, ok)
	}
	// The returned map is a copy.
	prod[KeyIngressControllerLabels].(map[string]string)["x"] = "y"
	again, _ := Profile("prod")
	if len(again[KeyIngressControllerLabels].(map[string]string)) != 1 {
		t.Error("Profile returns the built-in map itself")
	}
	if _, ok := Profile("staging"); ok {
		t.Error("Profile(staging) reports a profile")
	}
}

func TestEnvVar(t *testing.T) {
	t.Parallel()
	if got := EnvVar(KeyIngressControllerNamespace); got != "STORECTL_INGRESS_CONTROLLER_NAMESPACE" {
		t.Errorf("EnvVar = %q", got)
	}
}

// The CLI may declare the labels flag as a plain string ("k=v,k=v") rather than a map flag.
func TestLabelsFromStringFlag(t *testing.T) {
	isolate(t)
	fs := pflag.NewFlagSet("create", pflag.ContinueOnError)
	fs.String(KeyIngressControllerLabels, "", "")
	if err := fs.Parse([]string{"--ingress-controller-labels=app.kubernetes.io/name=traefik,app.kubernetes.io/instance=edge"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "edge"}
	if !reflect.DeepEqual(cfg.IngressControllerLabels, want) || cfg.Source(KeyIngressControllerLabels).Kind != SourceFlag {
		t.Errorf("labels %v from %v, want %v from the flag", cfg.IngressControllerLabels, cfg.Source(KeyIngressControllerLabels), want)
	}
}

// The isolation values an operator opens to users come from the file or the environment, and
// only the isolation groups can be named.
func TestTenantIsolationOverrides(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", len(content)))
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("file", func(t *testing.T) {
		isolate(t)
		cfg, err := Load(LoadOptions{ConfigPath: write("tenant-isolation-overrides: [quota, limitRange]\n")})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg.TenantIsolationOverrides, []string{"quota", "limitRange"}) {
			t.Errorf("overrides = %v", cfg.TenantIsolationOverrides)
		}
		if s := cfg.Source(KeyTenantIsolationOverrides); s.Kind != SourceFile || s.Line != 1 {
			t.Errorf("source = %v", s)
		}
	})
	t.Run("env", func(t *testing.T) {
		isolate(t)
		t.Setenv(EnvVar(KeyTenantIsolationOverrides), "networkPolicy, quota")
		cfg, err := Load(LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg.TenantIsolationOverrides, []string{"networkPolicy", "quota"}) {
			t.Errorf("overrides = %v", cfg.TenantIsolationOverrides)
		}
	})
	t.Run("default is none", func(t *testing.T) {
		isolate(t)
		cfg, err := Load(LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.TenantIsolationOverrides) != 0 {
			t.Errorf("overrides = %v, want none", cfg.TenantIsolationOverrides)
		}
	})
	for _, tt := range []struct{ what, file, want string }{
		{"identity", "tenant-isolation-overrides: [store.name]\n", `invalid tenant-isolation-overrides "store.name"`},
		{"credentials", "tenant-isolation-overrides: [credentials]\n", "is not an isolation value"},
		{"part of a group", "tenant-isolation-overrides: [quota.hard]\n", "allowed: limitRange, networkPolicy, quota"},
		{"a boolean", "tenant-isolation-overrides: true\n", "must be a list"},
		{"a list of lists", "tenant-isolation-overrides: [[quota]]\n", "plain names"},
	} {
		t.Run(tt.what, func(t *testing.T) {
			isolate(t)
			_, err := Load(LoadOptions{ConfigPath: write(tt.file)})
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalidConfig with %q", err, tt.want)
			}
		})
	}
}

// A config file that never ends, or is too large, is refused without reading it all.
func TestConfigFileSizeLimit(t *testing.T) {
	isolate(t)
	for _, path := range []string{"/dev/zero", writeLarge(t)} {
		_, err := Load(LoadOptions{ConfigPath: path})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "larger than 1 MiB") {
			t.Errorf("%s: err = %v", path, err)
		}
	}
}

func writeLarge(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte("# "+strings.Repeat("x", 1<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
