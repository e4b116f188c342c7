package tenancy

import (
	"errors"
	"os"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

var nginx = Policy{Store: "shop", IngressController: "ingress-nginx"}

// set builds values the way --set does.
func set(t *testing.T, pairs ...string) map[string]any {
	t.Helper()
	v := map[string]any{}
	for _, p := range pairs {
		if err := strvals.ParseInto(p, v); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// fromYAML builds values the way --values does.
func fromYAML(t *testing.T, s string) map[string]any {
	t.Helper()
	v := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		what   string
		values func(t *testing.T) map[string]any
		policy Policy
		// key must be named in the message, with want.
		key, want string
	}{
		{"another store's name", s("store.name=other"), nginx, "store.name", "identity"},
		{"a domain past the --domain check", s("store.domain=evil.example.com"), nginx, "store.domain", "--domain"},
		{"another Secret", s("credentials.existingSecret=other-credentials"), nginx, "credentials.existingSecret", "passwords"},
		{"no quota", s("quota.enabled=false"), nginx, "quota.enabled", "tenant-isolation-overrides"},
		{"a bigger quota", s(`quota.hard.requests\.cpu=64`), nginx, "quota.hard[requests.cpu]", "ResourceQuota"},
		{"no limit range", s("limitRange.enabled=false"), nginx, "limitRange.enabled", "tenant-isolation-overrides"},
		{"open egress", s("networkPolicy.egressPorts={1,2,3}"), nginx, "networkPolicy.egressPorts", "NetworkPolicies"},
		{"limit range opened, quota not", s("quota.enabled=false"), Policy{Store: "shop", Overrides: []string{"limitRange"}}, "quota.enabled", "quota"},
		{"the pull policy", s("image.pullPolicy=Never"), nginx, "image.pullPolicy", "--image-pull-policy"},
		{"the ingress class", s("ingress.className=internal"), nginx, "ingress.className", "--ingress-class"},
		{"TLS off", s("ingress.tls.enabled=false"), nginx, "ingress.tls.enabled", "tls-cluster-issuer"},
		{"another certificate", s("ingress.tls.secretName=other-tls"), nginx, "ingress.tls.secretName", "tls-cluster-issuer"},
		{"the controller's namespace", s("ingress.controller.namespace=kube-system"), nginx, "ingress.controller.namespace", "ingress-controller"},
		{"a storage class", s("persistence.storageClass=fast"), nginx, "persistence.storageClass", "--storage-class"},
		{"the database account", s("mariadb.user=root"), nginx, "mariadb.user", "account"},
		{"global values", s("global.x=1"), nginx, "global.x", "global"},
		{"a value the table does not know", s("wordpress.replicaCount=2"), nginx, "wordpress.replicaCount", "not a chart value"},
		{"a top-level value the table does not know", s("hostAliases=x"), nginx, "hostAliases", "not a chart value"},
		{"a dotted key that Helm keeps whole", y(`{"store.name": x}`), nginx, "store.name", "not a chart value"},
		{"a dotted key in the middle", y(`{"store": {"title.x": y}}`), nginx, "title.x", "not a chart value"},
		{"server snippet", s(`ingress.annotations.nginx\.ingress\.kubernetes\.io/server-snippet=return 302 https://evil/`), nginx,
			"ingress.annotations[nginx.ingress.kubernetes.io/server-snippet]", "snippet"},
		{"configuration snippet", s(`ingress.annotations.nginx\.ingress\.kubernetes\.io/configuration-snippet=x`), nginx,
			"configuration-snippet", "snippet"},
		{"a snippet under another prefix", s(`ingress.annotations.example\.com/Snippet-x=x`), nginx, "example.com/Snippet-x", "snippet"},
		{"an auth URL", s(`ingress.annotations.nginx\.ingress\.kubernetes\.io/auth-url=http://x`), nginx, "auth-url", "not an Ingress annotation users may set"},
		{"an issuer", s(`ingress.annotations.cert-manager\.io/cluster-issuer=other`), nginx, "cert-manager.io/cluster-issuer", "not an Ingress annotation"},
		{"a DNS record", s(`ingress.annotations.external-dns\.alpha\.kubernetes\.io/hostname=other.example.com`), nginx, "external-dns", "not an Ingress annotation"},
		{"another controller's annotation", s(`ingress.annotations.traefik\.ingress\.kubernetes\.io/router\.middlewares=kube-system-x@kubernetescrd`), nginx,
			"router.middlewares", "not an Ingress annotation"},
		{"any annotation for traefik", s(`ingress.annotations.traefik\.ingress\.kubernetes\.io/router\.tls=false`),
			Policy{Store: "shop", IngressController: "traefik"}, "router.tls", "allowed: none"},
		{"an annotation for an unknown controller", s(`ingress.annotations.nginx\.ingress\.kubernetes\.io/proxy-body-size=1m`),
			Policy{Store: "shop", IngressController: "haproxy"}, "proxy-body-size", `"haproxy"`},
		{"an allowed annotation with a bad value", s(`ingress.annotations.nginx\.ingress\.kubernetes\.io/proxy-body-size=1m;x`), nginx, "proxy-body-size", "must match"},
		{"an invalid annotation key", y(`{"ingress": {"annotations": {"a b": "x"}}}`), nginx, "ingress.annotations[a b]", "annotation key"},
		{"a mesh opt-out on a pod", s(`wordpress.podAnnotations.sidecar\.istio\.io/inject=false`), nginx, "sidecar.istio.io/inject", "pod annotations may have no prefix"},
		{"a Kubernetes pod annotation", s(`mariadb.podAnnotations.container\.apparmor\.security\.beta\.kubernetes\.io/mariadb=unconfined`), nginx, "apparmor", "no prefix"},
		{"a secret injector", s(`setup.podAnnotations.vault\.hashicorp\.com/agent-inject=true`), nginx, "vault.hashicorp.com", "no prefix"},
		{"skip grant tables", s("mariadb.extraArgs={--skip-grant-tables}"), nginx, "mariadb.extraArgs[0]", "--skip-grant-tables"},
		{"skip grant tables spelt with underscores", s("mariadb.extraArgs={--skip_grant_tables}"), nginx, "mariadb.extraArgs[0]", "not a mariadbd option"},
		{"an abbreviation", s("mariadb.extraArgs={--skip-grant}"), nginx, "mariadb.extraArgs[0]", "not a mariadbd option"},
		{"loose prefix", s("mariadb.extraArgs={--loose-skip-grant-tables}"), nginx, "mariadb.extraArgs[0]", "not a mariadbd option"},
		{"init file", s("mariadb.extraArgs={--init-file=/tmp/x.sql}"), nginx, "mariadb.extraArgs[0]", "not a mariadbd option"},
		{"an allowed option with a bad value", s("mariadb.extraArgs={--max-connections=10 --skip-grant-tables}"), nginx, "mariadb.extraArgs[0]", "needs a value"},
		{"a flag with a value", s("mariadb.extraArgs={--skip-name-resolve=0}"), nginx, "mariadb.extraArgs[0]", "takes no value"},
		{"not an option", s("mariadb.extraArgs={skip-grant-tables}"), nginx, "mariadb.extraArgs[0]", "--name=value"},
		{"NUL in the title", y(`store: {title: "a\0b"}`), nginx, "store.title", "U+0000"},
		{"newline in the city", y(`store: {city: "a\nb"}`), nginx, "store.city", "U+000A"},
		{"escape in a product name", y(`setup: {sampleProduct: {name: "a\e[31m"}}`), nginx, "setup.sampleProduct.name", "U+001B"},
		{"bidirectional override", y(`store: {title: "a\u202eb"}`), nginx, "store.title", "U+202E"},
		{"control character in an annotation value", y(`wordpress: {podAnnotations: {a: "x\ty"}}`), nginx, "wordpress.podAnnotations[a]", "control character"},
		{"control character in a key", y(`wordpress: {podAnnotations: {"a\x01": "x"}}`), nginx, `wordpress.podAnnotations["a\x01"]`, "control character"},
		{"a title too long", s("store.title=" + strings.Repeat("x", 201)), nginx, "store.title", "200"},
		{"PHP code in a size", s("wordpress.phpMemoryLimit=1'); system('id"), nginx, "wordpress.phpMemoryLimit", "PHP size"},
		{"an image with a tag in the repository", s("wordpress.image.repository=wordpress:latest"), nginx, "wordpress.image.repository", "without tag"},
		{"an uppercase repository", s("mariadb.image.repository=Evil/Image"), nginx, "mariadb.image.repository", "image repository"},
		{"a tag with a space", y(`setup: {image: {tag: "a b"}}`), nginx, "setup.image.tag", "image tag"},
		{"a digest that is not one", s("setup.image.digest=sha256:xyz"), nginx, "setup.image.digest", "sha256"},
		{"a volume size with a suffix", s("persistence.wordpress.size=1Gi; rm"), nginx, "persistence.wordpress.size", "volume size"},
		{"a resource name the chart does not size", s("wordpress.resources.limits.nvidia\\.com/gpu=1"), nginx, "nvidia.com/gpu", "not a resource"},
		{"a quantity that is not one", s("mariadb.resources.requests.cpu=lots"), nginx, "mariadb.resources.requests.cpu", "quantity"},
		{"a mail host with a path", s("mail.host=smtp.example.com/x"), nginx, "mail.host", "host name"},
		{"a mail host with a newline", y(`mail: {host: "smtp.example.com\nX: y"}`), nginx, "mail.host", "control character"},
		{"a mail port out of range", s("mail.port=70000"), nginx, "mail.port", "1 to 65535"},
		{"a mail port that opens the API server", s("mail.port=6443"), nginx, "mail.port", "egress to port 6443"},
		{"an archive port that opens the kubelet", s("setup.woocommerce.url=https://mirror.example.com:10250/w.zip"), nginx, "setup.woocommerce.url", "egress to port 10250"},
		{"the credentials as mail password", s("mail.authSecret.name=shop-credentials"), nginx, "mail.authSecret.name", "storectl keeps"},
		{"a Helm record as mail password", s("mail.authSecret.name=sh.helm.release.v1.shop.v1"), nginx, "mail.authSecret.name", "storectl keeps"},
		{"an unknown TLS mode", s("mail.tls=maybe"), nginx, "mail.tls", "starttls, tls or none"},
		{"a file URL up the tree", s("setup.woocommerce.url=file:///opt/../etc/shadow"), nginx, "setup.woocommerce.url", "file://"},
		{"an archive URL with a query", s("setup.woocommerce.url=https://example.com/w.zip?x=1"), nginx, "setup.woocommerce.url", "query"},
		{"a mail sender that is not an address", s("mail.from=root"), nginx, "mail.from", "e-mail"},
		{"a cron schedule with a command", s("cron.schedule=* * * * * /bin/sh"), nginx, "cron.schedule", "cron schedule"},
		{"an archive URL with credentials", s("setup.woocommerce.url=https://u:p@example.com/w.zip"), nginx, "setup.woocommerce.url", "without credentials"},
		{"an archive URL of another scheme", s("setup.woocommerce.url=ftp://example.com/w.zip"), nginx, "setup.woocommerce.url", "http(s) URL"},
		{"an archive URL with shell characters", s("setup.woocommerce.url=https://example.com/$(id).zip"), nginx, "setup.woocommerce.url", "shell"},
		{"a checksum that is not one", s("setup.woocommerce.sha256=abc"), nginx, "setup.woocommerce.sha256", "64"},
		{"a version with a command", s("setup.woocommerce.version=1.0;id"), nginx, "setup.woocommerce.version", "release"},
		{"a boolean that is a string", s("cron.enabled=yes"), nginx, "cron.enabled", "true or false"},
		{"workers out of range", s("wordpress.maxRequestWorkers=100000"), nginx, "wordpress.maxRequestWorkers", "1 to 256"},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.values(t), tt.policy)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Check = %v, want a refusal", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Check = %T, want *Error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.key) || !strings.Contains(msg, tt.want) {
				t.Errorf("message does not name %q with %q:\n%s", tt.key, tt.want, msg)
			}
		})
	}
}

