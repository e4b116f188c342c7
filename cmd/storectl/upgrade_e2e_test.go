//go:build e2e

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/testcluster"
)

type historyJSON struct {
	Revision  int               `json:"revision"`
	Status    string            `json:"status"`
	Operation string            `json:"operation"`
	Source    int               `json:"source"`
	Chart     string            `json:"chartVersion"`
	Versions  map[string]string `json:"versions"`
	Actor     string            `json:"actor"`
}

func uniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// podAnnotations reads the WordPress Deployment's pod template annotations.
func podAnnotations(t *testing.T, c *testcluster.Cluster, name string) map[string]string {
	t.Helper()
	d, err := c.Client.AppsV1().Deployments("store-"+name).Get(context.Background(), name+"-wordpress", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Annotations
}

// Create with values, upgrade one of them, see both revisions, roll back, and be refused a
// downgrade with exit 9 and nothing changed.
func TestUpgradeHistoryRollbackAndRefusal(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueName("e2e-up-")
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })

	r.must("create", name, "--set", "wordpress.podAnnotations.team=blue", "--set", "wordpress.podAnnotations.tier=gold")
	r.must("upgrade", name, "--no-backup", "--set", "wordpress.podAnnotations.tier=silver")
	if a := podAnnotations(t, c, name); a["team"] != "blue" || a["tier"] != "silver" {
		t.Errorf("after the upgrade the pod annotations are %v, want team=blue kept and tier=silver", a)
	}
	hist := decode[[]historyJSON](t, r.must("history", name, "-o", "json").stdout)
	if len(hist) != 2 || hist[0].Operation != "install" || hist[1].Operation != "upgrade" || hist[1].Status != "deployed" ||
		hist[1].Versions["WordPress"] == "" || hist[1].Actor == "" {
		t.Fatalf("history = %+v", hist)
	}

	before := time.Now().Add(-time.Second)
	r.must("rollback", name, "--no-backup")
	if a := podAnnotations(t, c, name); a["tier"] != "gold" || a["team"] != "blue" {
		t.Errorf("after the rollback the pod annotations are %v, want revision 1's", a)
	}
	// The rollback is revision 3: its own setup Job ran.
	job, err := c.Client.BatchV1().Jobs("store-"+name).Get(context.Background(), name+"-setup-r3", metav1.GetOptions{})
	if err != nil || job.CreationTimestamp.Time.Before(before.Truncate(time.Second)) || job.Status.Succeeded < 1 {
		t.Errorf("the rollback's setup Job did not run: %v %+v", err, job.Status)
	}
	hist = decode[[]historyJSON](t, r.must("history", name, "-o", "json").stdout)
	if len(hist) != 3 || hist[2].Operation != "rollback" || hist[2].Source != 1 {
		t.Errorf("history after rollback = %+v", hist)
	}

	res := r.run("upgrade", name, "--mariadb-version", "10.11")
	if res.code != 9 || !strings.Contains(res.stderr, "MariaDB") {
		t.Errorf("downgrade: exit %d, want 9\n%s", res.code, res.stderr)
	}
	if n := len(decode[[]historyJSON](t, r.must("history", name, "-o", "json").stdout)); n != 3 {
		t.Errorf("a refused downgrade changed the history: %d revisions", n)
	}
}

// An upgrade killed at several points is finished by the next command.
func TestKilledUpgradeConverges(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueName("e2e-kup-")
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	r.must("create", name)

	for i, point := range []struct {
		what string
		seen func(stderr string) bool
	}{
		{"right after start", func(string) bool { return true }},
		{"while the new revision rolls out", func(s string) bool {
			i := strings.Index(s, "upgrade: revision")
			return i >= 0 && strings.Contains(s[i:], "step=wordpress")
		}},
	} {
		p := r.start("upgrade", name, "--no-backup", "--set", "wordpress.podAnnotations.sandbox\\.storectl\\.dev/ready-delay=20s",
			"--set", "wordpress.podAnnotations.round="+string(rune('a'+i)))
		eventually(t, time.Minute, point.what, func() bool { return point.seen(p.stderr.String()) })
		if i > 0 {
			time.Sleep(2 * time.Second) // Helm is applying; the new pods wait out their ready delay
		}
		r.signal(p, syscall.SIGKILL)
		res := r.run("upgrade", name, "--no-backup", "-o", "json")
		if res.code != 0 {
			t.Fatalf("upgrade after SIGKILL %s: exit %d\n%s", point.what, res.code, res.stderr)
		}
		st := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout)
		if st.Status != "Ready" {
			t.Errorf("after SIGKILL %s the store is %s", point.what, st.Status)
		}
		hist := decode[[]historyJSON](t, r.must("history", name, "-o", "json").stdout)
		if last := hist[len(hist)-1]; last.Status != "deployed" {
			t.Errorf("after SIGKILL %s the latest revision is %+v", point.what, last)
		}
	}
}

