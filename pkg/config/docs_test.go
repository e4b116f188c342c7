package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocumentedSettings keeps the settings table of docs/configuration.md true: every key is
// documented with its environment variable, and the local and prod columns show what the
// built-in profiles really set.
func TestDocumentedSettings(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `([A-Z_]+)` \\| [^|]+ \\| ([^|]+) \\| ([^|]+) \\|$")
	code := regexp.MustCompile("`([^`]*)`")
	rows := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]] = m[2:]
	}
	for _, key := range Keys() {
		r, ok := rows[key]
		if !ok {
			t.Errorf("docs/configuration.md has no table row for %s", key)
			continue
		}
		if r[0] != EnvVar(key) {
			t.Errorf("%s is documented with %s, want %s", key, r[0], EnvVar(key))
		}
		if key == KeyAuditPath {
			continue // depends on the user's environment
		}
		for i, name := range []string{ProfileLocal, ProfileProd} {
			p, _ := Profile(name)
			want := documented(p[key])
			cell := strings.TrimSpace(r[i+1])
			got := ""
			if m := code.FindStringSubmatch(cell); m != nil {
				got = m[1]
			} else if !strings.HasPrefix(cell, "empty") && !strings.HasPrefix(cell, "none") {
				t.Errorf("%s/%s: cell %q is neither a `value` nor empty/none", key, name, cell)
				continue
			}
			if key == KeyTimeout {
				g, gerr := time.ParseDuration(got)
				w, werr := time.ParseDuration(want)
				if gerr != nil || werr != nil || g != w {
					t.Errorf("docs say timeout is %q in profile %s; the profile sets %q", got, name, want)
				}
				continue
			}
			if got != want {
				t.Errorf("docs say %s is %q in profile %s; the profile sets %q", key, got, name, want)
			}
		}
	}
}

func documented(v any) string {
	if l, ok := v.(map[string]string); ok {
		return formatLabels(l)
	}
	if l, ok := v.([]string); ok {
		return strings.Join(l, ",")
	}
	return fmt.Sprint(v)
}
