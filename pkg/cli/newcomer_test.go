package cli

import (
	"strings"
	"testing"
)

// The mistakes of a first session are answered with the fix, before anything reaches the cluster.
func TestNewcomerMistakes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"wait", "shop", "--timeout", "banana"}, []string{`invalid argument "banana" for "--timeout" flag`, "such as 10m"}},
		{[]string{"create", "shop", "--timeout", "5"}, []string{"such as 10m, 90s or 1h30m"}},
		{[]string{"audit", "--since", "yesterday"}, []string{"such as 10m"}},
		{[]string{"get", "MyShop"}, []string{`character 1 'M' is uppercase (try "myshop")`}},
		{[]string{"create", "my_shop"}, []string{`character 3 '_' is not allowed`, `(try "my-shop")`}},
	} {
		h := newHarness(t, false)
		if code := h.run(tt.args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tt.args, code, ExitUsage)
		}
		for _, w := range tt.want {
			if !strings.Contains(h.stderr(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, h.stderr())
			}
		}
		if calls := h.eng.Calls(); len(calls) != 0 {
			t.Errorf("%v reached the engine: %v", tt.args, calls)
		}
	}
}
