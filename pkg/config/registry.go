package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/tenancy"
)

// FlagScope says which commands carry a setting's flag.
type FlagScope int

// Flag scopes.
const (
	// FlagNone: the setting comes from the environment or the config file only.
	FlagNone FlagScope = iota
	// FlagGlobal: every command has the flag.
	FlagGlobal
	// FlagStore: the commands that make or change stores have the flag.
	FlagStore
	// FlagCommand: each command that waits binds the flag itself, with its own help.
	FlagCommand
)

// Definition declares one setting; everything storectl knows of it is here, and the flags,
// the config file, the environment, the profiles, validation, docs and the chart values
// all read it. The key is also the flag's name and the config file's key; the environment
// variable is EnvVar(key).
type Definition struct {
	Key   string
	Usage string
	Flag  FlagScope
	// Default is the built-in value (a func() any when it depends on the environment);
	// Profiles what each built-in profile sets over it.
	Default  any
	Profiles map[string]any
	// Chart is the chart value the setting becomes, "" when it is not one.
	Chart string
	// Complete are the flag's fixed completions.
	Complete []string

	kind  kind
	field func(c *Config) any // a pointer to the Config field
	// check reports each problem of the value through bad.
	check func(c *Config, bad func(value, msg string))
}

// Definitions returns every setting in display order.
func Definitions() []Definition { return slices.Clone(definitions) }

// Lookup returns the definition of key.
func Lookup(key string) (Definition, bool) {
	for _, d := range definitions {
		if d.Key == key {
			return d, true
		}
	}
	return Definition{}, false
}

