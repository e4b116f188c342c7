package config

import (
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// FuzzParseFile feeds arbitrary bytes to the config file parser. Whatever the input, it must
// not panic; a refusal must wrap ErrInvalidConfig and name the file; an accepted file must
// hold only known keys with their declared types, and survive a round trip through YAML.
func FuzzParseFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"profile: prod\ndomain: shops.example.com\n",
		"max-stores: 20\ntimeout: 15m\ningress-controller-labels:\n  app.kubernetes.io/name: traefik\n",
		"profiles:\n  local:\n    domain: 127.0.0.1.nip.io\n  prod:\n    ingress-class: traefik\n",
		"base: &b {domain: a.test}\nprofiles: {prod: *b}\n",
		"timeout: 600\n",
		"domain: [a, b]\n",
		"a: b\n---\nc: d\n",
	} {
		f.Add([]byte(seed))
	}
	const path = "/fuzz/config.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		layer, err := parseFile(data, path)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkLayer(t, layer.top, "")
		for name, section := range layer.profiles {
			if _, ok := profiles[name]; !ok {
				t.Fatalf("accepted unknown profile %q", name)
			}
			checkLayer(t, section, name)
		}

		out, err := yaml.Marshal(renderLayer(layer))
		if err != nil {
			t.Fatalf("marshal accepted file: %v", err)
		}
		again, err := parseFile(out, path)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		if !reflect.DeepEqual(values(again.top), values(layer.top)) {
			t.Fatalf("round trip changed the top level:\n%v\n%v", values(layer.top), values(again.top))
		}
		for name, section := range layer.profiles {
			if !reflect.DeepEqual(values(again.profiles[name]), values(section)) {
				t.Fatalf("round trip changed profiles.%s:\n%v\n%v", name, values(section), values(again.profiles[name]))
			}
		}
	})
}

func checkLayer(t *testing.T, layer map[string]fileValue, section string) {
	t.Helper()
	for key, fv := range layer {
		d, ok := Lookup(key)
		k := d.kind
		if !ok || (section != "" && key == KeyProfile) {
			t.Fatalf("accepted key %q in section %q", key, section)
		}
		var typeOK bool
		switch k {
		case kindString:
			_, typeOK = fv.value.(string)
		case kindInt:
			_, typeOK = fv.value.(int)
		case kindDuration:
			_, typeOK = fv.value.(time.Duration)
		case kindLabels:
			_, typeOK = fv.value.(map[string]string)
		}
		if !typeOK {
			t.Fatalf("%s holds %T", key, fv.value)
		}
		if fv.line < 1 {
			t.Fatalf("%s has no line", key)
		}
	}
}

func renderLayer(l *fileLayer) map[string]any {
	out := map[string]any{}
	maps.Copy(out, renderValues(l.top))
	if len(l.profiles) > 0 {
		ps := map[string]any{}
		for name, section := range l.profiles {
			ps[name] = renderValues(section)
		}
		out[keyProfiles] = ps
	}
	return out
}

func renderValues(layer map[string]fileValue) map[string]any {
	out := map[string]any{}
	for k, fv := range layer {
		if d, ok := fv.value.(time.Duration); ok {
			out[k] = d.String()
			continue
		}
		out[k] = fv.value
	}
	return out
}

func values(layer map[string]fileValue) map[string]any {
	out := map[string]any{}
	for k, fv := range layer {
		out[k] = fv.value
	}
	return out
}
