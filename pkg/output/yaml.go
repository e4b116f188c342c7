package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// MarshalYAML encodes v as YAML with the keys in the order -o json prints them: v is
// marshalled as JSON first (so json tags decide the names, as for -o json), and that JSON is
// read as a YAML node tree, which keeps the order, then written in block style.
func MarshalYAML(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(j, &doc); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	blockStyle(&doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return b.Bytes(), nil
}

// blockStyle drops the flow style and quotes JSON syntax gave every node; the encoder then
// quotes only the strings that would otherwise read as another type. Empty lists and maps
// stay [] and {}.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && yaml11Bools[n.Value] {
		// YAML 1.1 readers (PyYAML, yq v3) take these for booleans.
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// yaml11Bools are the words YAML 1.1 reads as booleans and YAML 1.2 does not.
var yaml11Bools = map[string]bool{}

func init() {
	for _, w := range []string{"y", "yes", "n", "no", "on", "off"} {
		for _, v := range []string{w, strings.ToUpper(w[:1]) + w[1:], strings.ToUpper(w)} {
			yaml11Bools[v] = true
		}
	}
}
