// Package config resolves storectl's settings from flags, environment, config file and profile.
package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/storectl/storectl/pkg/input"
)

// Keys of the settings. Each is also the name of the flag bound to it, the key in the config
// file and, upper-cased with "-" turned into "_" behind EnvPrefix, its environment variable.
const (
	KeyProfile                    = "profile"
	KeyDomain                     = "domain"
	KeyIngressClass               = "ingress-class"
	KeyIngressControllerNamespace = "ingress-controller-namespace"
	KeyIngressControllerLabels    = "ingress-controller-labels"
	KeyTLSClusterIssuer           = "tls-cluster-issuer"
	KeyStorageClass               = "storage-class"
	KeyMaxStores                  = "max-stores"
	KeyImagePullPolicy            = "image-pull-policy"
	KeyTimeout                    = "timeout"
	KeyUnschedulableGrace         = "unschedulable-grace"
	KeyAuditPath                  = "audit-path"
	KeyKubeconfig                 = "kubeconfig"
	KeyContext                    = "context"
	// KeyTenantIsolationOverrides has no flag: only the operator's configuration (file or
	// environment) opens isolation values to users, never a command line that also carries
	// those users' values.
	KeyTenantIsolationOverrides = "tenant-isolation-overrides"
)

// EnvPrefix starts the name of every environment variable storectl reads its settings from.
const EnvPrefix = "STORECTL_"

// EnvConfig names the environment variable that points at a config file when --config is not given.
const EnvConfig = EnvPrefix + "CONFIG"

// FlagConfig is the name of the flag that points at a config file.
const FlagConfig = "config"

// ErrInvalidConfig is wrapped by every error about a setting's value or the config file.
var ErrInvalidConfig = errors.New("invalid configuration")

type kind int

const (
	kindString kind = iota
	kindInt
	kindDuration
	kindLabels
	kindList
)

// Keys returns the names of all settings in display order.
func Keys() []string {
	out := make([]string, len(definitions))
	for i, d := range definitions {
		out[i] = d.Key
	}
	return out
}

