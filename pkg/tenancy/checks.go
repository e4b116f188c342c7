package tenancy

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// hasControl reports characters that change how text is read rather than what it says: C0
// and C1 controls (NUL, newline, escape...), line and paragraph separators, bidirectional
// overrides, and bytes that are not UTF-8.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if isControl(r) {
			return true
		}
	}
	return false
}

func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// describeControl names the first offending character, as U+0000.
func describeControl(s string) string {
	if !utf8.ValidString(s) {
		return "bytes that are not UTF-8"
	}
	for _, r := range s {
		if isControl(r) {
			return fmt.Sprintf("U+%04X", r)
		}
	}
	return ""
}

// quoteKey renders a key for a message so that its control characters are visible.
func quoteKey(k string) string {
	if hasControl(k) || k == "" {
		return strconv.Quote(k)
	}
	return k
}

func str(c *checker, path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.refuse(path, "must be a string, not %s", describe(v))
	}
	return s, ok
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("the number %v", v)
}

func text(max int) func(*checker, string, any) {
	return func(c *checker, path string, v any) {
		if s, ok := str(c, path, v); ok && utf8.RuneCountInString(s) > max {
			c.refuse(path, "is longer than %d characters", max)
		}
	}
}

func pattern(expr, what string) func(*checker, string, any) {
	re := lazyCompile(expr)
	return func(c *checker, path string, v any) {
		if s, ok := str(c, path, v); ok && !re.MatchString(s) {
			c.refuse(path, "must be %s, not %q", what, s)
		}
	}
}

var (
	version = pattern(`^$|^[0-9]{1,4}\.[0-9]{1,4}(\.[0-9]{1,4})?$`, "empty or a release such as 10.3.1")
	phpSize = pattern(`^[1-9][0-9]{0,5}[KMG]?$`, "a PHP size such as 256M")
	email   = pattern(`^$|^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`, "an e-mail address such as shop@example.com")
	mailTLS = pattern(`^(starttls|tls|none)$`, "starttls, tls or none")
)

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func integer(lo, hi int) func(*checker, string, any) {
	return func(c *checker, path string, v any) {
		n, ok := number(v)
		if !ok || n != math.Trunc(n) || n < float64(lo) || n > float64(hi) {
			c.refuse(path, "must be a whole number from %d to %d, not %s", lo, hi, show(v))
		}
	}
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return describe(v)
}

func boolean(c *checker, path string, v any) {
	if _, ok := v.(bool); !ok {
		c.refuse(path, "must be true or false, not %s", show(v))
	}
}

// imageRepository accepts an image name without tag or digest, as a registry resolves it.
func imageRepository(c *checker, path string, v any) {
	s, ok := str(c, path, v)
	if !ok {
		return
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil || !reference.IsNameOnly(named) || len(s) > 255 {
		c.refuse(path, "must be an image repository such as mariadb or registry.example.com/shop/wordpress, without tag or digest, not %q", s)
	}
}

var tagRe = lazyCompile(`^` + reference.TagRegexp.String() + `$`)

func imageTag(c *checker, path string, v any) {
	if s, ok := str(c, path, v); ok && !tagRe.MatchString(s) {
		c.refuse(path, "must be an image tag (letters, digits, '_', '.' and '-', at most 128), not %q", s)
	}
}

var imageDigest = pattern(`^$|^sha256:[a-f0-9]{64}$`, "empty or sha256:<64 hex digits>")

var volumeSizeRe = lazyCompile(`^[1-9][0-9]{0,5}(Mi|Gi|Ti)$`)

func volumeSize(c *checker, path string, v any) {
	s, ok := str(c, path, v)
	if !ok {
		return
	}
	if !volumeSizeRe.MatchString(s) {
		c.refuse(path, "must be a volume size such as 512Mi or 10Gi, not %q", s)
	}
}

// resources accepts requests and limits of cpu, memory and ephemeral-storage.
func resources(c *checker, path string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.refuse(path, "must be a mapping of requests and limits, not %s", describe(v))
		return
	}
	for _, k := range sortedKeys(m) {
		p := join(path, quoteKey(k))
		if k != "requests" && k != "limits" {
			c.refuse(p, "is not a resource section; allowed: requests, limits")
			continue
		}
		list, ok := m[k].(map[string]any)
		if !ok {
			c.refuse(p, "must be a mapping of resources, not %s", describe(m[k]))
			continue
		}
		for _, name := range sortedKeys(list) {
			q := join(p, quoteKey(name))
			switch name {
			case "cpu", "memory", "ephemeral-storage":
			default:
				c.refuse(q, "is not a resource a store may size; allowed: cpu, memory, ephemeral-storage")
				continue
			}
			var text string
			switch x := list[name].(type) {
			case string:
				text = x
			default:
				if n, ok := number(x); ok {
					text = strconv.FormatFloat(n, 'f', -1, 64)
				}
			}
			if qty, err := resource.ParseQuantity(text); err != nil || qty.Sign() < 0 || len(text) > 20 {
				c.refuse(q, "must be a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi, not %s", show(list[name]))
			}
		}
	}
}

