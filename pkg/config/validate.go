package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxStoreNameLength is the longest store name the engine accepts; a store's host name is
// <name>.<domain>, and a DNS name is at most 253 characters.
const maxStoreNameLength = 40

// maxDomainLength leaves room for the longest store name and its dot.
const maxDomainLength = validation.DNS1123SubdomainMaxLength - maxStoreNameLength - 1

var pullPolicies = []string{"Always", "IfNotPresent", "Never"}

// ValueError is a setting whose value is not allowed; it wraps ErrInvalidConfig.
type ValueError struct {
	// Key is the setting.
	Key string
	// Value is the offending value as text.
	Value string
	// Source is where the value came from.
	Source Source
	// Msg says what is allowed.
	Msg string
	// Missing is true when the setting is required and no source sets it.
	Missing bool
}

// Error renders "invalid <key> \"<value>\" (from <source>): <what is allowed>".
func (e *ValueError) Error() string {
	if e.Missing {
		return fmt.Sprintf("%s is not set: %s", e.Key, e.Msg)
	}
	from := ""
	if e.Source.Kind != "" {
		from = " (from " + e.Source.String() + ")"
	}
	return fmt.Sprintf("invalid %s %q%s: %s", e.Key, e.Value, from, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ValueError) Unwrap() error { return ErrInvalidConfig }

// Validate checks every setting and returns all problems at once, each naming the key, the
// value, where it came from and what is allowed.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, value, msg string) {
		errs = append(errs, &ValueError{Key: key, Value: value, Source: c.sources[key], Msg: msg})
	}

	if c.Domain == "" && !c.domainOptional {
		errs = append(errs, c.missingDomain())
	}
	for _, d := range definitions {
		if d.check != nil {
			d.check(c, func(value, msg string) { bad(d.Key, value, msg) })
		}
	}

	return errors.Join(errs...)
}

// missingDomain explains how to give the domain, which only the local profile has built in.
func (c *Config) missingDomain() error {
	where := c.File
	if where == "" {
		where = DefaultFilePath()
	}
	return &ValueError{Key: KeyDomain, Missing: true, Source: c.sources[KeyDomain], Msg: fmt.Sprintf(
		"profile %s needs the domain stores are served under, and has no default: "+
			"set it with --domain shop.example.com, %s=shop.example.com, or `domain: shop.example.com` in %s "+
			"(at the top level or under %s.%s)",
		c.Profile, EnvVar(KeyDomain), where, keyProfiles, c.Profile)}
}

func checkDomain(d string) string {
	switch {
	case strings.Contains(d, "://"):
		return "must be a bare domain such as shop.example.com, without a scheme"
	case strings.ContainsAny(d, "/:"):
		return "must be a bare domain such as shop.example.com, without a path or port"
	case strings.HasSuffix(d, "."):
		return "must not end with a dot"
	case d != strings.ToLower(d):
		return "must be lowercase (" + strings.ToLower(d) + ")"
	case len(d) > maxDomainLength:
		return fmt.Sprintf("must be at most %d characters, so that <store>.<domain> stays a valid host name", maxDomainLength)
	}
	if msgs := validation.IsDNS1123Subdomain(d); len(msgs) > 0 {
		return "must be a DNS domain of lowercase letters, digits, '-' and '.'"
	}
	for label := range strings.SplitSeq(d, ".") {
		if len(label) > validation.DNS1123LabelMaxLength {
			return fmt.Sprintf("has a label longer than %d characters (%q)", validation.DNS1123LabelMaxLength, label)
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
