package cli

import (
	"reflect"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// keyOrder lists the mapping keys of a YAML (or JSON) document depth first, in document order.
func keyOrder(t *testing.T, doc string) []string {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatalf("decode: %v\n%s", err, doc)
	}
	var out []string
	var walk func(*yaml.Node, string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"/")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				out = append(out, path+n.Content[i].Value)
				walk(n.Content[i+1], path+n.Content[i].Value+".")
			}
		}
	}
	walk(&n, "")
	return out
}

func TestConfigViewYAMLKeepsTheKeyOrderOfJSON(t *testing.T) {
	view := func(format string) string {
		h, _ := configViewHarness(t)
		if code := h.run("config", "view", "-o", format); code != 0 {
			t.Fatalf("config view -o %s: exit %d: %s", format, code, h.stderr())
		}
		return h.stdout()
	}
	j, y := keyOrder(t, view("json")), keyOrder(t, view("yaml"))
	if len(j) < 3 || j[0] != "/file" || j[1] != "/settings" {
		t.Fatalf("json keys = %v, want file, settings, ...", j)
	}
	if !reflect.DeepEqual(j, y) {
		t.Errorf("yaml key order differs from json:\n json %v\n yaml %v", j, y)
	}
}