// mariadbOptions are the mariadbd options a user may pass, with the form of their value; a
// nil check means an option without a value. Only tuning is here: nothing that changes who
// may log in, where files go or what the server loads.
var mariadbOptions = map[string]*lazyRegexp{
	"innodb-buffer-pool-size":        sizeRe,
	"innodb-buffer-pool-instances":   countRe,
	"innodb-log-file-size":           sizeRe,
	"innodb-log-buffer-size":         sizeRe,
	"innodb-flush-log-at-trx-commit": lazyCompile(`^[012]$`),
	"innodb-io-capacity":             countRe,
	"max-connections":                countRe,
	"max-allowed-packet":             sizeRe,
	"tmp-table-size":                 sizeRe,
	"max-heap-table-size":            sizeRe,
	"table-open-cache":               countRe,
	"table-definition-cache":         countRe,
	"thread-cache-size":              countRe,
	"sort-buffer-size":               sizeRe,
	"join-buffer-size":               sizeRe,
	"key-buffer-size":                sizeRe,
	"read-buffer-size":               sizeRe,
	"query-cache-size":               sizeRe,
	"query-cache-type":               lazyCompile(`^(0|1|2|ON|OFF|DEMAND)$`),
	"wait-timeout":                   countRe,
	"interactive-timeout":            countRe,
	"long-query-time":                lazyCompile(`^[0-9]{1,5}(\.[0-9]{1,6})?$`),
	"slow-query-log":                 onOffRe,
	"performance-schema":             onOffRe,
	"character-set-server":           lazyCompile(`^[a-z0-9_]{1,32}$`),
	"collation-server":               lazyCompile(`^[a-z0-9_]{1,64}$`),
	"transaction-isolation":          lazyCompile(`^(READ-UNCOMMITTED|READ-COMMITTED|REPEATABLE-READ|SERIALIZABLE)$`),
	"skip-name-resolve":              nil,
}

var (
	sizeRe  = lazyCompile(`^[0-9]{1,12}[KMGkmg]?$`)
	countRe = lazyCompile(`^[0-9]{1,9}$`)
	onOffRe = lazyCompile(`^(0|1|ON|OFF)$`)
	argRe   = lazyCompile(`^--([a-z0-9_-]+)(=(.*))?$`)
)

// mariadbArgs accepts a list of options from mariadbOptions, written --name=value (or
// --name_with_underscores=value, which mariadbd reads the same).
func mariadbArgs(c *checker, path string, v any) {
	list, ok := v.([]any)
	if !ok {
		c.refuse(path, "must be a list of mariadbd options, not %s", describe(v))
		return
	}
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := str(c, p, e)
		if !ok {
			continue
		}
		m := argRe.FindStringSubmatch(s)
		if m == nil {
			c.refuse(p, "must be a mariadbd option written --name=value, not %q", s)
			continue
		}
		name := strings.ReplaceAll(m[1], "_", "-")
		valRe, known := mariadbOptions[name]
		switch {
		case !known:
			c.refuse(p, "%q is not a mariadbd option storectl passes; allowed: %s", s, strings.Join(sortedOptionNames(), ", "))
		case valRe == nil && m[2] != "":
			c.refuse(p, "%q takes no value: write --%s", s, name)
		case valRe != nil && (m[2] == "" || !valRe.MatchString(m[3])):
			c.refuse(p, "%q needs a value of the form %s", s, valRe.String())
		}
	}
}

func sortedOptionNames() []string {
	out := make([]string, 0, len(mariadbOptions))
	for k := range mariadbOptions {
		out = append(out, "--"+k)
	}
	slices.Sort(out)
	return out
}

