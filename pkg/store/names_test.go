package store

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"shop", true},
		{"a", true},
		{"my-shop-2", true},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("a", 41), false},
		{"", false},
		{"Shop", false},
		{"my_shop", false},
		{"my.shop", false},
		{"1shop", false},
		{"-shop", false},
		{"shop-", false},
		{"shöp", false},
		{"shop ", false},
		{" shop", false},
		{"sh op", false},
		{"shop;rm -rf /", false},
		{"$(id)", false},
		{"`id`", false},
		{"../etc", false},
		{"a/b", false},
		{"default", false},
		{"kube-system", false},
		{"kubeshop", false},
		{"storectl", false},
		{"www", false},
		{"api", false},
		{"audit", false}, // /api/stores/audit/log is the server's audit log
		{"admin", false},
		{"system", false},
		{"shop\n", false},
		{"shop\x00", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if tt.ok && err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", tt.name, err)
		}
		if !tt.ok {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", tt.name, err)
				continue
			}
			if !strings.Contains(err.Error(), "lowercase letters, digits and hyphens") {
				t.Errorf("ValidateName(%q) message %q does not state the rule", tt.name, err)
			}
		}
	}
}

// FuzzValidateName checks that every accepted name yields valid Kubernetes
// names for everything derived from it, and that nothing panics.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"shop", "a", "a-b", "kube", "default", "-", "A", "ü", strings.Repeat("x", 41)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("error %v does not wrap ErrInvalidName", err)
			}
			return
		}
		if !utf8.ValidString(name) || len(name) > MaxNameLength {
			t.Fatalf("accepted %q", name)
		}
		for _, derived := range []string{Namespace(name), name + "-mariadb", name + "-wordpress", name + "-setup"} {
			if errs := validation.IsDNS1123Label(derived); len(errs) > 0 {
				t.Fatalf("accepted %q but %q is invalid: %v", name, derived, errs)
			}
		}
		// controller-revision-hash label value: <sts>-<hash of up to 10>.
		if errs := validation.IsValidLabelValue(name + "-mariadb-" + strings.Repeat("a", 10)); len(errs) > 0 {
			t.Fatalf("accepted %q but its revision hash label is invalid: %v", name, errs)
		}
		if len(name) > 53 {
			t.Fatalf("accepted %q longer than Helm's release name limit", name)
		}
	})
}

// A refused name says which character is wrong and suggests the nearest valid name.
func TestValidateNameSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"MyShop":  `character 1 'M' is uppercase (try "myshop")`,
		"my_shop": `character 3 '_' is not allowed (only lowercase letters, digits and hyphens are) (try "my-shop")`,
		"My Shop": `character 1 'M' is uppercase (try "my-shop")`,
		"1shop":   `it starts with '1', not a letter (try "shop")`,
		"shop-":   `it ends with a hyphen (try "shop")`,
		"$(id)":   `character 1 '$' is not allowed (only lowercase letters, digits and hyphens are) (try "id")`,
		"shöp":    `character 3 'ö' is not allowed (only lowercase letters, digits and hyphens are) (try "sh-p")`,
		"ADMIN":   `character 1 'A' is uppercase;`, // "admin" is reserved: no suggestion
	} {
		err := ValidateName(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v\nwant it to contain %s", name, err, want)
		}
	}
}
