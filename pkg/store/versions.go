package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/storectl/storectl/pkg/release"
)

// Versions are the versions of a store's components as a revision runs them. A component
// whose version cannot be read (an image pinned by digest only, a tag such as "latest")
// is empty.
type Versions struct {
	WordPress   string `json:"wordpress,omitempty"`
	WooCommerce string `json:"woocommerce,omitempty"`
	MariaDB     string `json:"mariadb,omitempty"`
}

// Component names of Versions, as errors and audit records name them.
const (
	VersionWordPress   = "WordPress"
	VersionWooCommerce = "WooCommerce"
	VersionMariaDB     = "MariaDB"
)

// Map returns the versions keyed by component, without the unknown ones.
func (v Versions) Map() map[string]string {
	out := map[string]string{}
	for _, c := range v.each() {
		if c.version != "" {
			out[c.name] = c.version
		}
	}
	return out
}

type componentVersion struct{ name, version string }

func (v Versions) each() []componentVersion {
	return []componentVersion{{VersionWordPress, v.WordPress}, {VersionWooCommerce, v.WooCommerce}, {VersionMariaDB, v.MariaDB}}
}

// versionsOf reads the component versions from a revision's values over its chart's
// defaults: the WordPress and MariaDB image tags up to their first "-", and WooCommerce's
// setup.woocommerce.version, which defaults to the chart's appVersion.
func versionsOf(r *release.Revision) Versions {
	if r == nil {
		return Versions{}
	}
	v := Versions{
		WordPress:   tagVersion(stringAt(r.Effective, "wordpress", "image", "tag")),
		MariaDB:     tagVersion(stringAt(r.Effective, "mariadb", "image", "tag")),
		WooCommerce: stringAt(r.Effective, "setup", "woocommerce", "version"),
	}
	if v.WooCommerce == "" {
		v.WooCommerce = r.AppVersion
	}
	return v
}

func stringAt(m map[string]any, path ...string) string {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

// tagVersion returns the version an image tag names ("7.1-php8.3-apache": "7.1"), or ""
// when the tag names none.
func tagVersion(tag string) string {
	v, _, _ := strings.Cut(tag, "-")
	if _, ok := parseVersion(v); !ok {
		return ""
	}
	return v
}

// parseVersion parses a dotted numeric version.
func parseVersion(s string) ([]int, bool) {
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// compareVersions orders two dotted versions; a missing part counts as 0, so 11.8 equals
// 11.8.0. ok is false when either is not a dotted numeric version.
func compareVersions(a, b string) (cmp int, ok bool) {
	pa, oka := parseVersion(a)
	pb, okb := parseVersion(b)
	if !oka || !okb {
		return 0, false
	}
	for i := 0; i < max(len(pa), len(pb)); i++ {
		x, y := at(pa, i), at(pb, i)
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
	}
	return 0, true
}

func at(p []int, i int) int {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// seenVersions returns, per component, the highest version any stored revision ran. An
// upgrade below it is refused, so the latest revisions carry it and the bounded history
// never loses it.
func seenVersions(revs []release.Revision) Versions {
	var seen Versions
	for i := range revs {
		v := versionsOf(&revs[i])
		seen.WordPress = higher(seen.WordPress, v.WordPress)
		seen.WooCommerce = higher(seen.WooCommerce, v.WooCommerce)
		seen.MariaDB = higher(seen.MariaDB, v.MariaDB)
	}
	return seen
}

func higher(a, b string) string {
	if c, ok := compareVersions(a, b); ok && c < 0 || a == "" {
		return b
	}
	return a
}

// downgrade names the first component target runs older than seen, with both versions.
func downgrade(seen, target Versions) (component, from, to string, found bool) {
	s, t := seen.each(), target.each()
	for i := range s {
		if c, ok := compareVersions(t[i].version, s[i].version); ok && c < 0 {
			return s[i].name, s[i].version, t[i].version, true
		}
	}
	return "", "", "", false
}

// versionValues are the chart values that make a revision run the requested versions,
// each derived from the current values: a WordPress version keeps the variant of the
// current tag ("7.2" over "7.1-php8.3-apache" is "7.2-php8.3-apache").
func versionValues(want Versions, current *release.Revision) (map[string]any, error) {
	out := map[string]any{}
	if want.WordPress != "" {
		tag := want.WordPress
		if cur := stringAt(current.Effective, "wordpress", "image", "tag"); !strings.Contains(tag, "-") {
			if _, variant, ok := strings.Cut(cur, "-"); ok {
				tag += "-" + variant
			}
		}
		merge(out, map[string]any{"wordpress": map[string]any{"image": map[string]any{"tag": tag, "digest": ""}}})
	}
	if want.MariaDB != "" {
		merge(out, map[string]any{"mariadb": map[string]any{"image": map[string]any{"tag": want.MariaDB, "digest": ""}}})
	}
	if want.WooCommerce != "" {
		if _, ok := parseVersion(want.WooCommerce); !ok {
			return nil, fmt.Errorf("%w: WooCommerce version %q is not a dotted version such as 11.1.2", ErrInvalidValues, want.WooCommerce)
		}
		merge(out, map[string]any{"setup": map[string]any{"woocommerce": map[string]any{"version": want.WooCommerce}}})
	}
	return out, nil
}