// ingressAnnotations are the annotations a user may add to the store's Ingress, per ingress
// controller, with the form of their value. Anything else is refused: an annotation is
// configuration of the controller every store shares, and some (snippets, auth URLs, other
// namespaces' middlewares, cert-manager issuers, external-dns host names) reach beyond the
// store.
var ingressAnnotations = annotationCheck(map[string]map[string]*lazyRegexp{
	"ingress-nginx": {
		"nginx.ingress.kubernetes.io/proxy-body-size":         nginxSizeRe,
		"nginx.ingress.kubernetes.io/client-body-buffer-size": nginxSizeRe,
		"nginx.ingress.kubernetes.io/proxy-buffer-size":       nginxSizeRe,
		"nginx.ingress.kubernetes.io/proxy-buffering":         lazyCompile(`^(on|off)$`),
		"nginx.ingress.kubernetes.io/proxy-connect-timeout":   secondsRe,
		"nginx.ingress.kubernetes.io/proxy-read-timeout":      secondsRe,
		"nginx.ingress.kubernetes.io/proxy-send-timeout":      secondsRe,
		"nginx.ingress.kubernetes.io/limit-rps":               countRe,
		"nginx.ingress.kubernetes.io/limit-rpm":               countRe,
		"nginx.ingress.kubernetes.io/limit-connections":       countRe,
	},
	// Traefik takes its per-router settings from annotations that name entry points,
	// TLS and middlewares of any namespace: storectl's preset sets what a store needs.
	"traefik": {},
})

var (
	nginxSizeRe = lazyCompile(`^[0-9]{1,6}[kKmMgG]?$`)
	secondsRe   = lazyCompile(`^[0-9]{1,4}$`)
)

func annotationCheck(allowed map[string]map[string]*lazyRegexp) func(*checker, string, any) {
	return func(c *checker, path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			c.refuse(path, "must be a mapping of annotations, not %s", describe(v))
			return
		}
		ctrl := c.policy.IngressController
		for _, k := range sortedKeys(m) {
			p := path + "[" + quoteKey(k) + "]"
			if !annotationKey(c, p, k) {
				continue
			}
			forCtrl, managed := allowed[ctrl]
			valRe, known := forCtrl[k]
			switch {
			case !managed:
				c.refuse(p, "is refused: storectl allows no Ingress annotations for the ingress controller %q", ctrl)
				continue
			case !known:
				c.refuse(p, "is not an Ingress annotation users may set for %s; allowed: %s", ctrl, orNone(sortedNames(forCtrl)))
				continue
			}
			if s, ok := str(c, p, m[k]); ok && !valRe.MatchString(s) {
				c.refuse(p, "must match %s, not %q", valRe.String(), s)
			}
		}
	}
}

// podAnnotationDomains are the annotation prefixes users may put on a store's pods, besides
// keys without a prefix: no controller that changes a pod's privileges, network or secrets
// reads these. sandbox.storectl.dev drives the sandbox cluster's simulated pods.
var podAnnotationDomains = []string{"sandbox.storectl.dev", "prometheus.io"}

func podAnnotations(c *checker, path string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.refuse(path, "must be a mapping of annotations, not %s", describe(v))
		return
	}
	for _, k := range sortedKeys(m) {
		p := path + "[" + quoteKey(k) + "]"
		if !annotationKey(c, p, k) {
			continue
		}
		if prefix, _, found := strings.Cut(k, "/"); found && !slices.Contains(podAnnotationDomains, prefix) {
			c.refuse(p, "is refused: pod annotations may have no prefix or one of %s (other prefixes belong to controllers that act on the pod)",
				strings.Join(podAnnotationDomains, ", "))
			continue
		}
		if s, ok := str(c, p, m[k]); ok && len(s) > 1024 {
			c.refuse(p, "has a value longer than 1024 characters")
		}
	}
}

// annotationKey checks the rules every annotation key follows, and refuses snippets outright.
func annotationKey(c *checker, path, k string) bool {
	if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
		c.refuse(path, "is not a valid annotation key: %s", strings.Join(msgs, "; "))
		return false
	}
	if strings.Contains(strings.ToLower(k), "snippet") {
		c.refuse(path, "is refused: snippet annotations inject configuration into the ingress controller every store shares")
		return false
	}
	return true
}

