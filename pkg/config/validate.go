package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/storectl/storectl/pkg/tenancy"
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

	if _, ok := profiles[c.Profile]; !ok {
		bad(KeyProfile, c.Profile, "is not a profile; allowed: "+strings.Join(ProfileNames(), ", "))
	}

	if c.Domain == "" {
		if !c.domainOptional {
			errs = append(errs, c.missingDomain())
		}
	} else if msg := checkDomain(c.Domain); msg != "" {
		bad(KeyDomain, c.Domain, msg)
	}

	if c.IngressClass == "" {
		bad(KeyIngressClass, c.IngressClass, "must name an IngressClass of the cluster (kubectl get ingressclass)")
	} else if msgs := validation.IsDNS1123Subdomain(c.IngressClass); len(msgs) > 0 {
		bad(KeyIngressClass, c.IngressClass, "must be an IngressClass name: "+strings.Join(msgs, "; "))
	}

	if c.IngressControllerNamespace == "" {
		bad(KeyIngressControllerNamespace, c.IngressControllerNamespace,
			"must name the namespace the ingress controller runs in, so store network policies can admit it")
	} else if msgs := validation.IsDNS1123Label(c.IngressControllerNamespace); len(msgs) > 0 {
		bad(KeyIngressControllerNamespace, c.IngressControllerNamespace, "must be a namespace name: "+strings.Join(msgs, "; "))
	}

	if len(c.IngressControllerLabels) == 0 {
		bad(KeyIngressControllerLabels, "",
			"must select the ingress controller's pods (for example app.kubernetes.io/name=traefik); an empty selector would admit every pod of its namespace")
	}
	for _, k := range sortedKeys(c.IngressControllerLabels) {
		v := c.IngressControllerLabels[k]
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			bad(KeyIngressControllerLabels, k+"="+v, "label name "+strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			bad(KeyIngressControllerLabels, k+"="+v, "label value "+strings.Join(msgs, "; "))
		}
	}

	if c.TLSClusterIssuer != "" {
		if msgs := validation.IsDNS1123Subdomain(c.TLSClusterIssuer); len(msgs) > 0 {
			bad(KeyTLSClusterIssuer, c.TLSClusterIssuer, "must be a ClusterIssuer name, or empty for no TLS: "+strings.Join(msgs, "; "))
		}
	}

	if c.StorageClass != "" {
		if msgs := validation.IsDNS1123Subdomain(c.StorageClass); len(msgs) > 0 {
			bad(KeyStorageClass, c.StorageClass, "must be a StorageClass name, or empty for the cluster default: "+strings.Join(msgs, "; "))
		}
	}

	if c.MaxStores < 1 {
		bad(KeyMaxStores, fmt.Sprint(c.MaxStores), "must be at least 1")
	}

	if !slices.Contains(pullPolicies, c.ImagePullPolicy) {
		msg := "allowed: " + strings.Join(pullPolicies, ", ")
		for _, p := range pullPolicies {
			if strings.EqualFold(p, c.ImagePullPolicy) {
				msg = fmt.Sprintf("write %s (the case matters); %s", p, msg)
			}
		}
		bad(KeyImagePullPolicy, c.ImagePullPolicy, msg)
	}

	if c.Timeout <= 0 {
		bad(KeyTimeout, c.Timeout.String(), "must be longer than zero, for example 10m")
	}

	open := tenancy.IsolationPaths()
	for _, o := range c.TenantIsolationOverrides {
		if !slices.Contains(open, o) {
			bad(KeyTenantIsolationOverrides, o, "is not an isolation value an operator can open to users; allowed: "+strings.Join(open, ", ")+
				" (a store's identity, credentials, host name and settings are never the users')")
		}
	}

	if strings.TrimSpace(c.AuditPath) == "" {
		bad(KeyAuditPath, c.AuditPath, "must be a file path; leave it unset for the default")
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
