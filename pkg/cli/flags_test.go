package cli

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/output"
)

// execute runs a single command (not the root) with args and returns its error.
func execute(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	h := newHarness(t, false)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	cmd.SetArgs(args)
	cmd.SetOut(h.bufs.Out)
	cmd.SetErr(h.bufs.ErrOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &UsageError{Err: err, Cmd: c.CommandPath()} })
	return cmd.Execute()
}

func TestCreateFlags(t *testing.T) {
	t.Parallel()
	valuesFile := filepath.Join(t.TempDir(), "v.yaml")
	if err := os.WriteFile(valuesFile, []byte("wordpress:\n  replicas: 1\n  image: {tag: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		want     CreateOptions
		wantCode int
	}{
		{
			name: "defaults",
			args: []string{"shop"},
			want: CreateOptions{Name: "shop", Type: "woocommerce", Wait: true, Values: map[string]any{}},
		},
		{
			name: "everything",
			args: []string{"shop", "--set", "a.b=1", "--set", "a.c=x,d=y", "--values", valuesFile, "--wait=false", "--timeout", "90s", "-o", "json"},
			want: CreateOptions{Name: "shop", Type: "woocommerce", Wait: false, Timeout: 90 * time.Second, Output: "json",
				Format: output.FormatJSON, Sets: []string{"a.b=1", "a.c=x,d=y"}, ValuesFile: valuesFile,
				Values: map[string]any{
					"a":         map[string]any{"b": int64(1), "c": "x"},
					"d":         "y",
					"wordpress": map[string]any{"replicas": float64(1), "image": map[string]any{"tag": "x"}},
				}},
		},
		{name: "set overrides values file", args: []string{"shop", "-f", valuesFile, "--set", "wordpress.replicas=2"},
			want: CreateOptions{Name: "shop", Type: "woocommerce", Wait: true, ValuesFile: valuesFile, Sets: []string{"wordpress.replicas=2"},
				Values: map[string]any{"wordpress": map[string]any{"replicas": int64(2), "image": map[string]any{"tag": "x"}}}}},
		{name: "missing name", args: []string{}, wantCode: ExitUsage},
		{name: "two names", args: []string{"a", "b"}, wantCode: ExitUsage},
		{name: "invalid name", args: []string{"Shop"}, wantCode: ExitUsage},
		{name: "reserved name", args: []string{"admin"}, wantCode: ExitUsage},
		{name: "unknown type", args: []string{"shop", "--type", "magento"}, wantCode: ExitUsage},
		{name: "malformed set", args: []string{"shop", "--set", "novalue"}, wantCode: ExitUsage},
		{name: "missing values file", args: []string{"shop", "--values", "/does/not/exist.yaml"}, wantCode: ExitUsage},
		{name: "unsupported output", args: []string{"shop", "-o", "wide"}, wantCode: ExitUsage},
		{name: "bad timeout", args: []string{"shop", "--timeout", "soon"}, wantCode: ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *CreateOptions
			cmd := NewCmdCreate(&Factory{}, func(o *CreateOptions) error { got = o; return nil })
			err := execute(t, cmd, tt.args...)
			if code := ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit code %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantCode != 0 {
				if got != nil {
					t.Fatal("the run function was called despite the error")
				}
				return
			}
			got.Factory = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options\n got %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestListGetFlags(t *testing.T) {
	t.Parallel()
	var lo *ListOptions
	if err := execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { lo = o; return nil }), "-o", "wide", "-l", "team=web"); err != nil {
		t.Fatal(err)
	}
	if lo.Format != output.FormatWide || lo.Selector != "team=web" {
		t.Errorf("list options: %+v", lo)
	}
	lo = nil
	if err := execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { lo = o; return nil })); err != nil || lo.Format != output.FormatTable {
		t.Errorf("list default format: %v %+v", err, lo)
	}
	err := execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { t.Error("run called"); return nil }), "-o", "xml")
	if ExitCode(err) != ExitUsage {
		t.Errorf("list -o xml: %v", err)
	}
	err = execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { t.Error("run called"); return nil }), "-l", "team in (web")
	if ExitCode(err) != ExitUsage {
		t.Errorf("list with a malformed selector: %v", err)
	}
	err = execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { t.Error("run called"); return nil }), "extra")
	if ExitCode(err) != ExitUsage {
		t.Errorf("list extra: %v", err)
	}

	var g *GetOptions
	if err := execute(t, NewCmdGet(&Factory{}, func(o *GetOptions) error { g = o; return nil }), "shop", "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	if g.Name != "shop" || g.Format != output.FormatYAML {
		t.Errorf("get options: %+v", g)
	}
	err = execute(t, NewCmdGet(&Factory{}, func(o *GetOptions) error { t.Error("run called"); return nil }), "-o", "xml", "shop")
	if ExitCode(err) != ExitUsage {
		t.Errorf("get -o xml: %v", err)
	}
	if err := execute(t, NewCmdGet(&Factory{}, func(o *GetOptions) error { g = o; return nil }), "shop", "-w", "-o", "wide"); err != nil {
		t.Fatal(err)
	}
	if !g.Watch || g.Format != output.FormatWide {
		t.Errorf("get -w -o wide: %+v", g)
	}
	if err := execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { lo = o; return nil }), "-w", "--no-headers", "--sort-by", "age"); err != nil {
		t.Fatal(err)
	}
	if !lo.Watch || !lo.NoHeaders || lo.SortBy != "age" {
		t.Errorf("list -w --no-headers --sort-by age: %+v", lo)
	}
	err = execute(t, NewCmdList(&Factory{}, func(o *ListOptions) error { t.Error("run called"); return nil }), "--sort-by", "size")
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "name, age, status") {
		t.Errorf("list --sort-by size: %v", err)
	}
}

func TestDeleteFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tty      bool
		args     []string
		want     *DeleteOptions
		wantCode int
	}{
		{name: "yes without terminal", args: []string{"a", "b", "a", "--yes", "--wait=false", "--timeout", "2m", "--ignore-not-found"},
			want: &DeleteOptions{Names: []string{"a", "b"}, Yes: true, Wait: false, Timeout: 2 * time.Minute, IgnoreNotFound: true, Parallel: defaultDeleteParallel}},
		{name: "no terminal refuses", args: []string{"a"}, wantCode: ExitUsage},
		{name: "terminal may ask", tty: true, args: []string{"a"}, want: &DeleteOptions{Names: []string{"a"}, Wait: true, Parallel: defaultDeleteParallel}},
		{name: "no names", args: []string{"--yes"}, wantCode: ExitUsage},
		{name: "invalid name", args: []string{"ok", "../etc", "--yes"}, wantCode: ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.tty)
			var got *DeleteOptions
			err := execute(t, NewCmdDelete(h.f, func(o *DeleteOptions) error { got = o; return nil }), tt.args...)
			if code := ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit code %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.want == nil {
				if got != nil {
					t.Fatal("the run function was called despite the error")
				}
				return
			}
			got.Factory = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWaitCredentialsAuditVersionFlags(t *testing.T) {
	t.Parallel()
	var w *WaitOptions
	if err := execute(t, NewCmdWait(&Factory{}, func(o *WaitOptions) error { w = o; return nil }), "shop", "--for", "deleted", "--timeout", "1m"); err != nil {
		t.Fatal(err)
	}
	if w.Name != "shop" || w.For != "deleted" || w.Timeout != time.Minute {
		t.Errorf("wait options: %+v", w)
	}
	for _, args := range [][]string{{"shop", "--for", "gone"}, {"shop", "--for", "deleted", "-o", "json"}, {}} {
		err := execute(t, NewCmdWait(&Factory{}, func(o *WaitOptions) error { t.Error("run called"); return nil }), args...)
		if ExitCode(err) != ExitUsage {
			t.Errorf("wait %v: %v", args, err)
		}
	}

	var c *CredentialsOptions
	if err := execute(t, NewCmdCredentials(&Factory{}, func(o *CredentialsOptions) error { c = o; return nil }), "shop", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if c.Name != "shop" || c.Format != output.FormatJSON {
		t.Errorf("credentials options: %+v", c)
	}

	var a *AuditOptions
	if err := execute(t, NewCmdAudit(&Factory{}, func(o *AuditOptions) error { a = o; return nil }),
		"--store", "shop", "--action", "delete", "--since", "24h", "--limit", "5", "-o", "wide"); err != nil {
		t.Fatal(err)
	}
	if a.Store != "shop" || a.Action != "delete" || a.Since != 24*time.Hour || a.Limit != 5 || a.Format != output.FormatWide {
		t.Errorf("audit options: %+v", a)
	}
	for _, args := range [][]string{{"--limit", "-1"}, {"--since", "-1h"}, {"--since", "yesterday"}} {
		err := execute(t, NewCmdAudit(&Factory{}, func(o *AuditOptions) error { t.Error("run called"); return nil }), args...)
		if ExitCode(err) != ExitUsage {
			t.Errorf("audit %v: %v", args, err)
		}
	}

	var v *VersionOptions
	if err := execute(t, NewCmdVersion(&Factory{}, func(o *VersionOptions) error { v = o; return nil }), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if v.Output != "json" {
		t.Errorf("version options: %+v", v)
	}
	err := execute(t, NewCmdVersion(&Factory{}, func(o *VersionOptions) error { return nil }), "-o", "name")
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Errorf("version -o name: %v", err)
	}
}

// A duration flag that defaults to its setting says so once; it must not add pflag's
// "(default 0s)" after its own "(default: the … setting)".
func TestDurationFlagsShowNoZeroDefault(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if usage := c.LocalFlags().FlagUsages(); strings.Contains(usage, "(default 0s)") {
			t.Errorf("%s: flag help shows (default 0s):\n%s", c.CommandPath(), usage)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(newHarness(t, false).f))
}
