package config

import (
	"maps"
	"time"
)

// Names of the built-in profiles.
const (
	ProfileLocal = "local"
	ProfileProd  = "prod"
)

// ProfileNames returns the names of the built-in profiles, sorted.
func ProfileNames() []string {
	return []string{ProfileLocal, ProfileProd}
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
