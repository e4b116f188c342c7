// Package charts embeds the store chart that storectl installs, with its local and production presets.
package charts

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"
)

// FS holds the chart directory "woocommerce". The all: prefix keeps files whose names start
// with "_" or "." (_helpers.tpl, .helmignore), which a plain embed pattern silently drops.
//
//go:embed all:woocommerce
var FS embed.FS

// Name is the chart's name and its directory in FS.
const Name = "woocommerce"

// Preset names, one per storectl profile.
const (
	PresetLocal = "local"
	PresetProd  = "prod"
)

// presetFiles maps a preset name to its values file in the chart directory.
var presetFiles = map[string]string{
	PresetLocal: "values-local.yaml",
	PresetProd:  "values-prod.yaml",
}

// Load returns the embedded chart, loaded by Helm's loader exactly as from a directory.
func Load() (*chart.Chart, error) {
	var files []*loader.BufferedFile
	err := fs.WalkDir(FS, Name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		// Helm wants paths relative to the chart directory, with forward slashes.
		rel := p[len(Name)+1:]
		files = append(files, &loader.BufferedFile{Name: path.Clean(rel), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded chart %s: %w", Name, err)
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load embedded chart %s: %w", Name, err)
	}
	return c, nil
}

// Version returns the chart's version and app version from its Chart.yaml, without loading
// the chart.
func Version() (version, appVersion string, err error) {
	b, err := FS.ReadFile(path.Join(Name, "Chart.yaml"))
	if err != nil {
		return "", "", fmt.Errorf("read embedded chart %s: %w", Name, err)
	}
	var meta struct {
		Version    string `json:"version"`
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		return "", "", fmt.Errorf("read the Chart.yaml of embedded chart %s: %w", Name, err)
	}
	if meta.Version == "" {
		return "", "", fmt.Errorf("embedded chart %s has no version", Name)
	}
	return meta.Version, meta.AppVersion, nil
}

// Presets returns the names Preset accepts, sorted.
func Presets() []string {
	names := make([]string, 0, len(presetFiles))
	for n := range presetFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the values of the named preset ("local" or "prod"), to be layered over the
// chart's defaults. Each call returns a fresh map the caller may change.
func Preset(name string) (map[string]any, error) {
	file, ok := presetFiles[name]
	if !ok {
		return nil, fmt.Errorf("unknown chart preset %q (known: %v)", name, Presets())
	}
	data, err := FS.ReadFile(path.Join(Name, file))
	if err != nil {
		return nil, fmt.Errorf("read preset %s: %w", name, err)
	}
	vals, err := chartutil.ReadValues(data)
	if err != nil {
		return nil, fmt.Errorf("parse preset %s (%s): %w", name, file, err)
	}
	return vals.AsMap(), nil
}
