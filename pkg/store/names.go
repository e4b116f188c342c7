package store

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxNameLength is the longest store name.
//
// Every object name derived from a store name must stay valid:
//
//   - namespace "store-<name>" is a DNS label (<= 63): name <= 57;
//   - the Helm release is named <name> (Helm allows <= 53): name <= 53;
//   - Services "<name>-mariadb" / "<name>-wordpress" are DNS-1035 labels
//     (<= 63): name <= 53;
//   - the StatefulSet "<name>-mariadb" stamps its pods with the label
//     controller-revision-hash="<name>-mariadb-<hash>", hash up to 10
//     characters, and label values are <= 63: name <= 44 — the tightest bound;
//   - the host "<name>.<domain>" needs <name> to be a DNS label (<= 63).
//
// 40 keeps 4 characters of headroom below 44 so a chart can add a suffix.
const MaxNameLength = 40

// NameRule states the naming rule in the words every refusal uses.
const NameRule = "a store name is 1-40 characters of lowercase letters, digits and hyphens, starts with a letter, does not end with a hyphen, and is not a reserved word"

var nameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)

// reservedNames are refused because they collide with cluster conventions
// (kube-*, system, default), storectl itself, or host names people expect to
// mean something else under the store domain (www, api, admin, ...).
var reservedNames = map[string]bool{
	"default": true, "system": true, "storectl": true, "store": true, "stores": true,
	"www": true, "api": true, "admin": true, "root": true, "localhost": true,
	"mail": true, "smtp": true, "imap": true, "ftp": true, "ns": true, "dns": true,
	"ingress": true, "metrics": true, "monitoring": true, "dashboard": true,
	"helm": true, "cert-manager": true, "traefik": true, "nginx": true,
}

// reservedPrefixes are refused as prefixes as well as whole names.
var reservedPrefixes = []string{"kube", "system-", "storectl-", "openshift"}

// ValidateName checks a store name without touching the cluster. The error
// wraps ErrInvalidName and states the rule.
func ValidateName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s; %s", ErrInvalidName, printable(name), why, NameRule)
	}
	switch {
	case name == "":
		return fmt.Errorf("%w: the name is empty; %s", ErrInvalidName, NameRule)
	case len(name) > MaxNameLength:
		return bad(fmt.Sprintf("%d characters is longer than %d", len(name), MaxNameLength))
	case !nameRE.MatchString(name):
		return bad("it contains a character or position that is not allowed")
	case reservedNames[name]:
		return bad("it is reserved")
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return bad(fmt.Sprintf("names starting with %q are reserved", p))
		}
	}
	// Belt and braces: the derived names must pass the API server's own rules.
	for _, derived := range []string{Namespace(name), name + "-mariadb", name + "-wordpress"} {
		if errs := validation.IsDNS1123Label(derived); len(errs) > 0 {
			return bad(strings.Join(errs, "; "))
		}
	}
	return nil
}

// printable quotes a name for an error message, cutting very long input so a
// pasted file does not flood the terminal.
func printable(name string) string {
	const max = 64
	if len(name) > max {
		return name[:max] + "..."
	}
	return name
}

// Namespace returns the namespace of store name.
func Namespace(name string) string { return "store-" + name }

// credentialsSecret returns the name of the store's credentials Secret.
func credentialsSecret(name string) string { return name + "-credentials" }
