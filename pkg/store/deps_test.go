package store

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineImportsNoCLI keeps the engine usable without the CLI. No package
// of this module that pkg/store depends on (store, release, kube, charts) may
// be or import the command layer, cobra, viper or lipgloss. Third-party
// packages are judged separately: genericclioptions and kubectl's cmd/util,
// which Helm's SDK needs, link cobra as a library, and no viper or lipgloss
// may appear at all.
func TestEngineImportsNoCLI(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const module = "github.com/storectl/storectl/"
	forbiddenOwn := []string{module + "pkg/cli", module + "pkg/output", module + "pkg/config", module + "cmd/"}
	forbiddenImports := []string{"github.com/spf13/cobra", "github.com/spf13/viper", "github.com/charmbracelet/lipgloss"}
	anywhere := []string{"github.com/spf13/viper", "github.com/charmbracelet/lipgloss"}

	own := 0
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 50 {
		t.Fatalf("go list -deps returned too little to be real: %d packages", len(lines))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, f := range anywhere {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("pkg/store depends on %s", pkg)
			}
		}
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		own++
		for _, f := range forbiddenOwn {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("pkg/store depends on %s", pkg)
			}
		}
		for _, imp := range imports {
			for _, f := range forbiddenImports {
				if strings.HasPrefix(imp, f) {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
	if own < 3 {
		t.Fatalf("expected pkg/store, pkg/release and pkg/kube among the dependencies, found %d of this module's packages", own)
	}
}
