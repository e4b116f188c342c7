package kube

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/storectl/storectl/pkg/input"
)

// configFromREST synthesises a one-context kubeconfig equivalent to cfg, for
// code (Helm's kube client) that asks the getter for a raw kubeconfig.
func configFromREST(cfg *rest.Config) *clientcmdapi.Config {
	c := clientcmdapi.NewConfig()
	c.Clusters["cluster"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
		CertificateAuthority:     cfg.CAFile,
		InsecureSkipTLSVerify:    cfg.Insecure,
		TLSServerName:            cfg.ServerName,
	}
	c.AuthInfos["user"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientCertificate:     cfg.CertFile,
		ClientKeyData:         cfg.KeyData,
		ClientKey:             cfg.KeyFile,
		Token:                 cfg.BearerToken,
		TokenFile:             cfg.BearerTokenFile,
		Username:              cfg.Username,
		Password:              cfg.Password,
	}
	c.Contexts["context"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "user", Namespace: "default"}
	c.CurrentContext = "context"
	return c
}

// checkExplicitPath refuses a --kubeconfig that names no file, before client-go's bare stat error.
func checkExplicitPath(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kubeconfig %s does not exist: give --kubeconfig the path of an existing file", path)
	}
	return nil
}

// checkSelection explains, before client-go's terse errors, a kubeconfig that selects no
// cluster: no file where one was looked for, a --context the files do not have, or no
// current context.
func checkSelection(rules *clientcmd.ClientConfigLoadingRules, raw *clientcmdapi.Config, context string) error {
	files := rules.GetLoadingPrecedence()
	if rules.ExplicitPath != "" {
		files = []string{rules.ExplicitPath}
	}
	if len(raw.Contexts) == 0 && len(raw.Clusters) == 0 && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return nil // in a pod without a kubeconfig: client-go uses the pod's ServiceAccount
	}
	if len(raw.Contexts) == 0 && len(raw.Clusters) == 0 {
		found := slices.ContainsFunc(files, func(p string) bool { _, err := os.Stat(p); return err == nil })
		what := "no kubeconfig found"
		if found {
			what = "the kubeconfig has no clusters or contexts"
		}
		return fmt.Errorf("%s: looked for %s; point storectl at a cluster with --kubeconfig <file> or KUBECONFIG=<file> "+
			"(the file your cluster's installer or cloud CLI wrote, e.g. by 'aws eks update-kubeconfig' or 'kind export kubeconfig')",
			what, strings.Join(files, ", "))
	}
	names := ContextNamesOf(raw)
	switch {
	case context != "" && raw.Contexts[context] == nil:
		return fmt.Errorf("context %q is not in the kubeconfig (%s); its contexts are: %s",
			context, strings.Join(files, ", "), orNone(names))
	case context == "" && raw.CurrentContext == "":
		return fmt.Errorf("the kubeconfig (%s) sets no current context: choose one with --context; its contexts are: %s",
			strings.Join(files, ", "), orNone(names))
	case context == "" && raw.Contexts[raw.CurrentContext] == nil:
		return fmt.Errorf("the kubeconfig's current context %q does not exist: choose one with --context; its contexts are: %s",
			raw.CurrentContext, orNone(names))
	}
	return nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ContextNamesOf returns the context names of a kubeconfig, sorted.
func ContextNamesOf(raw *clientcmdapi.Config) []string {
	names := make([]string, 0, len(raw.Contexts))
	for n := range raw.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ContextNames returns the contexts of the kubeconfig storectl would load for the path (""
// means $KUBECONFIG, then ~/.kube/config), for shell completion. It never contacts a cluster.
func ContextNames(kubeconfig string) ([]string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	for _, p := range rules.GetLoadingPrecedence() {
		if err := input.CheckFile(p, "kubeconfig", input.MaxKubeconfig); err != nil {
			return nil, err
		}
	}
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return nil, err
	}
	return ContextNamesOf(&raw), nil
}

// WithServer rewrites the text of an error that failed to reach the API server so that it
// names the server, not the request URL with its path and label selector:
//
//	cannot reach the API server https://10.0.0.1:6443: dial tcp 10.0.0.1:6443: connect: connection refused
//
// The result wraps err: errors.Is and errors.As see everything err holds.
func WithServer(err error, server string) error {
	var ue *url.Error
	if err == nil || server == "" || !errors.As(err, &ue) || Classify(err) != KindUnreachable {
		return err
	}
	return &serverError{err: err, text: strings.Replace(err.Error(), ue.Error(),
		fmt.Sprintf("cannot reach the API server %s: %v", server, ue.Err), 1)}
}

type serverError struct {
	err  error
	text string
}

func (e *serverError) Error() string { return e.text }
func (e *serverError) Unwrap() error { return e.err }
