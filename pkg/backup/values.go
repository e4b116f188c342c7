package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/tenancy"
)

// chartDefaults returns the embedded chart's values with the profile's preset over them:
// what a store gets for every value nobody set.
func chartDefaults(profile string) (map[string]any, string, error) {
	c, err := charts.Load()
	if err != nil {
		return nil, "", err
	}
	out := deepCopy(c.Values)
	if profile != "" {
		p, err := charts.Preset(profile)
		if err != nil {
			return nil, "", err
		}
		mergeInto(out, p)
	}
	return out, c.Metadata.AppVersion, nil
}

// userValues picks from a release's values those a store's user may set (pkg/tenancy's
// table) and that differ from the defaults: the values the user gave. Everything
// storectl decides (identity, host name, isolation, credentials) stays out of an archive,
// and a restore decides it anew for the store it restores into.
func userValues(release, defaults map[string]any) map[string]any {
	out := map[string]any{}
	for _, r := range tenancy.Rules() {
		if r.Owner != tenancy.User {
			continue
		}
		v, ok := lookup(release, r.Path)
		if !ok {
			continue
		}
		if d, ok := lookup(defaults, r.Path); ok && reflect.DeepEqual(d, v) {
			continue
		}
		set(out, r.Path, v)
	}
	return out
}

func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for key := range strings.SplitSeq(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func set(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			out[k] = deepCopy(mm)
			continue
		}
		out[k] = v
	}
	return out
}

// expectedVersions are the WordPress (major.minor, from the image tag) and WooCommerce
// versions a new store with these user values runs.
func expectedVersions(user, defaults map[string]any, appVersion string) (wordpress, woocommerce string) {
	all := deepCopy(defaults)
	mergeInto(all, user)
	if tag, ok := lookup(all, "wordpress.image.tag"); ok {
		if s, ok := tag.(string); ok {
			wordpress, _, _ = strings.Cut(s, "-")
		}
	}
	woocommerce = appVersion
	if v, ok := lookup(all, "setup.woocommerce.version"); ok {
		if s, ok := v.(string); ok && s != "" {
			woocommerce = s
		}
	}
	return wordpress, woocommerce
}

// writeValues writes the user values as YAML and returns the member.
func writeValues(path string, v map[string]any) (spooled, error) {
	data, err := yaml.Marshal(v)
	if err != nil {
		return spooled{}, err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return spooled{}, err
	}
	sum := sha256.Sum256(data)
	return spooled{Member: Member{Name: MemberValues, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, path: path}, nil
}

// readValues reads the user values of an extracted archive.
func readValues(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseValues(data)
}

func parseValues(data []byte) (map[string]any, error) {
	v := map[string]any{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, MemberValues, err)
	}
	return v, nil
}
