package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"

	"k8s.io/client-go/rest"
)

// countingProxy forwards plain HTTP on 127.0.0.1 to the API server with the cluster's own
// credentials and counts the requests. A tool pointed at it through its kubeconfig is
// counted whatever it is, storectl or helm, without any change to either; watches count as
// one request each.
type countingProxy struct {
	srv        *http.Server
	kubeconfig string
	mu         sync.Mutex
	n          int
	paths      []string
}

func startProxy(cfg *rest.Config, kubeconfig string) (*countingProxy, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = rt
	rp.FlushInterval = -1 // watches stream
	p := &countingProxy{kubeconfig: kubeconfig}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.n++
		p.paths = append(p.paths, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = p.srv.Serve(ln) }()
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: counted
  cluster:
    server: http://%s
contexts:
- name: counted
  context:
    cluster: counted
    user: counted
current-context: counted
users:
- name: counted
  user: {}
`, ln.Addr())
	if err := os.WriteFile(kubeconfig, []byte(doc), 0o600); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// reset starts a new count.
func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.paths = 0, nil
}

// count returns the requests since the last reset.
func (p *countingProxy) count() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, append([]string(nil), p.paths...)
}

func (p *countingProxy) close() { _ = p.srv.Close() }
