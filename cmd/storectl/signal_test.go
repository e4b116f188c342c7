package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
)

// Ctrl-C (SIGINT) or SIGTERM while storectl waits on the cluster stops it within two seconds with exit code 130,
// advice on how to resume or clean up, and an "interrupted" audit record.
func TestInterruptStopsQuickly(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts storectl processes")
	}
	// An API server that accepts connections and never answers.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)

	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := strings.Replace(unreachableKubeconfig, "https://127.0.0.1:1", srv.URL, 1)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "audit.db")

	for _, tc := range []struct {
		args []string
		sig  os.Signal
		hint string
	}{
		{[]string{"create", "shop"}, os.Interrupt, "storectl create shop"},
		{[]string{"delete", "shop", "--yes"}, syscall.SIGTERM, "storectl delete shop --yes"},
	} {
		cmd := exec.Command("storectl", append(tc.args, "--kubeconfig", kubeconfig)...)
		cmd.Env = append(os.Environ(), "STORECTL_AUDIT_PATH="+auditPath, "XDG_CONFIG_HOME="+dir, "NO_COLOR=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		err := cmd.Wait()
		took := time.Since(sent)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 130 {
			t.Errorf("%v: want exit code 130, got %v\n%s", tc.args, err, stderr.String())
		}
		if took > 2*time.Second {
			t.Errorf("%v: stopped %v after %v, want under 2s", tc.args, took, tc.sig)
		}
		if !strings.Contains(stderr.String(), tc.hint) {
			t.Errorf("%v: stderr does not say how to go on (%q):\n%s", tc.args, tc.hint, stderr.String())
		}
	}

	recs, err := audit.Query(auditPath, audit.Filter{}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s %s", r.Action, r.Store, r.Outcome))
		if r.Actor == "" || r.Server != srv.URL {
			t.Errorf("record %+v lacks actor or server", r)
		}
	}
	if want := "delete shop interrupted,create shop interrupted"; strings.Join(got, ",") != want {
		t.Errorf("audit records %q, want %q", got, want)
	}
}
