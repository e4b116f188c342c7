package store

import (
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Change kinds of an ObjectChange.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// ObjectChange is how one rendered object differs between two revisions.
type ObjectChange struct {
	// Object is Kind/name.
	Object string `json:"object"`
	Change string `json:"change"`
	// Diff is a line diff of the object's YAML: "-" lines go, "+" lines come, "  " lines
	// give context.
	Diff string `json:"diff,omitempty"`
}

// diffManifests compares two rendered manifests object by object, in object order.
func diffManifests(before, after string) []ObjectChange {
	b, a := splitObjects(before), splitObjects(after)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []ObjectChange
	for _, k := range sorted {
		x, inB := b[k]
		y, inA := a[k]
		switch {
		case !inB:
			out = append(out, ObjectChange{Object: k, Change: ChangeAdded})
		case !inA:
			out = append(out, ObjectChange{Object: k, Change: ChangeRemoved})
		case x != y:
			out = append(out, ObjectChange{Object: k, Change: ChangeChanged, Diff: lineDiff(x, y, 2)})
		}
	}
	return out
}

// splitObjects returns each YAML document of a manifest keyed by Kind/name, normalised
// (keys sorted, comments dropped) so that only real changes differ.
func splitObjects(manifest string) map[string]string {
	out := map[string]string{}
	for _, doc := range strings.Split(manifest, "\n---") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj.Kind == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			continue
		}
		name := withoutRevision(m, obj.Metadata.Name)
		norm, err := yaml.Marshal(m)
		if err != nil {
			continue
		}
		out[obj.Kind+"/"+name] = string(norm)
	}
	return out
}

// withoutRevision drops from an object named for its revision (the setup Job,
// <store>-setup-r<revision>) its revision label and the name's suffix, and returns the name
// without it: two revisions' Jobs compare as one object, changed only by what really differs.
func withoutRevision(m map[string]any, name string) string {
	meta, _ := m["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	rev, _ := labels[LabelRevision].(string)
	if rev == "" || !strings.HasSuffix(name, "-r"+rev) {
		return name
	}
	delete(labels, LabelRevision)
	name = strings.TrimSuffix(name, "-r"+rev)
	meta["name"] = name
	return name
}

// maxDiffCells bounds the work of one object's diff; past it the diff is the whole
// object out and in.
const maxDiffCells = 4_000_000

// lineDiff returns the lines that differ between x and y with ctx lines of context.
func lineDiff(x, y string, ctx int) string {
	a, b := strings.Split(strings.TrimRight(x, "\n"), "\n"), strings.Split(strings.TrimRight(y, "\n"), "\n")
	ops := diffOps(a, b)
	keep := make([]bool, len(ops))
	for i, o := range ops {
		if o[0] != ' ' {
			for j := max(0, i-ctx); j <= min(len(ops)-1, i+ctx); j++ {
				keep[j] = true
			}
		}
	}
	var sb strings.Builder
	gap := false
	for i, o := range ops {
		if !keep[i] {
			gap = true
			continue
		}
		if gap && sb.Len() > 0 {
			sb.WriteString("  ...\n")
		}
		gap = false
		sb.WriteString(o)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// diffOps aligns a and b on a longest common subsequence of lines.
func diffOps(a, b []string) []string {
	if len(a)*len(b) > maxDiffCells {
		out := make([]string, 0, len(a)+len(b))
		for _, l := range a {
			out = append(out, "- "+l)
		}
		for _, l := range b {
			out = append(out, "+ "+l)
		}
		return out
	}
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, "  "+a[i])
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, "- "+a[i])
	}
	for ; j < len(b); j++ {
		out = append(out, "+ "+b[j])
	}
	return out
}

// String renders a change for people: its object and kind, then the diff indented.
func (c ObjectChange) String() string {
	s := fmt.Sprintf("%s %s", c.Change, c.Object)
	if c.Diff != "" {
		s += "\n" + indent(c.Diff, "    ")
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}
