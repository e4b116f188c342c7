package cli

import (
	"os"
	"strings"
	"testing"
)

// docs/cli.md carries the command reference generated from the commands themselves.
// go run ./hack/gendocs docs/cli.md (or this test with -update) regenerates it.
func TestDocsUpToDate(t *testing.T) {
	t.Parallel()
	const path = "../../docs/cli.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, false)
	updated, err := UpdateReference(string(doc), NewCmdRoot(h.f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, want := range []string{"### storectl create\n", "### storectl exit-codes\n", "--ignore-not-found", "### Global flags"} {
		if !strings.Contains(updated, want) {
			t.Errorf("generated reference lacks %q", want)
		}
	}
	if updated == string(doc) {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the command reference in %s is stale: run go run ./hack/gendocs docs/cli.md", path)
}