func s(pairs ...string) func(*testing.T) map[string]any {
	return func(t *testing.T) map[string]any { return set(t, pairs...) }
}

func y(doc string) func(*testing.T) map[string]any {
	return func(t *testing.T) map[string]any { return fromYAML(t, doc) }
}

func TestAccepted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		what   string
		values func(t *testing.T) map[string]any
		policy Policy
	}{
		{"nothing", y(`{}`), nginx},
		{"texts of the store", y(`store: {title: "Café Ünïcode ☕", adminEmail: shop@example.com, currency: EUR, country: "DE:BE", address: "Straße 1", city: Berlin, postcode: "10115"}`), nginx},
		{"sizes", s("wordpress.resources.limits.memory=1Gi", "mariadb.resources.requests.cpu=250m", "persistence.mariadb.size=20Gi",
			"wordpress.phpMemoryLimit=512M", "wordpress.uploadMaxSize=128M", "wordpress.maxRequestWorkers=16"), nginx},
		{"numbers from YAML", y(`{wordpress: {maxRequestWorkers: 16, resources: {limits: {cpu: 2}}}, setup: {timeoutSeconds: 900}}`), nginx},
		{"images", s("wordpress.image.repository=registry.example.com:5000/shop/wordpress", "wordpress.image.tag=7.1-php8.3-apache",
			"mariadb.image.digest=sha256:"+strings.Repeat("a", 64), "setup.image.repository=wordpress", "setup.image.tag=cli-2.12"), nginx},
		{"tuning the database", s("mariadb.extraArgs={--innodb-buffer-pool-size=256M,--max_connections=100,--skip-name-resolve}"), nginx},
		{"the product", s("setup.sampleProduct.name=Mug", "setup.sampleProduct.sku=MUG-1", `setup.sampleProduct.price=4.50`), nginx},
		{"WooCommerce from elsewhere", s("setup.woocommerce.version=10.3.1", "setup.woocommerce.url=https://mirror.example.com/wp/woocommerce.10.3.1.zip",
			"setup.woocommerce.sha256="+strings.Repeat("0", 64)), nginx},
		{"WooCommerce from the image", s("setup.woocommerce.url=file:///opt/archives/woocommerce.10.3.1.zip", "setup.woocommerce.sha256="+strings.Repeat("0", 64)), nginx},
		{"cron", s("cron.enabled=true", "cron.schedule=*/5 * * * *", "cron.resources.requests.cpu=50m", "cron.activeDeadlineSeconds=240"), nginx},
		{"mail", s("mail.enabled=true", "mail.host=smtp.example.com", "mail.port=587", "mail.tls=starttls", "mail.from=shop@example.com",
			"mail.fromName=My Shop", "mail.username=apikey", "mail.authSecret.name=smtp", "mail.authSecret.key=password"), nginx},
		{"a mail host in capitals", s("mail.host=SMTP.Example.com"), nginx},
		{"a mirror on 8443", s("setup.woocommerce.url=https://mirror.example.com:8443/w.zip"), nginx},
		{"any port once the operator opened networkPolicy", s("mail.port=2526", "setup.woocommerce.url=http://10.0.0.5:9000/w.zip"),
			Policy{Store: "shop", Overrides: []string{"networkPolicy"}}},
		{"an allowed nginx annotation", s(`ingress.annotations.nginx\.ingress\.kubernetes\.io/proxy-body-size=128m`), nginx},
		{"fault injection and scraping on pods", y(`{wordpress: {podAnnotations: {sandbox.storectl.dev/fault: image-pull}},
			mariadb: {podAnnotations: {prometheus.io/scrape: "true"}}, setup: {podAnnotations: {team: web}}}`), nginx},
		{"quota opened by the operator", s("quota.enabled=false", `quota.hard.requests\.memory=300Mi`), Policy{Store: "shop", Overrides: []string{"quota"}}},
		{"everything isolation opened", s("quota.enabled=false", "limitRange.enabled=false", "networkPolicy.egressPorts={443}"),
			Policy{Store: "shop", Overrides: IsolationPaths()}},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			t.Parallel()
			if err := Check(tt.values(t), tt.policy); err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
		})
	}
}

