package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// keyProfiles is the file's section of per-profile overrides.
const keyProfiles = "profiles"

// FileError is a problem with the config file itself; it wraps ErrInvalidConfig.
type FileError struct {
	// Path is the config file.
	Path string
	// Line is the line the problem is on, or 0 when unknown.
	Line int
	// Msg says what is wrong and what is allowed.
	Msg string
}

// Error renders "invalid config file <path>, line <n>: <problem>".
func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("invalid config file %s, line %d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("invalid config file %s: %s", e.Path, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *FileError) Unwrap() error { return ErrInvalidConfig }

type fileValue struct {
	value any // string, int, time.Duration, map[string]string or []string
	line  int
}

// fileLayer is a parsed config file: typed values with the lines they came from.
type fileLayer struct {
	path     string
	top      map[string]fileValue
	profiles map[string]map[string]fileValue
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseFile reads a config file strictly: YAML syntax, known keys only, one type per key.
// Values are checked for type here and for meaning in Validate.
func parseFile(data []byte, path string) (*fileLayer, error) {
	fail := func(line int, format string, args ...any) error {
		return &FileError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	layer := &fileLayer{path: path, top: map[string]fileValue{}, profiles: map[string]map[string]fileValue{}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return layer, nil // empty file, or comments only
		}
		return nil, yamlError(path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		if len(extra.Content) > 0 && !isNull(deref(extra.Content[0])) {
			return nil, fail(extra.Line, "holds more than one YAML document; keep a single one")
		}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}

	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return layer, nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		return layer, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "must be a mapping of settings (key: value), not %s", describe(root))
	}

	err := eachPair(root, fail, func(k, v *yaml.Node) error {
		if k.Value == keyProfiles {
			return parseProfiles(v, layer, fail)
		}
		return parseSetting(k, v, layer.top, fail, "")
	})
	if err != nil {
		return nil, err
	}
	return layer, nil
}

func parseProfiles(node *yaml.Node, layer *fileLayer, fail func(int, string, ...any) error) error {
	node = deref(node)
	if isNull(node) {
		return nil
	}
	if node.Kind != yaml.MappingNode {
		return fail(node.Line, "%s must map profile names (%s) to settings, not %s",
			keyProfiles, strings.Join(ProfileNames(), ", "), describe(node))
	}
	return eachPair(node, fail, func(k, v *yaml.Node) error {
		name := k.Value
		if _, ok := profiles[name]; !ok {
			return fail(k.Line, "unknown profile %q under %s; allowed: %s", name, keyProfiles, strings.Join(ProfileNames(), ", "))
		}
		v = deref(v)
		section := map[string]fileValue{}
		layer.profiles[name] = section
		if isNull(v) {
			return nil
		}
		if v.Kind != yaml.MappingNode {
			return fail(v.Line, "%s.%s must be a mapping of settings, not %s", keyProfiles, name, describe(v))
		}
		return eachPair(v, fail, func(k, v *yaml.Node) error {
			return parseSetting(k, v, section, fail, keyProfiles+"."+name)
		})
	})
}

// eachPair walks a mapping, refusing non-scalar and repeated keys.
func eachPair(m *yaml.Node, fail func(int, string, ...any) error, fn func(k, v *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return fail(k.Line, "keys must be plain names, not %s", describe(k))
		}
		if first, dup := seen[k.Value]; dup {
			return fail(k.Line, "key %q is repeated (first at line %d)", k.Value, first)
		}
		seen[k.Value] = k.Line
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

//nolint:funlen // one switch over the kinds of a setting in the file
func parseSetting(k, v *yaml.Node, into map[string]fileValue, fail func(int, string, ...any) error, section string) error {
	key := k.Value
	where := key
	if section != "" {
		where = section + "." + key
	}
	def, known := Lookup(key)
	kd := def.kind
	if !known || (section != "" && key == KeyProfile) {
		allowed := Keys()
		if section != "" {
			allowed = slices.DeleteFunc(allowed, func(s string) bool { return s == KeyProfile })
		} else {
			allowed = append(allowed, keyProfiles)
		}
		msg := fmt.Sprintf("unknown key %q", where)
		if section != "" && key == KeyProfile {
			msg = fmt.Sprintf("%q cannot be set inside a profile section; set it at the top level", where)
		} else if key == "<<" {
			msg += " (YAML merge keys are not supported; repeat the settings instead)"
		} else if s := suggest(key, allowed); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fail(k.Line, "%s; allowed keys: %s", msg, strings.Join(allowed, ", "))
	}
	v = deref(v)
	if isNull(v) {
		return nil // "key:" with no value leaves the layers below in charge
	}
	var val any
	switch kd {
	case kindString:
		if v.Kind != yaml.ScalarNode {
			return fail(v.Line, "%s must be a string, not %s", where, describe(v))
		}
		val = v.Value
	case kindInt:
		var n int
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil {
			return fail(v.Line, "%s must be a whole number, not %s", where, describe(v))
		}
		val = n
	case kindDuration:
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			hint := ""
			if v.Tag == "!!int" || v.Tag == "!!float" {
				hint = fmt.Sprintf(" (a bare number has no unit: write %ss or %sm)", v.Value, v.Value)
			}
			return fail(v.Line, "%s must be a duration such as 90s, 10m or 1h30m, not %s%s", where, describe(v), hint)
		}
		d, err := time.ParseDuration(v.Value)
		if err != nil {
			return fail(v.Line, "%s must be a duration such as 90s, 10m or 1h30m, not %q", where, v.Value)
		}
		val = d
	case kindLabels:
		labels := map[string]string{}
		if v.Kind != yaml.MappingNode {
			return fail(v.Line, "%s must be a mapping of label names to values, not %s", where, describe(v))
		}
		err := eachPair(v, fail, func(lk, lv *yaml.Node) error {
			lv = deref(lv)
			if lv.Kind != yaml.ScalarNode || isNull(lv) {
				return fail(lv.Line, "label %q in %s must have a string value, not %s", lk.Value, where, describe(lv))
			}
			labels[lk.Value] = lv.Value
			return nil
		})
		if err != nil {
			return err
		}
		val = labels
	case kindList:
		if v.Kind != yaml.SequenceNode {
			return fail(v.Line, "%s must be a list, such as [quota, limitRange], not %s", where, describe(v))
		}
		items := []string{}
		for _, item := range v.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode || isNull(item) || strings.Contains(item.Value, ",") {
				return fail(item.Line, "items of %s must be plain names, not %s", where, describe(item))
			}
			items = append(items, item.Value)
		}
		val = items
	}
	into[key] = fileValue{value: val, line: k.Line}
	return nil
}

func yamlError(path string, err error) error {
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if line > 0 {
		msg = strings.TrimSpace(strings.Replace(msg, "line "+strconv.Itoa(line)+":", "", 1))
	}
	return &FileError{Path: path, Line: line, Msg: "not valid YAML: " + msg}
}

// deref follows an alias to the node it names. Aliases nest at most as deep as the
// document, and the schema here is three levels deep, so no expansion can blow up.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		case "!!int", "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an empty document"
}

// suggest returns the allowed key closest to key when it is a likely typo.
func suggest(key string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if d := editDistance(key, a); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
