package config

import (
	"maps"
	"slices"
	"time"
)

// Names of the built-in profiles.
const (
	ProfileLocal = "local"
	ProfileProd  = "prod"
)

// profiles holds what each built-in profile sets over the defaults. The chart ships presets
// of the same names (values-local.yaml, values-prod.yaml) for what is not a storectl setting.
var profiles = map[string]map[string]any{
	// A laptop cluster (minikube, kind) with ingress-nginx; nip.io resolves every
	// <name>.127.0.0.1.nip.io to the loopback address, so no DNS setup is needed.
	ProfileLocal: {
		KeyDomain:                     "127.0.0.1.nip.io",
		KeyIngressClass:               "nginx",
		KeyIngressControllerNamespace: "ingress-nginx",
		KeyIngressControllerLabels:    map[string]string{"app.kubernetes.io/name": "ingress-nginx"},
		KeyTLSClusterIssuer:           "",
		KeyMaxStores:                  10,
		KeyImagePullPolicy:            "IfNotPresent",
	},
	// A k3s server with its bundled Traefik and cert-manager. The domain is the operator's:
	// there is no default, and Load refuses prod without one.
	ProfileProd: {
		KeyIngressClass:               "traefik",
		KeyIngressControllerNamespace: "kube-system",
		KeyIngressControllerLabels:    map[string]string{"app.kubernetes.io/name": "traefik"},
		KeyTLSClusterIssuer:           "letsencrypt-prod",
		KeyMaxStores:                  50,
		KeyImagePullPolicy:            "Always",
	},
}

// ProfileNames returns the names of the built-in profiles, sorted.
func ProfileNames() []string {
	return slices.Sorted(maps.Keys(profiles))
}

// Profile returns the settings a built-in profile lays over the defaults, with the defaults
// filled in for the keys it leaves alone (the audit path excepted: it depends on the user).
// The boolean is false for an unknown profile.
func Profile(name string) (map[string]any, bool) {
	p, ok := profiles[name]
	if !ok {
		return nil, false
	}
	out := map[string]any{}
	for k, v := range defaults() {
		if k == KeyAuditPath {
			continue
		}
		out[k] = v
	}
	for k, v := range p {
		if l, ok := v.(map[string]string); ok {
			v = maps.Clone(l)
		}
		out[k] = v
	}
	out[KeyProfile] = name
	if d, ok := out[KeyTimeout].(time.Duration); ok {
		out[KeyTimeout] = d.String()
	}
	return out, true
}
