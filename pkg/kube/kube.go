// Package kube builds Kubernetes clients from a kubeconfig and classifies API errors.
package kube

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/storectl/storectl/pkg/input"
)

// Client tuning. A CLI issues short bursts of requests (cluster-wide lists, an
// install of a dozen objects, informers starting together), so the client-go
// defaults of 5 QPS / 10 burst would throttle it for no benefit.
const (
	DefaultQPS   = 50
	DefaultBurst = 100
	// DefaultTimeout bounds a single request that is not a watch; a hung API
	// server must surface as "unreachable" quickly instead of hanging a command.
	DefaultTimeout = 30 * time.Second
	// ConnectTimeout bounds the TCP connection to the API server: a server that drops
	// packets (a stopped VM, a firewall, a wrong address) is reported unreachable after it
	// rather than after client-go's 30 s. The TLS handshake on an open connection is
	// bounded separately, by client-go's 10 s.
	ConnectTimeout = 5 * time.Second
)

// Clients holds everything storectl needs to talk to one cluster.
type Clients struct {
	// Interface is the typed clientset.
	Interface kubernetes.Interface
	// RESTConfig is the full configuration, with credentials and TLS settings, for what
	// needs them itself (exec and port-forward upgrade their connections). Its Timeout is
	// zero so that watches stay open; single requests are bounded by contexts.
	RESTConfig *rest.Config
	// Getter gives Helm, and any other client, the shared configuration (see Share).
	Getter genericclioptions.RESTClientGetter
	// Server is the API server URL of the selected context.
	Server string
	// Context is the name of the selected kubeconfig context.
	Context string
}

// NewClients loads the kubeconfig the way kubectl does: an explicit path wins,
// otherwise $KUBECONFIG (a list of files) and then ~/.kube/config. An empty
// context selects the kubeconfig's current context.
func NewClients(kubeconfig, context string) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)

	if err := checkExplicitPath(kubeconfig); err != nil {
		return nil, &Error{Kind: KindConfig, Err: err}
	}
	// client-go reads these files whole; a device or a huge file must not exhaust memory.
	for _, p := range rules.GetLoadingPrecedence() {
		if err := input.CheckFile(p, "kubeconfig", input.MaxKubeconfig); err != nil {
			return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("load kubeconfig: %w", err)}
		}
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("load kubeconfig: %w", err)}
	}
	if err := checkSelection(rules, &raw, context); err != nil {
		return nil, &Error{Kind: KindConfig, Err: err}
	}
	if err := checkReferencedFiles(&raw); err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("load kubeconfig: %w", err)}
	}
	ctxName := context
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("kubeconfig context %q: %w", ctxName, err)}
	}
	Tune(cfg)
	shared, err := Share(cfg)
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("build client: %w", err)}
	}
	cs, err := kubernetes.NewForConfig(Protobuf(shared))
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: fmt.Errorf("build client: %w", err)}
	}
	return &Clients{
		Interface:  cs,
		RESTConfig: cfg,
		Getter:     NewGetter(shared, loader),
		Server:     cfg.Host,
		Context:    ctxName,
	}, nil
}

// checkReferencedFiles applies the kubeconfig limit to the certificate, key and token files
// the kubeconfig names, which client-go reads whole when it builds the transport.
func checkReferencedFiles(raw *clientcmdapi.Config) error {
	for name, c := range raw.Clusters {
		if c.CertificateAuthority == "" {
			continue
		}
		if err := input.CheckFile(c.CertificateAuthority, "file", input.MaxKubeconfig); err != nil {
			return fmt.Errorf("certificate-authority of cluster %s: %w", name, err)
		}
	}
	for name, u := range raw.AuthInfos {
		for what, p := range map[string]string{"client-certificate": u.ClientCertificate, "client-key": u.ClientKey, "tokenFile": u.TokenFile} {
			if p == "" {
				continue
			}
			if err := input.CheckFile(p, "file", input.MaxKubeconfig); err != nil {
				return fmt.Errorf("%s of user %s: %w", what, name, err)
			}
		}
	}
	return nil
}

