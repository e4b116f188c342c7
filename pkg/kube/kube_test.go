package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	gr := schema.GroupResource{Resource: "namespaces"}
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindOther},
		{"refused", &url.Error{Op: "Get", URL: "https://127.0.0.1:6443", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, KindUnreachable},
		{"dns", &net.DNSError{Err: "no such host", Name: "nowhere.invalid"}, KindUnreachable},
		{"deadline", fmt.Errorf("list: %w", context.DeadlineExceeded), KindUnreachable},
		{"tls as text", errors.New(`Get "https://x": tls: failed to verify certificate: x509: certificate signed by unknown authority`), KindUnreachable},
		{"helm flattened", errors.New("Kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": dial tcp 127.0.0.1:1: connect: connection refused"), KindUnreachable},
		{"401", apierrors.NewUnauthorized("token expired"), KindUnauthorized},
		{"403 rbac", apierrors.NewForbidden(gr, "x", errors.New(`User "bob" cannot create resource "namespaces"`)), KindUnauthorized},
		{"403 quota", apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "p", errors.New("exceeded quota: q")), KindOther},
		{"403 terminating", apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "s", errors.New("unable to create new content in namespace store-x because it is being terminated")), KindOther},
		{"not found", apierrors.NewNotFound(gr, "x"), KindOther},
		{"classified", &Error{Kind: KindConfig, Err: errors.New("bad kubeconfig")}, KindConfig},
		{"plain", errors.New("something else"), KindOther},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("%s: Classify(%v) = %s, want %s", tt.name, tt.err, got, tt.want)
		}
	}
}

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: two
  cluster: {server: "https://127.0.0.1:7443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-a-secret}
contexts:
- name: first
  context: {cluster: one, user: u}
- name: second
  context: {cluster: two, user: u}
current-context: first
`

func TestNewClients(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewClients(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Context != "first" || c.Server != "https://127.0.0.1:6443" {
		t.Errorf("default context = %s %s", c.Context, c.Server)
	}
	if c.RESTConfig.QPS != DefaultQPS || c.RESTConfig.Burst != DefaultBurst {
		t.Errorf("rate limits = %v/%v", c.RESTConfig.QPS, c.RESTConfig.Burst)
	}
	rc, err := c.Getter.ToRESTConfig()
	if err != nil || rc.Host != c.Server {
		t.Errorf("getter config = %v, %v", rc, err)
	}

	// $KUBECONFIG is honoured when no path is given, and --context selects.
	t.Setenv("KUBECONFIG", path)
	c, err = NewClients("", "second")
	if err != nil {
		t.Fatal(err)
	}
	if c.Context != "second" || c.Server != "https://127.0.0.1:7443" {
		t.Errorf("selected context = %s %s", c.Context, c.Server)
	}
	if _, err := NewClients("", "nope"); Classify(err) != KindConfig {
		t.Errorf("unknown context error = %v, want KindConfig", err)
	}
	if _, err := NewClients(filepath.Join(dir, "missing"), ""); err == nil {
		t.Errorf("missing kubeconfig accepted")
	}
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{
			UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:ci:storectl"}}}, nil
	})
	if got := Identity(context.Background(), cs); got != "system:serviceaccount:ci:storectl" {
		t.Errorf("Identity = %q", got)
	}
	denied := fake.NewClientset()
	denied.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "selfsubjectreviews"}, "", errors.New("cannot create"))
	})
	if got := Identity(context.Background(), denied); got != "" {
		t.Errorf("Identity when forbidden = %q, want empty", got)
	}
}

// Kubeconfigs, and the files they name, that never end or are too large are configuration
// errors found before client-go reads them whole.
func TestNewClientsBoundsFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big", strings.Repeat("#", 17<<20))
	tokenFile := write("token-file", strings.Replace(kubeconfig, "{token: not-a-secret}", "{tokenFile: /dev/zero}", 1))
	caFile := write("ca-file", strings.Replace(kubeconfig, "insecure-skip-tls-verify: true}", "certificate-authority: "+big+"}", 1))
	for _, tt := range []struct {
		what, path, env, want string
	}{
		{"a device", "/dev/zero", "", "kubeconfig /dev/zero is not a regular file"},
		{"a device in $KUBECONFIG", "", write("ok", kubeconfig) + string(os.PathListSeparator) + "/dev/zero", "/dev/zero is not a regular file"},
		{"too large", big, "", "larger than 16 MiB"},
		{"a token file that never ends", tokenFile, "", "tokenFile of user u: file /dev/zero is not a regular file"},
		{"a certificate too large", caFile, "", "certificate-authority of cluster one: file " + big + " is larger than 16 MiB"},
	} {
		t.Run(tt.what, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.env)
			_, err := NewClients(tt.path, "")
			if Classify(err) != KindConfig || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("err = %v, want a configuration error with %q", err, tt.want)
			}
		})
	}
}
