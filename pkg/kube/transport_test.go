package kube

import (
	"net/http"
	"testing"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
)

// baseTransport unwraps client-go's round trippers (user agent, authentication) down to the
// transport that holds the connections.
func baseTransport(t *testing.T, rt http.RoundTripper) *http.Transport {
	t.Helper()
	for {
		switch r := rt.(type) {
		case *http.Transport:
			return r
		case utilnet.RoundTripperWrapper:
			rt = r.WrappedRoundTripper()
		default:
			t.Fatalf("round tripper %T is neither a transport nor a wrapper", rt)
		}
	}
}

// Every client built from a tuned configuration — the typed clientset, the metadata client,
// discovery, the clients Helm builds per kind — must share one transport and so one
// connection to the API server.
func TestTunedClientsShareOneTransport(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "t", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	Tune(cfg)
	first, err := rest.TransportFor(rest.CopyConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	second, err := rest.TransportFor(rest.CopyConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if baseTransport(t, first) != baseTransport(t, second) {
		t.Error("two clients of one tuned configuration got transports, and connections, of their own")
	}
	if cfg.QPS != DefaultQPS || cfg.Burst != DefaultBurst {
		t.Errorf("Tune set QPS %v burst %d, want %v and %d", cfg.QPS, cfg.Burst, DefaultQPS, DefaultBurst)
	}
}
