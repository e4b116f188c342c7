package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI scenarios that need no cluster: testdata/cli/script/*.txtar.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "testdata", "cli", "script"),
		Setup: func(env *testscript.Env) error {
			// Keep every file storectl might touch inside the script's work directory.
			for k, v := range map[string]string{
				"XDG_CONFIG_HOME":     filepath.Join(env.WorkDir, ".config"),
				"XDG_STATE_HOME":      filepath.Join(env.WorkDir, ".state"),
				"KUBECONFIG":          filepath.Join(env.WorkDir, "no-kubeconfig"),
				"STORECTL_AUDIT_PATH": filepath.Join(env.WorkDir, "audit.db"),
				"NO_COLOR":            "",
			} {
				env.Setenv(k, v)
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "unreachable.kubeconfig"), []byte(unreachableKubeconfig), 0o600)
		},
	})
}

// unreachableKubeconfig points at a port nothing listens on: a command that reaches for the
// cluster fails as unreachable, so a different error proves no call was made.
const unreachableKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: nowhere
  context:
    cluster: nowhere
    user: nobody
current-context: nowhere
users:
- name: nobody
  user:
    token: not-a-real-token
`
