//go:build e2e

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/testcluster"
)

// passwordKeys are the secret keys of a store's credentials Secret.
var passwordKeys = []string{"mariadb-root-password", "mariadb-password", "wordpress-admin-password"}

// storePasswords reads the store's passwords from its Secret.
func storePasswords(t *testing.T, c *testcluster.Cluster, name string) map[string]string {
	t.Helper()
	s, err := c.Client.CoreV1().Secrets("store-"+name).Get(context.Background(), name+"-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range passwordKeys {
		p := string(s.Data[k])
		if len(p) < 16 {
			t.Fatalf("%s has an implausible length of %d", k, len(p))
		}
		out[k] = p
	}
	return out
}

// releaseRecords returns every Helm release record of the store, decoded from the secret
// storage driver's base64 of gzip of JSON.
func releaseRecords(t *testing.T, c *testcluster.Cluster, name string) [][]byte {
	t.Helper()
	secrets, err := c.Client.CoreV1().Secrets("store-"+name).List(context.Background(),
		metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, s := range secrets.Items {
		raw, err := base64.StdEncoding.DecodeString(string(s.Data["release"]))
		if err != nil {
			t.Fatalf("release record %s: %v", s.Name, err)
		}
		if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Contains(raw, []byte(`"name":"`+name+`"`)) {
			t.Fatalf("release record %s did not decode to the release", s.Name)
		}
		out = append(out, raw)
	}
	if len(out) == 0 {
		t.Fatalf("no release record of %s", name)
	}
	return out
}

// The three passwords of a store appear in no output but that of credentials, not in the
// audit file and not in any Helm release record. storectl never takes a password as an
// argument, so no process's argv can carry one: the arguments of every run are checked too.
func TestPasswordsNeverLeak(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("secret")
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })
	var argv []string
	run := func(args ...string) result {
		argv = append(argv, strings.Join(args, " "))
		return r.run(args...)
	}

	if res := run("create", name, "-o", "yaml"); res.code != 0 {
		t.Fatalf("create: exit %d\n%s", res.code, res.stderr)
	}
	passwords := storePasswords(t, c, name)
	// An upgrade-shaped resume and a refused repeat write more records and messages.
	if res := run("create", name); res.code != 4 {
		t.Errorf("create again: exit %d", res.code)
	}
	for _, args := range [][]string{{"list"}, {"list", "-o", "wide"}, {"list", "-o", "json"}, {"get", name}, {"get", name, "-o", "yaml"},
		{"wait", name, "--for", "ready"}, {"credentials", name}} {
		if res := run(args...); res.code != 0 {
			t.Errorf("%v: exit %d\n%s", args, res.code, res.stderr)
		}
	}
	// credentials is the one command that prints a password; its stdout is not searched.
	if res := run("credentials", name, "-o", "json"); !strings.Contains(res.stdout, passwords["wordpress-admin-password"]) {
		t.Error("credentials does not print the admin password")
	}
	records := releaseRecords(t, c, name)
	if res := run("delete", name, "--yes"); res.code != 0 {
		t.Errorf("delete: exit %d\n%s", res.code, res.stderr)
	}
	if res := run("audit", "-o", "json"); res.code != 0 {
		t.Errorf("audit: exit %d", res.code)
	}
	audit, err := os.ReadFile(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}

	checked := 0
	for key, p := range passwords {
		for i, out := range r.outputs {
			checked++
			if strings.Contains(out, p) {
				t.Errorf("%s appears in output %d of the test's storectl runs", key, i)
			}
		}
		if bytes.Contains(audit, []byte(p)) {
			t.Errorf("%s appears in the audit file", key)
		}
		for i, rec := range records {
			if bytes.Contains(rec, []byte(p)) {
				t.Errorf("%s appears in Helm release record %d", key, i+1)
			}
		}
		for _, a := range argv {
			if strings.Contains(a, p) {
				t.Errorf("%s appears in a command line", key)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d outputs were searched", checked)
	}
	if res := run("credentials", name); res.code != 3 {
		t.Errorf("credentials of the deleted store: exit %d, want 3", res.code)
	}
}

// The whole lifecycle runs as a ServiceAccount bound only as docs/rbac.md says
// (ClusterRole storectl, Role storectl-create-lock): that is enough, and
// storectl binds storectl-store in the store namespace itself.
func TestLifecycleAsLeastPrivilegeServiceAccount(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	ns, token := leastPrivilegeServiceAccount(t, c)
	r := newRunner(t, writeKubeconfig(t, c, c.Config.Host, token))
	admin := newRunner(t, c.Kubeconfig)
	name := uniqueStore("rbac")
	t.Cleanup(func() { admin.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })

	// The authorizer learns of a new binding within moments.
	eventually(t, 30*time.Second, "the binding to take effect", func() bool { return r.run("list").code == 0 })

	created := decode[storeJSON](t, r.must("create", name, "-o", "json", "--timeout", "3m").stdout)
	if created.Status != "Ready" {
		t.Fatalf("create as the ServiceAccount: %+v", created)
	}
	rb, err := c.Client.RbacV1().RoleBindings("store-"+name).Get(context.Background(), "storectl", metav1.GetOptions{})
	if err != nil || rb.RoleRef.Name != "storectl-store" || len(rb.Subjects) != 1 ||
		rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Namespace != ns || rb.Subjects[0].Name != "storectl-ci" {
		t.Errorf("store namespace binding = %+v, %v; want storectl-store bound to the ServiceAccount", rb, err)
	}
	found := false
	for _, s := range decode[[]storeJSON](t, r.must("list", "-o", "json").stdout) {
		found = found || (s.Name == name && s.Status == "Ready")
	}
	if !found {
		t.Errorf("list as the ServiceAccount does not show %s Ready", name)
	}
	r.must("list", "-o", "wide")
	if got := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout); got.Status != "Ready" || len(got.Components) == 0 {
		t.Errorf("get as the ServiceAccount: %+v", got)
	}
	r.must("get", name)
	r.must("wait", name, "--for", "ready", "--timeout", "1m")
	creds := decode[map[string]string](t, r.must("credentials", name, "-o", "json").stdout)
	if creds["password"] != storePasswords(t, c, name)["wordpress-admin-password"] {
		t.Error("credentials as the ServiceAccount do not match the Secret")
	}
	if res := r.run("create", name); res.code != 4 {
		t.Errorf("create again as the ServiceAccount: exit %d, want 4\n%s", res.code, res.stderr)
	}
	r.must("delete", name, "--yes", "--timeout", "3m")
	if namespaceExists(t, c, name) {
		t.Errorf("namespace store-%s survived the delete", name)
	}
	if res := r.run("get", name); res.code != 3 {
		t.Errorf("get after delete: exit %d, want 3", res.code)
	}

	type rec struct{ Action, Store, Outcome, Actor string }
	want := "system:serviceaccount:" + ns + ":storectl-ci"
	for _, x := range decode[[]rec](t, r.must("audit", "-o", "json", "--store", name).stdout) {
		if x.Actor != want {
			t.Errorf("audit actor %q, want %q", x.Actor, want)
		}
	}
}
