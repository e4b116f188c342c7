package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
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
	// Test support (the memory release driver, its fake resource client) stays out of production code.
	forbiddenImports := []string{"github.com/spf13/cobra", "github.com/spf13/viper", "github.com/charmbracelet/lipgloss",
		"helm.sh/helm/v3/pkg/kube/fake", module + "pkg/release/releasetest"}
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

// TestEngineSpeaksNoCLI keeps what the user is told to run out of the engine: no string in
// the engine's code names a storectl command, a command-line flag or kubectl. Its errors
// and statuses carry facts; the CLI's hint table turns them into next steps.
func TestEngineSpeaksNoCLI(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	cliWords := regexp.MustCompile(`storectl (create|delete|get|list|wait|credentials|audit|upgrade|rollback|history|backup|restore|doctor|logs|events|stats|serve|config)\b|kubectl |(^|[ '(])--[a-z]`)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			checked++
			if cliWords.MatchString(lit.Value) {
				t.Errorf("%s: string %s speaks to the user of the CLI", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
	if checked < 100 {
		t.Fatalf("only %d string literals found: the check reads the wrong files", checked)
	}
}
