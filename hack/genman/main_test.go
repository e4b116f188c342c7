package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/storectl/storectl/pkg/cli"
)

func TestManPages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, page := range []string{"storectl.1", "storectl-create.1", "storectl-delete.1", "storectl-config-view.1", "storectl-completion.1"} {
		if text := read(page); !strings.Contains(text, `.TH "STORECTL`) || !strings.Contains(text, `"Jan 2026"`) {
			t.Errorf("%s: no man page header dated by SOURCE_DATE_EPOCH:\n%.300s", page, text)
		}
	}
	// Angle brackets in usage lines and help texts survive the Markdown step of the generator.
	if text := read("storectl-create.1"); !strings.Contains(text, `\fBstorectl create <name> [flags]\fP`) ||
		!strings.Contains(text, "namespace store-<name>") {
		t.Errorf("storectl-create.1 lost its <name>:\n%s", text)
	}
	top := read("storectl.1")
	exit, see := strings.Index(top, ".SH EXIT STATUS"), strings.Index(top, ".SH SEE ALSO")
	if exit < 0 || see < exit {
		t.Fatalf("storectl.1 has no EXIT STATUS before SEE ALSO:\n%s", top)
	}
	for _, e := range cli.ExitCodes {
		if !strings.Contains(top[exit:see], `\fB`+strconv.Itoa(e.Code)+`\fP`+"\n") {
			t.Errorf("storectl.1 lacks exit code %d", e.Code)
		}
	}
	for _, want := range []string{"STORECTL_MAX_STORES", "STORECTL_CONFIG", "NO_COLOR", "storectl/config.yaml", "storectl/audit.db"} {
		if !strings.Contains(top, want) {
			t.Errorf("storectl.1 does not mention %s", want)
		}
	}
}
