package store

import (
	"fmt"
	"regexp"
	"sort"
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
// mean something else under the store domain (www, api, admin, ...). "audit" is
// the path /api/stores/audit/log of storectl serve.
var reservedNames = map[string]bool{
	"default": true, "system": true, "storectl": true, "store": true, "stores": true, "audit": true,
	"www": true, "api": true, "admin": true, "root": true, "localhost": true,
	"mail": true, "smtp": true, "imap": true, "ftp": true, "ns": true, "dns": true,
	"ingress": true, "metrics": true, "monitoring": true, "dashboard": true,
	"helm": true, "cert-manager": true, "traefik": true, "nginx": true,
}

// reservedPrefixes are refused as prefixes as well as whole names.
var reservedPrefixes = []string{"kube", "system-", "storectl-", "openshift"}

// ReservedNames returns the words no store may be named, sorted.
func ReservedNames() []string {
	out := make([]string, 0, len(reservedNames))
	for n := range reservedNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ReservedPrefixes returns the prefixes no store name may start with.
func ReservedPrefixes() []string { return append([]string(nil), reservedPrefixes...) }

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
		return bad(whyNotAllowed(name))
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

// whyNotAllowed names the first character of name that breaks the pattern, by position,
// and suggests the nearest valid name when there is one.
func whyNotAllowed(name string) string {
	why := ""
	for i, r := range []rune(name) {
		pos := i + 1
		switch {
		case r >= 'A' && r <= 'Z':
			why = fmt.Sprintf("character %d %q is uppercase", pos, r)
		case r >= 'a' && r <= 'z', r == '-' && i > 0, r >= '0' && r <= '9' && i > 0:
			continue
		case i == 0 && (r == '-' || r >= '0' && r <= '9'):
			why = fmt.Sprintf("it starts with %q, not a letter", r)
		default:
			why = fmt.Sprintf("character %d %q is not allowed (only lowercase letters, digits and hyphens are)", pos, r)
		}
		break
	}
	if why == "" && strings.HasSuffix(name, "-") {
		why = "it ends with a hyphen"
	}
	if why == "" {
		why = "it contains a character or position that is not allowed"
	}
	if s := suggestName(name); s != "" {
		why += fmt.Sprintf(" (try %q)", s)
	}
	return why
}

// suggestName returns name lowercased, with runs of other characters turned into one
// hyphen and leading digits and hyphens dropped, when that is a valid name; else "".
func suggestName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(strings.TrimLeft(b.String(), "0123456789-"), "-")
	if s == "" || s == name || ValidateName(s) != nil {
		return ""
	}
	return s
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