// Every refusal is reported at once, each naming its key.
func TestAllRefusalsAtOnce(t *testing.T) {
	t.Parallel()
	err := Check(set(t, "store.name=x", "quota.enabled=false", `ingress.annotations.a/server-snippet=x`), nginx)
	for _, key := range []string{"store.name", "quota.enabled", "server-snippet"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%v does not name %s", err, key)
		}
	}
}

// The presets the chart ships are what storectl decides, so they need not pass the table;
// but every value the chart defines must have an owner in it, or a new chart value would be
// refused to users without anyone deciding so.
func TestEveryChartValueHasAnOwner(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../charts/woocommerce/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := yaml.Unmarshal(data, &defaults); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if _, ok := rules[path]; ok {
			return
		}
		m, ok := v.(map[string]any)
		if !ok || !inner[path] {
			t.Errorf("chart value %s has no row in the table", path)
			return
		}
		for k, x := range m {
			walk(join(path, k), x)
		}
	}
	walk("", defaults)
}

// The table's paths name chart values (or values being added): no row is a typo of another.
func TestIsolationPathsAreTopLevel(t *testing.T) {
	t.Parallel()
	for _, p := range IsolationPaths() {
		if strings.Contains(p, ".") {
			t.Errorf("isolation path %s: an operator opens whole groups", p)
		}
	}
	if got := strings.Join(IsolationPaths(), ","); got != "limitRange,networkPolicy,quota" {
		t.Errorf("isolation paths = %s", got)
	}
}