var definitions = []Definition{
	{Key: KeyProfile, kind: kindString, Flag: FlagGlobal, Default: ProfileLocal,
		Usage: "settings profile: local or prod (default local)", Complete: []string{ProfileLocal, ProfileProd},
		field: func(c *Config) any { return &c.Profile },
		check: func(c *Config, bad func(string, string)) {
			if !slices.Contains(ProfileNames(), c.Profile) {
				bad(c.Profile, "is not a profile; allowed: "+strings.Join(ProfileNames(), ", "))
			}
		}},
	{Key: KeyDomain, kind: kindString, Flag: FlagStore, Default: "", Chart: "store.domain",
		Profiles: map[string]any{ProfileLocal: "127.0.0.1.nip.io"},
		Usage:    "parent domain of the store's host name, <name>.<domain>",
		field:    func(c *Config) any { return &c.Domain },
		check: func(c *Config, bad func(string, string)) {
			if c.Domain != "" {
				if msg := checkDomain(c.Domain); msg != "" {
					bad(c.Domain, msg)
				}
			}
		}},
	{Key: KeyIngressClass, kind: kindString, Flag: FlagStore, Default: "", Chart: "ingress.className",
		Profiles: map[string]any{ProfileLocal: "nginx", ProfileProd: "traefik"},
		Usage:    "IngressClass of the store's Ingress",
		field:    func(c *Config) any { return &c.IngressClass },
		check: func(c *Config, bad func(string, string)) {
			if c.IngressClass == "" {
				bad(c.IngressClass, "must name an IngressClass of the cluster (kubectl get ingressclass)")
			} else if msgs := validation.IsDNS1123Subdomain(c.IngressClass); len(msgs) > 0 {
				bad(c.IngressClass, "must be an IngressClass name: "+strings.Join(msgs, "; "))
			}
		}},
	{Key: KeyIngressControllerNamespace, kind: kindString, Flag: FlagStore, Default: "", Chart: "ingress.controller.namespace",
		Profiles: map[string]any{ProfileLocal: "ingress-nginx", ProfileProd: "kube-system"},
		Usage:    "namespace of the ingress controller, admitted by the store's network policy",
		field:    func(c *Config) any { return &c.IngressControllerNamespace },
		check: func(c *Config, bad func(string, string)) {
			if c.IngressControllerNamespace == "" {
				bad("", "must name the namespace the ingress controller runs in, so store network policies can admit it")
			} else if msgs := validation.IsDNS1123Label(c.IngressControllerNamespace); len(msgs) > 0 {
				bad(c.IngressControllerNamespace, "must be a namespace name: "+strings.Join(msgs, "; "))
			}
		}},
	{Key: KeyIngressControllerLabels, kind: kindLabels, Flag: FlagStore, Default: map[string]string{}, Chart: "ingress.controller.podLabels",
		Profiles: map[string]any{
			ProfileLocal: map[string]string{"app.kubernetes.io/name": "ingress-nginx"},
			ProfileProd:  map[string]string{"app.kubernetes.io/name": "traefik"},
		},
		Usage: "labels of the ingress controller pods, k=v,k=v",
		field: func(c *Config) any { return &c.IngressControllerLabels },
		check: checkControllerLabels},
	{Key: KeyTLSClusterIssuer, kind: kindString, Flag: FlagStore, Default: "", Chart: "ingress.tls.clusterIssuer",
		Profiles: map[string]any{ProfileLocal: "", ProfileProd: "letsencrypt-prod"},
		Usage:    "cert-manager ClusterIssuer for the store's certificate (empty: no TLS)",
		field:    func(c *Config) any { return &c.TLSClusterIssuer },
		check: checkName(func(c *Config) string { return c.TLSClusterIssuer },
			"must be a ClusterIssuer name, or empty for no TLS: ")},
	{Key: KeyStorageClass, kind: kindString, Flag: FlagStore, Default: "", Chart: "persistence.storageClass",
		Usage: "StorageClass of the store's volumes (empty: cluster default)",
		field: func(c *Config) any { return &c.StorageClass },
		check: checkName(func(c *Config) string { return c.StorageClass },
			"must be a StorageClass name, or empty for the cluster default: ")},
	{Key: KeyMaxStores, kind: kindInt, Flag: FlagStore, Default: 0,
		Profiles: map[string]any{ProfileLocal: 10, ProfileProd: 50},
		Usage:    "refuse to create more than this many stores in the cluster",
		field:    func(c *Config) any { return &c.MaxStores },
		check: func(c *Config, bad func(string, string)) {
			if c.MaxStores < 1 {
				bad(fmt.Sprint(c.MaxStores), "must be at least 1")
			}
		}},
	{Key: KeyImagePullPolicy, kind: kindString, Flag: FlagStore, Default: "", Chart: "image.pullPolicy",
		Profiles: map[string]any{ProfileLocal: "IfNotPresent", ProfileProd: "Always"},
		Usage:    "image pull policy: Always, IfNotPresent or Never", Complete: pullPolicies,
		field: func(c *Config) any { return &c.ImagePullPolicy },
		check: checkPullPolicy},
	{Key: KeyTimeout, kind: kindDuration, Flag: FlagCommand, Default: 10 * time.Minute,
		Usage: "how long to wait (default: the timeout setting, 10m)",
		field: func(c *Config) any { return &c.Timeout },
		check: func(c *Config, bad func(string, string)) {
			if c.Timeout <= 0 {
				bad(c.Timeout.String(), "must be longer than zero, for example 10m")
			}
		}},
	{Key: KeyUnschedulableGrace, kind: kindDuration, Flag: FlagCommand, Default: 30 * time.Second,
		Usage: "how long a pod may fit no node before the wait fails, unless an autoscaler adds one (default: the unschedulable-grace setting, 30s)",
		field: func(c *Config) any { return &c.UnschedulableGrace },
		check: func(c *Config, bad func(string, string)) {
			if c.UnschedulableGrace <= 0 {
				bad(c.UnschedulableGrace.String(), "must be longer than zero, for example 30s")
			}
		}},
	{Key: KeyAuditPath, kind: kindString, Flag: FlagGlobal, Default: func() any { return audit.DefaultPath() },
		Usage: "audit log file (default: $XDG_STATE_HOME/storectl/audit.db)",
		field: func(c *Config) any { return &c.AuditPath },
		check: func(c *Config, bad func(string, string)) {
			if strings.TrimSpace(c.AuditPath) == "" {
				bad(c.AuditPath, "must be a file path; leave it unset for the default")
			}
		}},
	{Key: KeyKubeconfig, kind: kindString, Flag: FlagGlobal, Default: "",
		Usage: "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)",
		field: func(c *Config) any { return &c.Kubeconfig }},
	{Key: KeyContext, kind: kindString, Flag: FlagGlobal, Default: "",
		Usage: "kubeconfig context to use (default: the current context)",
		field: func(c *Config) any { return &c.Context }},
	{Key: KeyTenantIsolationOverrides, kind: kindList, Flag: FlagNone, Default: []string{},
		Usage: "isolation chart values users may set (quota, limitRange, networkPolicy)",
		field: func(c *Config) any { return &c.TenantIsolationOverrides },
		check: func(c *Config, bad func(string, string)) {
			open := tenancy.IsolationPaths()
			for _, o := range c.TenantIsolationOverrides {
				if !slices.Contains(open, o) {
					bad(o, "is not an isolation value an operator can open to users; allowed: "+strings.Join(open, ", ")+
						" (a store's identity, credentials, host name and settings are never the users')")
				}
			}
		}},
}