// A fleet upgrade of 5 stores with one failing reports 4 succeeded and 1 failed and exits
// non-zero.
func TestFleetUpgradeGoesPastAFailure(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	prefix := uniqueName("e2e-fl-")
	r := newRunner(t, c.Kubeconfig)
	var names []string
	for i := 1; i <= 5; i++ {
		names = append(names, prefix+"-"+string(rune('0'+i)))
	}
	t.Cleanup(func() {
		r.run(append([]string{"delete", "--yes", "--ignore-not-found", "--timeout", "3m"}, names...)...)
	})
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() { defer wg.Done(); r.must("create", n) }()
	}
	wg.Wait()
	// The last store crash-loops from now on; its upgrade fails whatever the fleet changes.
	res := r.run("upgrade", names[4], "--no-backup", "--set", "wordpress.podAnnotations.sandbox\\.storectl\\.dev/fault=crashloop")
	if res.code == 0 {
		t.Fatalf("an upgrade into a crash loop succeeded:\n%s", res.stderr)
	}
	res = r.run(append([]string{"upgrade", "--parallel", "3", "--yes", "--no-backup", "-o", "json", "--set", "wordpress.podAnnotations.fleet=yes"}, names...)...)
	if res.code == 0 {
		t.Errorf("fleet upgrade with a failing store exited 0")
	}
	type row struct{ Name, Outcome, Error string }
	rows := decode[[]row](t, res.stdout)
	got := map[string]int{}
	for _, rw := range rows {
		got[rw.Outcome]++
		if rw.Name == names[4] && (rw.Outcome != "failed" || rw.Error == "") {
			t.Errorf("failing store's row: %+v", rw)
		}
	}
	if len(rows) != 5 || got["succeeded"] != 4 || got["failed"] != 1 {
		t.Errorf("summary %+v", rows)
	}
}

// A storectl with a newer chart (a copy of the chart with its version bumped) upgrades a store
// made by this one, and list shows the upgrade it has on offer.
func TestNewerChartUpgradesStore(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueName("e2e-nc-")
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	r.must("create", name)

	dir := filepath.Join(t.TempDir(), "woocommerce")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "charts", "woocommerce"))); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var old string
	for _, l := range strings.Split(string(meta), "\n") {
		if v, ok := strings.CutPrefix(l, "version: "); ok && old == "" {
			old = v
		}
	}
	if old == "" || old == "99.0.0" {
		t.Fatalf("Chart.yaml has no version to bump: %q", old)
	}
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(strings.Replace(string(meta), "version: "+old, "version: 99.0.0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := &chartRunner{storectlRunner: r, chart: dir}
	list := decode[[]struct {
		Name             string `json:"name"`
		UpgradeAvailable string `json:"upgradeAvailable"`
	}](t, newer.must("list", "-o", "json").stdout)
	for _, s := range list {
		if s.Name == name && s.UpgradeAvailable != "99.0.0" {
			t.Errorf("list offers %q for %s, want 99.0.0", s.UpgradeAvailable, name)
		}
	}
	res := newer.run("upgrade", name, "--no-backup", "-o", "json")
	if res.code != 0 {
		t.Fatalf("upgrade with the newer chart: exit %d\n%s", res.code, res.stderr)
	}
	st := decode[storeJSON](t, newer.must("get", name, "-o", "json").stdout)
	hist := decode[[]historyJSON](t, newer.must("history", name, "-o", "json").stdout)
	if st.Status != "Ready" || hist[len(hist)-1].Chart != "99.0.0" {
		t.Errorf("after the upgrade: %s, history %+v", st.Status, hist)
	}
}

// chartRunner runs the binary as a storectl whose embedded chart is the one in chart.
type chartRunner struct {
	*storectlRunner
	chart string
}

func (r *chartRunner) must(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("storectl (chart %s) %v: exit %d\n%s", r.chart, args, res.code, res.stderr)
	}
	return res
}

func (r *chartRunner) run(args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, storectlBinary(), args...)
	cmd.Env = append(r.environ(), "STORECTL_TEST_CHART="+r.chart)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		r.t.Fatalf("storectl %v: %v", args, err)
	}
	return res
}