// docs/security.md shows every row of the table with its owner, so the documented split is
// the enforced one. An image row is documented by its component's "<component>.image.*".
func TestTableIsDocumented(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // documented path -> owner
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 {
			continue
		}
		owner := strings.TrimSpace(cells[2])
		for _, f := range strings.Split(cells[1], "`") {
			if f = strings.TrimSpace(f); f != "" && !strings.ContainsAny(f, " ,()") {
				rows[f] = owner
			}
		}
	}
	for _, r := range Rules() {
		doc, ok := rows[r.Path]
		if !ok {
			if i := strings.Index(r.Path, ".image."); i > 0 {
				doc, ok = rows[r.Path[:i]+".image.*"]
			}
		}
		if !ok {
			t.Errorf("docs/security.md does not list %s", r.Path)
			continue
		}
		if doc != r.Owner.String() {
			t.Errorf("docs/security.md says %s is %s's; the table says %s", r.Path, doc, r.Owner)
		}
	}
}

// A values file of thousands of refused keys gives a bounded message.
func TestRefusalsAreBounded(t *testing.T) {
	t.Parallel()
	ann := map[string]any{}
	for i := range 5000 {
		ann["k"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+strings.Repeat("y", i/50)] = "\x00"
	}
	err := Check(map[string]any{"wordpress": map[string]any{"podAnnotations": ann}}, nginx)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "more refused values") {
		t.Fatalf("err = %.300v", err)
	}
	if n := strings.Count(err.Error(), "\n"); n != maxReported {
		t.Errorf("%d lines, want %d refusals and the count of the rest", n+1, maxReported+1)
	}
}
