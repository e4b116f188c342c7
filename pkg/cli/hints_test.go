package cli

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/storectl/storectl/pkg/store"
)

// engineReasons returns the values of the engine's Reason constants, read from its source so
// that a reason added there without a hint here fails this test.
func engineReasons(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "store", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if len(v.Names) != 1 || !strings.HasPrefix(v.Names[0].Name, "Reason") || len(v.Values) != 1 {
				continue
			}
			if lit, ok := v.Values[0].(*ast.BasicLit); ok {
				r, _ := strconv.Unquote(lit.Value)
				out = append(out, r)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found %d reasons in pkg/store/errors.go, the parse is wrong", len(out))
	}
	return out
}

// TestEveryReasonHasAHint: every reason of the engine's errors gets a next step from the
// table, for every command that can meet it, and the step names a real command.
func TestEveryReasonHasAHint(t *testing.T) {
	t.Parallel()
	root := NewCmdRoot(newHarness(t, false).f)
	for _, reason := range append(engineReasons(t), "CrashLoopBackOff", "ImagePullBackOff", "Unschedulable", "FailedCreate", "ProvisioningFailed") {
		for _, action := range []string{"create", "delete", "wait", "get"} {
			err := &store.Error{Err: store.ErrFailed, Store: "shop", Reason: reason, Pod: "shop-wordpress-1", Container: "wordpress"}
			h := hintFor(context.Background(), err, "shop", action)
			if h == "" {
				t.Errorf("%s after %s: no next step", reason, action)
				continue
			}
			for _, cmd := range commandsIn(h) {
				if c, _, ferr := root.Find(strings.Fields(cmd)[1:]); ferr != nil || c == root {
					t.Errorf("%s after %s: hint %q names %q, which is not a command", reason, action, h, cmd)
				}
			}
		}
	}
}

// commandsIn returns the 'storectl ...' commands quoted in a hint.
func commandsIn(h string) []string {
	var out []string
	for _, part := range strings.Split(h, "'")[1:] {
		if strings.HasPrefix(part, "storectl ") {
			out = append(out, part)
		}
	}
	return out
}

func TestHintsByFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name, action string
		err          error
		want         string
	}{
		{"crash loop names the pod's log", "create", &store.Error{Err: store.ErrFailed, Store: "shop", Reason: "CrashLoopBackOff", Pod: "p1", Container: "c1"},
			"kubectl -n store-shop logs p1 -c c1 --previous"},
		{"quota refusal", "create", &store.Error{Err: store.ErrFailed, Store: "shop", Reason: "FailedCreate", Refusal: store.RefusalQuota}, "quota.*"},
		{"setup job", "create", &store.Error{Err: store.ErrFailed, Store: "shop", Reason: "BackoffLimitExceeded", Job: "shop-setup-1"}, "logs job/shop-setup-1"},
		{"interrupted delete", "delete", &store.Error{Err: store.ErrInterrupted, Store: "shop", Reason: store.ReasonInterrupted}, "storectl delete shop --yes"},
		{"interrupted create", "create", &store.Error{Err: store.ErrInterrupted, Store: "shop", Reason: store.ReasonInterrupted}, "storectl create shop"},
		{"delete timeout", "delete", &store.Error{Err: store.ErrTimeout, Store: "shop", Reason: store.ReasonTimeout}, "storectl wait shop --for deleted"},
		{"wrapped timeout", "delete", fmt.Errorf("x: %w", store.ErrTimeout), "storectl wait shop --for deleted"},
		{"unreachable", "get", &store.Error{Err: store.ErrUnreachable, Store: "shop"}, "--kubeconfig"},
		{"limit", "create", &store.Error{Err: store.ErrLimitReached, Store: "shop", Reason: store.ReasonLimitReached}, "max-stores"},
	}
	for _, tt := range tests {
		if got := hintFor(ctx, tt.err, "shop", tt.action); !strings.Contains(got, tt.want) {
			t.Errorf("%s: hint %q, want it to contain %q", tt.name, got, tt.want)
		}
	}
	if err := explain(ctx, nil, "shop", "create"); err != nil {
		t.Errorf("explain(nil) = %v", err)
	}
	var h *HintError
	if err := explain(ctx, store.ErrFailed, "shop", "create"); !errors.As(err, &h) {
		t.Errorf("explain does not attach a hint: %v", err)
	}
}