// EnvVar returns the environment variable that sets key, for example STORECTL_MAX_STORES.
func EnvVar(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// Config holds the effective settings. Load fills it; a Config built by hand is also valid
// input to Validate, with sources then unknown.
type Config struct {
	// Profile is the built-in profile the settings started from: "local" or "prod".
	Profile string
	// Domain is the parent domain of store host names: a store "shop" is served at shop.<Domain>.
	Domain string
	// IngressClass is the IngressClass of every store's Ingress.
	IngressClass string
	// IngressControllerNamespace is where the ingress controller runs; store network policies admit it.
	IngressControllerNamespace string
	// IngressControllerLabels select the ingress controller's pods in that namespace.
	IngressControllerLabels map[string]string
	// TLSClusterIssuer is the cert-manager ClusterIssuer for store certificates; empty means no TLS.
	TLSClusterIssuer string
	// StorageClass is the StorageClass of store volumes; empty means the cluster default.
	StorageClass string
	// MaxStores is the largest number of stores storectl creates in a cluster.
	MaxStores int
	// ImagePullPolicy is applied to every container of a store: Always, IfNotPresent or Never.
	ImagePullPolicy string
	// Timeout is the default for commands that wait.
	Timeout time.Duration
	// UnschedulableGrace is how long a store's pod may fit no node before the wait fails,
	// unless the cluster is adding a node for it.
	UnschedulableGrace time.Duration
	// AuditPath is the audit log file.
	AuditPath string
	// Kubeconfig is the kubeconfig file; empty means the usual client rules ($KUBECONFIG, ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current context.
	Context string
	// TenantIsolationOverrides are the isolation chart values (quota, limitRange,
	// networkPolicy) that users may set in --set and --values; empty means none.
	TenantIsolationOverrides []string

	// File is the config file that was read, or empty when there was none.
	File string

	sources map[string]Source

	// domainOptional is LoadOptions.DomainOptional.
	domainOptional bool
}

// TLS reports whether stores get a certificate.
func (c *Config) TLS() bool { return c.TLSClusterIssuer != "" }

// Source kinds, from the lowest precedence to the highest.
const (
	SourceDefault = "default"
	SourceProfile = "profile"
	SourceFile    = "file"
	SourceEnv     = "env"
	SourceFlag    = "flag"
)

// Source says where a setting's value came from.
type Source struct {
	// Kind is one of SourceDefault, SourceProfile, SourceFile, SourceEnv or SourceFlag.
	Kind string `json:"kind"`
	// Name is the profile name, the file path, the environment variable or the flag (--name).
	Name string `json:"name,omitempty"`
	// Line is the line in the config file, when Kind is SourceFile.
	Line int `json:"line,omitempty"`
	// Section is "profiles.<name>" when the value came from a profile section of the file.
	Section string `json:"section,omitempty"`
}

// String renders the source for messages: "flag --domain", "env STORECTL_DOMAIN",
// "file /home/me/.config/storectl/config.yaml:4 (profiles.prod)", "profile local", "default".
func (s Source) String() string {
	switch s.Kind {
	case "":
		return "unknown source"
	case SourceDefault:
		return SourceDefault
	case SourceFile:
		out := "file " + s.Name
		if s.Line > 0 {
			out += ":" + strconv.Itoa(s.Line)
		}
		if s.Section != "" {
			out += " (" + s.Section + ")"
		}
		return out
	default:
		return s.Kind + " " + s.Name
	}
}

// Setting is one effective value and where it came from, as `storectl config view` shows it.
type Setting struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`
	Source Source `json:"source"`
}

// Source returns where the value of key came from.
func (c *Config) Source(key string) Source { return c.sources[key] }

// Settings returns every setting with its value and source, in display order. Durations are
// rendered as strings ("10m0s"), labels as a map.
func (c *Config) Settings() []Setting {
	out := make([]Setting, 0, len(definitions))
	for _, d := range definitions {
		out = append(out, Setting{Key: d.Key, Value: c.value(d.Key), Source: c.sources[d.Key]})
	}
	return out
}

// LoadOptions tells Load where to look.
type LoadOptions struct {
	// ConfigPath is an explicit config file (from --config). When empty, the flag named
	// FlagConfig in Flags, then $STORECTL_CONFIG, then the default path are used. An explicit
	// file must exist; the default one may be absent.
	ConfigPath string
	// Flags are the command's flags. A flag whose name is a setting key overrides every other
	// source when the user set it; its default value is ignored, so flags should default to
	// the zero value and let the configuration decide.
	Flags *pflag.FlagSet
	// DomainOptional lets a missing domain pass: commands that only read stores (list, get,
	// wait, delete) take the host names from the stores' Ingresses, and need no domain.
	DomainOptional bool
}

// DefaultFilePath returns $XDG_CONFIG_HOME/storectl/config.yaml, or ~/.config/storectl/config.yaml.
func DefaultFilePath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "storectl", "config.yaml")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".config", "storectl", "config.yaml")
}

// Load resolves the settings. Precedence, highest first: flags the user set, STORECTL_*
// environment variables, the active profile's section of the config file, the top level of
// the config file, the built-in profile, built-in defaults. Empty environment variables count
// as unset.
//
// Every error wraps ErrInvalidConfig except a failure to read an existing file. When only the
// values are invalid, Load returns the resolved Config along with the error so that callers
// can still show it.
//
//nolint:funlen // the layers in precedence order, read top to bottom
func Load(opts LoadOptions) (*Config, error) {
	path, explicit, how := configPath(opts)
	var file *fileLayer
	if data, err := input.ReadFile(path, "config file", input.MaxConfigFile); err == nil {
		if file, err = parseFile(data, path); err != nil {
			return nil, err
		}
	} else if errors.Is(err, input.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	} else if !errors.Is(err, os.ErrNotExist) || explicit {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: config file %s (from %s) does not exist", ErrInvalidConfig, path, how)
		}
		return nil, fmt.Errorf("read config file %s: %w", path, err)
	}
	if file == nil {
		file = &fileLayer{}
	}

	v := viper.New()
	v.SetEnvPrefix(strings.TrimSuffix(EnvPrefix, "_"))
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if opts.Flags != nil {
		for _, d := range definitions {
			if f := opts.Flags.Lookup(d.Key); f != nil {
				if err := v.BindPFlag(d.Key, f); err != nil {
					return nil, fmt.Errorf("bind flag --%s: %w", d.Key, err)
				}
			}
		}
	}
	if err := v.MergeConfigMap(viperMap(file.top)); err != nil {
		return nil, fmt.Errorf("merge config file %s: %w", path, err)
	}
	base := defaults()
	for k, val := range base {
		v.SetDefault(k, canonical(val))
	}

	// The profile decides the lower layers and the file section, so it is resolved first,
	// from the layers above them.
	src := func(key string) Source { return sourceOf(key, opts.Flags, file, nil, "") }
	profileSrc := src(KeyProfile)
	profile, err := toString(v.Get(KeyProfile), KeyProfile, profileSrc)
	if err != nil {
		return nil, err
	}
	builtin, ok := profiles[profile]
	if !ok {
		return nil, &ValueError{Key: KeyProfile, Value: profile, Source: profileSrc,
			Msg: "is not a profile; allowed: " + strings.Join(ProfileNames(), ", ")}
	}
	for k, val := range builtin {
		v.SetDefault(k, canonical(val))
	}
	if err := v.MergeConfigMap(viperMap(file.profiles[profile])); err != nil {
		return nil, fmt.Errorf("merge config file %s: %w", path, err)
	}

	cfg := &Config{sources: map[string]Source{}, domainOptional: opts.DomainOptional}
	if file.path != "" {
		cfg.File = file.path
	}
	var errs []error
	for _, d := range definitions {
		s := sourceOf(d.Key, opts.Flags, file, builtin, profile)
		cfg.sources[d.Key] = s
		if err := cfg.set(d, v.Get(d.Key), s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cfg.AuditPath = resolvePath(cfg.AuditPath, cfg.sources[KeyAuditPath])
	cfg.Kubeconfig = resolvePath(cfg.Kubeconfig, cfg.sources[KeyKubeconfig])
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// configPath picks the config file and says whether the user named it, and how.
func configPath(opts LoadOptions) (path string, explicit bool, how string) {
	if opts.ConfigPath != "" {
		return expandHome(opts.ConfigPath), true, "--" + FlagConfig
	}
	if opts.Flags != nil {
		if f := opts.Flags.Lookup(FlagConfig); f != nil && f.Changed && f.Value.String() != "" {
			return expandHome(f.Value.String()), true, "--" + FlagConfig
		}
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return expandHome(p), true, EnvConfig
	}
	return DefaultFilePath(), false, "the default location"
}

// sourceOf mirrors viper's lookup order so that the reported source is the layer viper took
// the value from. builtin may be nil before the profile is known.
func sourceOf(key string, flags *pflag.FlagSet, file *fileLayer, builtin map[string]any, profile string) Source {
	if flags != nil {
		if f := flags.Lookup(key); f != nil && f.Changed {
			return Source{Kind: SourceFlag, Name: "--" + key}
		}
	}
	if val, ok := os.LookupEnv(EnvVar(key)); ok && val != "" {
		return Source{Kind: SourceEnv, Name: EnvVar(key)}
	}
	if fv, ok := file.profiles[profile][key]; ok && profile != "" {
		return Source{Kind: SourceFile, Name: file.path, Line: fv.line, Section: "profiles." + profile}
	}
	if fv, ok := file.top[key]; ok {
		return Source{Kind: SourceFile, Name: file.path, Line: fv.line}
	}
	if _, ok := builtin[key]; ok {
		return Source{Kind: SourceProfile, Name: profile}
	}
	return Source{Kind: SourceDefault}
}

// canonical turns a typed value into the form stored in viper. Labels become "k=v,k=v":
// viper lower-cases the keys of nested maps, and label keys are case-sensitive.
func canonical(val any) any {
	switch x := val.(type) {
	case map[string]string:
		return formatLabels(x)
	case time.Duration:
		return x.String()
	case []string:
		return strings.Join(x, ",")
	}
	return val
}

func viperMap(layer map[string]fileValue) map[string]any {
	out := make(map[string]any, len(layer))
	for k, fv := range layer {
		out[k] = canonical(fv.value)
	}
	return out
}

func toString(raw any, key string, src Source) (string, error) {
	switch x := raw.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	case int, int64, bool, float64:
		return fmt.Sprint(x), nil
	}
	return "", &ValueError{Key: key, Value: fmt.Sprint(raw), Source: src, Msg: "must be a string"}
}

func toInt(raw any, key string, src Source) (int, error) {
	switch x := raw.(type) {
	case int:
		return x, nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, &ValueError{Key: key, Value: x, Source: src, Msg: "must be a whole number"}
		}
		return n, nil
	}
	return 0, &ValueError{Key: key, Value: fmt.Sprint(raw), Source: src, Msg: "must be a whole number"}
}

func toDuration(raw any, key string, src Source) (time.Duration, error) {
	switch x := raw.(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, &ValueError{Key: key, Value: x, Source: src, Msg: "must be a duration such as 90s, 10m or 1h30m"}
		}
		return d, nil
	}
	return 0, &ValueError{Key: key, Value: fmt.Sprint(raw), Source: src, Msg: "must be a duration such as 90s, 10m or 1h30m"}
}

func toLabels(raw any, key string, src Source) (map[string]string, error) {
	switch x := raw.(type) {
	case map[string]any: // a stringToString flag, as viper reads it
		out := make(map[string]string, len(x))
		for k, v := range x {
			out[k] = fmt.Sprint(v)
		}
		return out, nil
	case string:
		l, err := parseLabels(x)
		if err != nil {
			return nil, &ValueError{Key: key, Value: x, Source: src, Msg: err.Error()}
		}
		return l, nil
	case nil:
		return map[string]string{}, nil
	}
	return nil, &ValueError{Key: key, Value: fmt.Sprint(raw), Source: src, Msg: "must be labels written as key=value,key=value"}
}

// toList reads a list written "a,b" (flags, environment, and the canonical form of the file's
// YAML list); an empty string is an empty list.
func toList(raw any, key string, src Source) ([]string, error) {
	switch x := raw.(type) {
	case string:
		out := []string{}
		for item := range strings.SplitSeq(x, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
		return out, nil
	case []string:
		return slices.Clone(x), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			out = append(out, fmt.Sprint(item))
		}
		return out, nil
	case nil:
		return []string{}, nil
	}
	return nil, &ValueError{Key: key, Value: fmt.Sprint(raw), Source: src, Msg: "must be a list written a,b"}
}

// parseLabels reads "k=v,k2=v2" (the form of flags and environment variables); an empty
// string is no labels.
func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("must be labels written as key=value,key=value (got %q)", pair)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("sets label %q twice", k)
		}
		out[k] = v
	}
	return out, nil
}

func formatLabels(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

// resolvePath expands ~ and makes a path from the config file relative to that file's directory.
func resolvePath(p string, src Source) string {
	if p == "" {
		return p
	}
	p = expandHome(p)
	if src.Kind == SourceFile && !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(src.Name), p)
	}
	return p
}

func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}