// hostName accepts a DNS name or an IP address.
func hostName(c *checker, path string, v any) {
	s, ok := str(c, path, v)
	if !ok || s == "" || net.ParseIP(s) != nil {
		return
	}
	if msgs := validation.IsDNS1123Subdomain(strings.ToLower(s)); len(msgs) > 0 {
		c.refuse(path, "must be a host name such as smtp.example.com or an IP address, not %q", s)
	}
}

var urlPathRe = lazyCompile(`^[A-Za-z0-9._~%/+=-]*$`)

// The chart opens egress to every address on the SMTP port and on the port of the WooCommerce
// source, so these ports widen the store's NetworkPolicy: a user may choose among the usual
// ones, and any port only when the operator opened networkPolicy.
var (
	smtpPorts = []int{25, 465, 587, 2525}
	webPorts  = []int{80, 443, 8080, 8443}
)

func egressPort(what string, allowed []int) func(*checker, string, any) {
	within := integer(1, 65535)
	return func(c *checker, path string, v any) {
		n := len(c.errs)
		if within(c, path, v); len(c.errs) > n {
			return
		}
		port, _ := number(v)
		c.checkEgressPort(path, int(port), allowed)
	}
}

func (c *checker) checkEgressPort(path string, port int, allowed []int) {
	if c.opened("networkPolicy") || slices.Contains(allowed, port) {
		return
	}
	text := make([]string, len(allowed))
	for i, p := range allowed {
		text[i] = strconv.Itoa(p)
	}
	c.refuse(path, "opens the store's egress to port %d on every address; allowed: %s (an operator can allow any port by opening networkPolicy with tenant-isolation-overrides)",
		port, strings.Join(text, ", "))
}

// archiveURL accepts an http or https URL of plain characters, without credentials, query
// or fragment, or a file:// path inside the setup image without "..".
func archiveURL(c *checker, path string, v any) {
	s, ok := str(c, path, v)
	if !ok || s == "" {
		return
	}
	u, err := url.Parse(s)
	bad := err != nil || len(s) > 2048 || strings.ContainsAny(s, " '\"`$\\;?#")
	if !bad {
		bad = u.User != nil || u.Opaque != "" || !urlPathRe.MatchString(u.EscapedPath())
	}
	if !bad {
		switch u.Scheme {
		case "https", "http":
			host := u.Hostname()
			bad = host == "" || (net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(strings.ToLower(host))) > 0)
			if p := u.Port(); !bad && p != "" {
				port, err := strconv.Atoi(p)
				if bad = err != nil || port < 1 || port > 65535; !bad {
					c.checkEgressPort(path, port, webPorts)
				}
			}
		case "file":
			bad = u.Host != "" || !strings.HasPrefix(u.Path, "/") || slices.Contains(strings.Split(u.Path, "/"), "..")
		default:
			bad = true
		}
	}
	if bad {
		c.refuse(path, "must be an http(s) URL without credentials, query or shell characters, such as "+
			"https://downloads.example.com/woocommerce.10.3.1.zip, or a file:// path in the setup image, not %q", s)
	}
}

var cronRe = lazyCompile(`^(@(hourly|daily|weekly|monthly|yearly|annually)|[0-9*/,-]{1,40}( [0-9A-Za-z*/,-]{1,40}){4})$`)

func cronSchedule(c *checker, path string, v any) {
	if s, ok := str(c, path, v); ok && !cronRe.MatchString(s) {
		c.refuse(path, "must be a cron schedule of five fields such as \"*/5 * * * *\", or @hourly/@daily, not %q", s)
	}
}

// secretName accepts a Secret of the store's namespace, except those storectl keeps: the
// credentials, the TLS certificate and Helm's release records.
func secretName(c *checker, path string, v any) {
	s, ok := str(c, path, v)
	if !ok || s == "" {
		return
	}
	if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
		c.refuse(path, "must be a Secret name, not %q", s)
		return
	}
	store := c.policy.Store
	if s == store+"-credentials" || s == store+"-tls" || strings.HasPrefix(s, "sh.helm.release.") {
		c.refuse(path, "names %s, a Secret storectl keeps for the store; create a Secret of your own for the mail password", s)
	}
}

func sortedNames(m map[string]*lazyRegexp) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
