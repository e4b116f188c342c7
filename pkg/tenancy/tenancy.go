// Package tenancy decides which chart values belong to a store's user and which to storectl, and checks what users give.
package tenancy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Owner says who decides a chart value.
type Owner int

const (
	// User values are the store user's to set: sizes, versions, texts, images, mail.
	User Owner = iota + 1
	// Isolation values are storectl's, unless the operator opens them to users with the
	// tenant-isolation-overrides setting.
	Isolation
	// Storectl values are always storectl's: the store's identity, credentials and host name,
	// and what the operator's settings decide.
	Storectl
)

// String names the owner as docs/security.md does.
func (o Owner) String() string {
	switch o {
	case User:
		return "user"
	case Isolation:
		return "isolation"
	case Storectl:
		return "storectl"
	}
	return "unknown"
}

// rule is one row of the table: who owns the value at a path and, for a user's value, how it
// is checked. A rule covers everything below its path.
type rule struct {
	owner Owner
	// check validates a user's value; nil leaves it to the chart's schema. It gets the value
	// as given (a map for a subtree) and reports problems through c.
	check func(c *checker, path string, v any)
	// why explains, for storectl's and isolation values, why the user cannot set it and what
	// to do instead.
	why string
}

// rules is the one table of chart values. A path not in it, and not above one of its paths,
// is storectl's: a new chart value is refused to users until a row here says otherwise.
var rules = map[string]rule{
	// The store's identity and host name.
	"store.name":   {owner: Storectl, why: "it is the store's identity: storectl sets it from the name given to create"},
	"store.domain": {owner: Storectl, why: "it makes the store's host name: set the domain setting instead (--domain, STORECTL_DOMAIN or the config file), which is validated"},
	"global":       {owner: Storectl, why: "global values reach every template of the chart"},

	// What the store shows and sells.
	"store.title":                 {owner: User, check: text(200)},
	"store.adminEmail":            {owner: User, check: email},
	"store.currency":              {owner: User, check: pattern(`^[A-Z]{3}$`, "an ISO 4217 code such as USD")},
	"store.country":               {owner: User, check: pattern(`^[A-Z]{2}(:[A-Z0-9-]{1,10})?$`, "CC or CC:STATE, such as US:CA")},
	"store.address":               {owner: User, check: text(200)},
	"store.city":                  {owner: User, check: text(100)},
	"store.postcode":              {owner: User, check: text(20)},
	"setup.sampleProduct.name":    {owner: User, check: text(100)},
	"setup.sampleProduct.sku":     {owner: User, check: pattern(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`, "letters, digits, '_', '.' and '-', at most 64")},
	"setup.sampleProduct.price":   {owner: User, check: pattern(`^[0-9]{1,9}(\.[0-9]{1,2})?$`, `a price as text, such as "19.99"`)},
	"setup.woocommerce.version":   {owner: User, check: version},
	"setup.woocommerce.url":       {owner: User, check: archiveURL},
	"setup.woocommerce.sha256":    {owner: User, check: pattern(`^[a-f0-9]{64}$`, "64 lowercase hex digits")},
	"setup.phpMemoryLimit":        {owner: User, check: phpSize},
	"setup.timeoutSeconds":        {owner: User, check: integer(30, 86400)},
	"setup.backoffLimit":          {owner: User, check: integer(0, 10)},
	"setup.activeDeadlineSeconds": {owner: User, check: integer(60, 86400)},
	"setup.dbCheckTimeoutSeconds": {owner: User, check: integer(1, 600)},
	"setup.socketTimeoutSeconds":  {owner: User, check: integer(1, 3600)},

	// Sizes and versions of the components.
	"mariadb.image.repository":    {owner: User, check: imageRepository},
	"mariadb.image.tag":           {owner: User, check: imageTag},
	"mariadb.image.digest":        {owner: User, check: imageDigest},
	"mariadb.extraArgs":           {owner: User, check: mariadbArgs},
	"mariadb.resources":           {owner: User, check: resources},
	"mariadb.podAnnotations":      {owner: User, check: podAnnotations},
	"wordpress.image.repository":  {owner: User, check: imageRepository},
	"wordpress.image.tag":         {owner: User, check: imageTag},
	"wordpress.image.digest":      {owner: User, check: imageDigest},
	"wordpress.maxRequestWorkers": {owner: User, check: integer(1, 256)},
	"wordpress.phpMemoryLimit":    {owner: User, check: phpSize},
	"wordpress.uploadMaxSize":     {owner: User, check: phpSize},
	"wordpress.resources":         {owner: User, check: resources},
	"wordpress.podAnnotations":    {owner: User, check: podAnnotations},
	"setup.image.repository":      {owner: User, check: imageRepository},
	"setup.image.tag":             {owner: User, check: imageTag},
	"setup.image.digest":          {owner: User, check: imageDigest},
	"setup.resources":             {owner: User, check: resources},
	"setup.podAnnotations":        {owner: User, check: podAnnotations},
	"persistence.wordpress.size":  {owner: User, check: volumeSize},
	"persistence.mariadb.size":    {owner: User, check: volumeSize},
	"ingress.annotations":         {owner: User, check: ingressAnnotations},

	// Background processing.
	"cron.enabled":               {owner: User, check: boolean},
	"cron.schedule":              {owner: User, check: cronSchedule},
	"cron.resources":             {owner: User, check: resources},
	"cron.podAnnotations":        {owner: User, check: podAnnotations},
	"cron.activeDeadlineSeconds": {owner: User, check: integer(30, 86400)},

	// Outgoing mail.
	"mail.enabled":         {owner: User, check: boolean},
	"mail.host":            {owner: User, check: hostName},
	"mail.port":            {owner: User, check: egressPort("mail.port", smtpPorts)},
	"mail.tls":             {owner: User, check: mailTLS},
	"mail.from":            {owner: User, check: email},
	"mail.fromName":        {owner: User, check: text(100)},
	"mail.username":        {owner: User, check: text(254)},
	"mail.authSecret.name": {owner: User, check: secretName},
	"mail.authSecret.key":  {owner: User, check: pattern(`^[-._a-zA-Z0-9]{1,253}$`, "a Secret key: letters, digits, '-', '_' and '.'")},

	// The record of what storectl made a revision from.
	"storectl": {owner: Storectl, why: "it records the settings and values storectl made the store with"},

	// Credentials.
	"credentials":      {owner: Storectl, why: "it names the Secret of the passwords storectl generated for this store"},
	"mariadb.user":     {owner: Storectl, why: "it is the database account the generated password belongs to"},
	"mariadb.database": {owner: Storectl, why: "it is the database the generated account is granted"},

	// What the operator's settings decide.
	"image":                    {owner: Storectl, why: "the pull policy is the image-pull-policy setting (--image-pull-policy)"},
	"ingress.className":        {owner: Storectl, why: "it is the ingress-class setting (--ingress-class)"},
	"ingress.tls":              {owner: Storectl, why: "TLS is the tls-cluster-issuer setting (--tls-cluster-issuer)"},
	"ingress.controller":       {owner: Storectl, why: "it is the ingress-controller-namespace and ingress-controller-labels settings"},
	"persistence.storageClass": {owner: Storectl, why: "it is the storage-class setting (--storage-class)"},

	// Isolation from the other stores and the cluster.
	"quota":         {owner: Isolation, why: "the ResourceQuota keeps the store within its share of the cluster"},
	"limitRange":    {owner: Isolation, why: "the LimitRange sizes and caps every container of the store"},
	"networkPolicy": {owner: Isolation, why: "the NetworkPolicies keep other namespaces away from the store"},
}

// inner holds every path above a rule's path: maps the walk descends into.
var inner = func() map[string]bool {
	m := map[string]bool{"": true}
	for p := range rules {
		for i := range p {
			if p[i] == '.' {
				m[p[:i]] = true
			}
		}
	}
	return m
}()

// Rule is one row of the table, as docs and configuration see it.
type Rule struct {
	// Path is the chart value, dotted as in --set.
	Path string
	// Owner decides the value.
	Owner Owner
	// Why says, for values that are not the user's, why not.
	Why string
}

// Rules returns the table, sorted by path.
func Rules() []Rule {
	out := make([]Rule, 0, len(rules))
	for p, r := range rules {
		out = append(out, Rule{Path: p, Owner: r.owner, Why: r.why})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// IsolationPaths returns the values an operator may open to users, sorted.
func IsolationPaths() []string {
	var out []string
	for p, r := range rules {
		if r.owner == Isolation {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Policy is what a check depends on besides the table.
type Policy struct {
	// Store is the store's name; Secrets storectl keeps for it cannot be referenced.
	Store string
	// IngressController is the ingress controller serving the store, as the
	// app.kubernetes.io/name label of its pods says (ingress-nginx, traefik); it decides
	// which Ingress annotations users may set.
	IngressController string
	// Overrides are isolation paths the operator opened to users.
	Overrides []string
}

// ErrRefused is wrapped by every refusal of a user's value.
var ErrRefused = errors.New("chart value refused")

// Error is one refused value.
type Error struct {
	// Path names the value as --set does; a key of a free-form map is written in brackets,
	// as in ingress.annotations[nginx.ingress.kubernetes.io/server-snippet].
	Path string
	// Msg says why, and what is allowed instead.
	Msg string
}

// Error renders "value <path> <why>".
func (e *Error) Error() string { return "value " + e.Path + " " + e.Msg }

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *Error) Unwrap() error { return ErrRefused }

// Check refuses every user value the user may not set or gives malformed, naming each. It
// makes no API call and changes nothing.
func Check(values map[string]any, p Policy) error {
	c := &checker{policy: p}
	c.walk("", values)
	return c.result()
}

type checker struct {
	policy Policy
	errs   []*Error
}

// opened reports whether the operator let users set the isolation group path.
func (c *checker) opened(path string) bool { return slices.Contains(c.policy.Overrides, path) }

func (c *checker) refuse(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Path < c.errs[j].Path })
	errs := make([]error, 0, maxReported+1)
	seen := map[string]bool{}
	more := 0
	for _, e := range c.errs {
		if seen[e.Path+e.Msg] {
			continue
		}
		seen[e.Path+e.Msg] = true
		if len(errs) == maxReported {
			more++
			continue
		}
		errs = append(errs, e)
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("and %d more refused values: %w", more, ErrRefused))
	}
	return errors.Join(errs...)
}

// maxReported bounds the refusals listed in one error, so that a hostile values file cannot
// turn into megabytes of messages.
const maxReported = 20

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *checker) walk(path string, v any) {
	if r, ok := rules[path]; ok && path != "" {
		c.apply(path, r, v)
		return
	}
	m, isMap := v.(map[string]any)
	if !isMap || !inner[path] {
		c.refuse(path, "is not a chart value a store's user may set; see docs/security.md for those that are")
		return
	}
	for _, k := range sortedKeys(m) {
		if k == "" || strings.Contains(k, ".") || hasControl(k) {
			c.refuse(join(path, quoteKey(k)), "is not a chart value a store's user may set; see docs/security.md for those that are")
			continue
		}
		c.walk(join(path, k), m[k])
	}
}

func (c *checker) apply(path string, r rule, v any) {
	switch r.owner {
	case Storectl:
		for _, leaf := range leaves(path, v) {
			c.refuse(leaf, "is set by storectl and cannot be given in --set or --values: %s", r.why)
		}
		return
	case Isolation:
		if !slices.Contains(c.policy.Overrides, path) {
			for _, leaf := range leaves(path, v) {
				c.refuse(leaf, "is set by storectl and cannot be given in --set or --values: %s; an operator can let users set %s with tenant-isolation-overrides in storectl's configuration", r.why, path)
			}
			return
		}
	}
	c.controls(path, v)
	if r.check != nil {
		r.check(c, path, v)
	}
}

// controls refuses control characters anywhere in v: values become environment variables,
// labels, annotations, arguments and configuration files, where a NUL or a newline changes
// what they mean.
func (c *checker) controls(path string, v any) {
	switch x := v.(type) {
	case string:
		if hasControl(x) {
			c.refuse(path, "contains a control character (%s); values are plain text", describeControl(x))
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if hasControl(k) {
				c.refuse(path+"["+quoteKey(k)+"]", "has a key with a control character (%s)", describeControl(k))
				continue
			}
			c.controls(path+"["+k+"]", x[k])
		}
	case []any:
		for i, e := range x {
			c.controls(fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

// leaves lists the paths of the values given under path, so that a refusal names the very
// keys the user wrote (credentials.existingSecret, not credentials).
func leaves(path string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []string{path}
	}
	var out []string
	for _, k := range sortedKeys(m) {
		p := join(path, k)
		if k == "" || strings.Contains(k, ".") || hasControl(k) {
			p = path + "[" + quoteKey(k) + "]"
		}
		out = append(out, leaves(p, m[k])...)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