// Tune applies storectl's rate limits and connect timeout to cfg.
func Tune(cfg *rest.Config) {
	cfg.QPS = DefaultQPS
	cfg.Burst = DefaultBurst
	if cfg.UserAgent == "" {
		cfg.UserAgent = "storectl"
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
}

// Share builds one transport for cfg — its TLS settings, credentials and Dial — and returns
// a copy of cfg that carries that transport and nothing it already holds. Every client built
// from the copy (the typed clientset, the metadata and dynamic clients, discovery, the
// clients Helm builds for each kind it applies) then shares one connection to the API
// server. client-go caches transports per TLS configuration only while the configuration
// has no Dial function; with cfg's own Dial each client would get a transport, a TCP
// connection and a TLS handshake of its own: sixteen for one get.
func Share(cfg *rest.Config) (*rest.Config, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	c.Transport = rt
	c.WrapTransport = nil
	c.Dial = nil
	c.Proxy = nil
	c.TLSClientConfig = rest.TLSClientConfig{}
	c.BearerToken, c.BearerTokenFile = "", ""
	c.Username, c.Password = "", ""
	c.Impersonate = rest.ImpersonationConfig{}
	c.AuthProvider, c.AuthConfigPersister = nil, nil
	c.ExecProvider = nil
	return c, nil
}

// Protobuf returns a copy of cfg that asks the API server for protobuf, for the typed
// clientset: encoding and decoding it costs a fraction of JSON's CPU time on both sides,
// which is what many commands at once on a small machine are bound by. Clients of
// unstructured objects (Helm's, the dynamic and metadata clients) keep cfg's JSON.
func Protobuf(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return c
}

// Identity returns the user name the API server authenticates these
// credentials as, through a SelfSubjectReview. It returns "" when the review
// is not possible (old server, forbidden, unreachable): the identity is
// informative, never a reason to fail a command.
func (c *Clients) Identity(ctx context.Context) string {
	return Identity(ctx, c.Interface)
}

// Identity is the clientset form of (*Clients).Identity.
func Identity(ctx context.Context, cs kubernetes.Interface) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r == nil {
		return ""
	}
	return r.Status.UserInfo.Username
}

// Getter is a genericclioptions.RESTClientGetter over a fixed rest.Config,
// with discovery and REST mapping cached for the life of the process.
type Getter struct {
	cfg    *rest.Config
	loader clientcmd.ClientConfig

	once   sync.Once
	disc   discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	err    error
}

// NewGetter returns a RESTClientGetter for cfg. loader may be nil, in which
// case the raw kubeconfig is synthesised from cfg (used by tests and callers
// holding only a rest.Config).
func NewGetter(cfg *rest.Config, loader clientcmd.ClientConfig) *Getter {
	if loader == nil {
		loader = clientcmd.NewDefaultClientConfig(*configFromREST(cfg), &clientcmd.ConfigOverrides{})
	}
	return &Getter{cfg: cfg, loader: loader}
}

// ToRESTConfig returns a copy of the configuration.
func (g *Getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

// ToRawKubeConfigLoader returns the kubeconfig loader.
func (g *Getter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }

func (g *Getter) init() {
	g.once.Do(func() {
		cfg := rest.CopyConfig(g.cfg)
		// Discovery is many small requests; a slow one means the server is
		// in trouble and waiting longer does not help.
		cfg.Timeout = 15 * time.Second
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			g.err = err
			return
		}
		g.disc = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(g.disc), g.disc, nil)
	})
}

// ToDiscoveryClient returns a memory-cached discovery client.
func (g *Getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.init()
	return g.disc, g.err
}

// ToRESTMapper returns a discovery-backed REST mapper.
func (g *Getter) ToRESTMapper() (meta.RESTMapper, error) {
	g.init()
	return g.mapper, g.err
}

var _ genericclioptions.RESTClientGetter = (*Getter)(nil)
