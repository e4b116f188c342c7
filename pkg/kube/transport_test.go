package kube

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
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

// Every client built from the shared configuration — the typed clientset, the metadata
// client, discovery, the clients Helm builds per kind — must share one transport and so one
// connection to the API server, although the configuration has a Dial of its own.
func TestSharedClientsShareOneTransport(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "t", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	Tune(cfg)
	if cfg.Dial == nil {
		t.Fatal("Tune set no Dial, so no connect timeout")
	}
	shared, err := Share(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, err := rest.TransportFor(rest.CopyConfig(shared))
	if err != nil {
		t.Fatal(err)
	}
	second, err := rest.TransportFor(Protobuf(shared))
	if err != nil {
		t.Fatal(err)
	}
	if baseTransport(t, first) != baseTransport(t, second) {
		t.Error("two clients of the shared configuration got transports, and connections, of their own")
	}
	if shared.BearerToken != "" || shared.Insecure {
		t.Error("the shared configuration repeats credentials or TLS settings its transport already holds")
	}
	if cfg.QPS != DefaultQPS || cfg.Burst != DefaultBurst {
		t.Errorf("Tune set QPS %v burst %d, want %v and %d", cfg.QPS, cfg.Burst, DefaultQPS, DefaultBurst)
	}
}

// blackhole returns the address of a 127.0.0.1 port whose listen queue is full: the kernel
// drops further SYNs, as a firewall or a stopped machine does, so a connect never completes.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "blackhole")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	// Fill the queue: connections nobody accepts, until one no longer completes.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the kernel kept accepting connections into a full listen queue")
	return ""
}

// A request to a server that never answers the connect fails with a dial timeout, which
// the error classification calls unreachable, instead of waiting for client-go's 30 s.
func TestUnansweredConnectFailsWithDialTimeout(t *testing.T) {
	addr := blackhole(t)
	cfg := &rest.Config{Host: "https://" + addr, BearerToken: "t", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	Tune(cfg)
	shared, err := Share(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(shared)
	if err != nil {
		t.Fatal(err)
	}
	// The context outlives the connect timeout, so only the dialer can end the request.
	ctx, cancel := context.WithTimeout(context.Background(), 4*ConnectTimeout)
	defer cancel()
	_, err = cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" || !opErr.Timeout() {
		t.Fatalf("error %v (%T), want a dial timeout", err, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the request ended with its context (%v), not with the connect timeout", ctx.Err())
	}
	if k := Classify(err); k != KindUnreachable {
		t.Errorf("classified as %v, want unreachable", k)
	}
}
