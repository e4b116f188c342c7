package cli

import (
	"os"
	"strings"
	"testing"
)

// docs/cli.md carries the command reference generated from the commands themselves.
// go test ./pkg/cli -run TestDocsUpToDate -update regenerates it.
func TestDocsUpToDate(t *testing.T) {
	t.Parallel()
	const path = "../../docs/cli.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	begin, end := strings.Index(text, ReferenceBegin), strings.Index(text, ReferenceEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the reference markers %q and %q", path, ReferenceBegin, ReferenceEnd)
	}
	h := newHarness(t, false)
	var b strings.Builder
	if err := WriteReference(&b, NewCmdRoot(h.f)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### storectl create\n", "### storectl exit-codes\n", "--ignore-not-found", "### Global flags"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("generated reference lacks %q", want)
		}
	}
	updated := text[:begin+len(ReferenceBegin)] + "\n\n" + b.String() + "\n" + text[end:]
	if updated == text {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the command reference in %s is stale: run go test ./pkg/cli -run TestDocsUpToDate -update", path)
}