func checkName(get func(*Config) string, msg string) func(*Config, func(string, string)) {
	return func(c *Config, bad func(string, string)) {
		if v := get(c); v != "" {
			if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
				bad(v, msg+strings.Join(msgs, "; "))
			}
		}
	}
}

func checkControllerLabels(c *Config, bad func(string, string)) {
	if len(c.IngressControllerLabels) == 0 {
		bad("", "must select the ingress controller's pods (for example app.kubernetes.io/name=traefik); an empty selector would admit every pod of its namespace")
	}
	for _, k := range sortedKeys(c.IngressControllerLabels) {
		v := c.IngressControllerLabels[k]
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			bad(k+"="+v, "label name "+strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			bad(k+"="+v, "label value "+strings.Join(msgs, "; "))
		}
	}
}

func checkPullPolicy(c *Config, bad func(string, string)) {
	if slices.Contains(pullPolicies, c.ImagePullPolicy) {
		return
	}
	msg := "allowed: " + strings.Join(pullPolicies, ", ")
	for _, p := range pullPolicies {
		if strings.EqualFold(p, c.ImagePullPolicy) {
			msg = fmt.Sprintf("write %s (the case matters); %s", p, msg)
		}
	}
	bad(c.ImagePullPolicy, msg)
}

// defaults is the lowest layer; profiles lay over it.
func defaults() map[string]any {
	out := map[string]any{}
	for _, d := range definitions {
		out[d.Key] = cloneValue(d.Default)
	}
	return out
}

// profiles holds what each built-in profile sets over the defaults, from the definitions.
// The chart ships presets of the same names (values-local.yaml, values-prod.yaml) for what
// is not a storectl setting. Local is a laptop cluster (minikube, kind) with ingress-nginx,
// where nip.io resolves every <name>.127.0.0.1.nip.io to the loopback address; prod is a
// k3s server with its bundled Traefik and cert-manager, whose domain is the operator's: it
// has no default, and Load refuses prod without one.
var profiles = func() map[string]map[string]any {
	out := map[string]map[string]any{ProfileLocal: {}, ProfileProd: {}}
	for _, d := range definitions {
		for p, v := range d.Profiles {
			out[p][d.Key] = v
		}
	}
	return out
}()

func cloneValue(v any) any {
	switch x := v.(type) {
	case func() any:
		return x()
	case map[string]string:
		return maps.Clone(x)
	case []string:
		return slices.Clone(x)
	}
	return v
}

// set converts the raw value viper resolved for key into its typed field.
func (c *Config) set(d Definition, raw any, src Source) error {
	var err error
	switch p := d.field(c).(type) {
	case *int:
		*p, err = toInt(raw, d.Key, src)
	case *time.Duration:
		*p, err = toDuration(raw, d.Key, src)
	case *map[string]string:
		*p, err = toLabels(raw, d.Key, src)
	case *[]string:
		*p, err = toList(raw, d.Key, src)
	case *string:
		*p, err = toString(raw, d.Key, src)
	}
	return err
}

// value returns key's effective value as `config view` and the docs show it: durations as
// text, labels and lists copied.
func (c *Config) value(key string) any {
	d, ok := Lookup(key)
	if !ok {
		return nil
	}
	switch p := d.field(c).(type) {
	case *int:
		return *p
	case *time.Duration:
		return p.String()
	case *map[string]string:
		if *p == nil {
			return map[string]string{}
		}
		return maps.Clone(*p)
	case *[]string:
		if *p == nil {
			return []string{}
		}
		return slices.Clone(*p)
	case *string:
		return *p
	}
	return nil
}
