package backup

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBackupImportsNoCLI keeps backup and restore callable without the CLI, as the store
// engine is (pkg/store's TestEngineImportsNoCLI says why third-party cobra is judged apart).
func TestBackupImportsNoCLI(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const module = "github.com/storectl/storectl/"
	forbiddenOwn := []string{module + "pkg/cli", module + "pkg/output", module + "pkg/config", module + "cmd/"}
	forbiddenImports := []string{"github.com/spf13/cobra", "github.com/spf13/viper", "github.com/charmbracelet/lipgloss"}
	seenStore := false
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		seenStore = seenStore || pkg == module+"pkg/store"
		for _, f := range forbiddenOwn {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("pkg/backup depends on %s", pkg)
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
	if !seenStore {
		t.Fatal("pkg/store is not among the dependencies: go list returned too little to be real")
	}
}
