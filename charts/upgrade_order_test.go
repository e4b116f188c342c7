package charts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func podSpecOf(t *testing.T, objs []*unstructured.Unstructured, owner string) corev1.PodSpec {
	t.Helper()
	for _, p := range podSpecs(t, objs) {
		if p.owner == owner {
			return p.spec
		}
	}
	t.Fatalf("no pod template of %s", owner)
	return corev1.PodSpec{}
}

// TestUpgradeOrderIsRendered checks what keeps an upgrade in order: WordPress's pod waits for
// the database server of this revision's MariaDB release before it syncs core files from its
// image, and the setup Job waits for both before it upgrades the database.
func TestUpgradeOrderIsRendered(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("cd", 32)
	tests := []struct {
		name                      string
		extra                     map[string]any
		wantImage, wantDB, wantWP string
		wantWC                    string
	}{
		{"defaults", nil, "wordpress:7.1-php8.3-apache", "11.8", "7.1", "11.1.2"},
		{"every version bumped", bumpedImages(), "wordpress:7.9-php8.4-apache", "12.3", "7.9", "12.0.1"},
		{"tags that name no release, a pinned digest", map[string]any{
			"mariadb":   map[string]any{"image": map[string]any{"tag": "lts"}},
			"wordpress": map[string]any{"image": map[string]any{"tag": "7.1-php8.3-apache", "digest": digest}},
		}, "wordpress@" + digest, "", "7.1", "11.1.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, tt.extra)))
			wp := podSpecOf(t, objs, "Deployment/demo-wordpress")
			var names []string
			for _, c := range wp.InitContainers {
				names = append(names, c.Name)
			}
			if strings.Join(names, ",") != "wait-database,sync-core" {
				t.Fatalf("WordPress init containers = %v, want wait-database then sync-core", names)
			}
			wait, sync := wp.InitContainers[0], wp.InitContainers[1]
			if wait.Image != tt.wantImage || sync.Image != tt.wantImage || wp.Containers[0].Image != tt.wantImage {
				t.Errorf("images: wait %s, sync %s, wordpress %s; want all %s", wait.Image, sync.Image, wp.Containers[0].Image, tt.wantImage)
			}
			we := envOf(wait)
			if we["DB_EXPECT_VERSION"] != tt.wantDB || we["DB_WAIT_INTERVAL"] == "" || we["DB_WAIT_INTERVAL"] == "0" {
				t.Errorf("wait-database env = %v, want DB_EXPECT_VERSION=%q and a wait interval", we, tt.wantDB)
			}
			if strings.Join(wait.Command, " ") != "php /opt/storectl/db-ready.php" {
				t.Errorf("wait-database runs %v", wait.Command)
			}
			if got := envOf(sync)["CORE_IMAGE"]; got != tt.wantImage {
				t.Errorf("sync-core records image %q, want %q", got, tt.wantImage)
			}

			job := podSpecOf(t, objs, "Job/demo-setup-r1")
			je := envOf(job.Containers[0])
			if je["CORE_IMAGE"] != tt.wantImage || je["DB_EXPECT_VERSION"] != tt.wantDB {
				t.Errorf("setup Job waits for image %q and MariaDB %q, want %q and %q", je["CORE_IMAGE"], je["DB_EXPECT_VERSION"], tt.wantImage, tt.wantDB)
			}

			ann := find(t, objs, "Deployment", "demo-wordpress").GetAnnotations()
			for k, v := range map[string]string{
				"storectl.dev/wordpress-version":   tt.wantWP,
				"storectl.dev/woocommerce-version": tt.wantWC,
				"storectl.dev/mariadb-version":     tt.wantDB,
			} {
				if got, ok := ann[k]; !ok || got != v {
					t.Errorf("annotation %s = %q (set %v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

// TestWordPressConfigMapCarriesTheInitScripts checks that the scripts the init containers run
// are the files in the chart, mounted where the containers look for them, and that Apache
// does not serve sync-core's record.
func TestWordPressConfigMapCarriesTheInitScripts(t *testing.T) {
	t.Parallel()
	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, nil)))
	cm := find(t, objs, "ConfigMap", "demo-wordpress")
	for key, file := range map[string]string{"sync-core.sh": "woocommerce/files/sync-core.sh", "db-ready.php": "woocommerce/files/db-ready.php"} {
		want, err := FS.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := unstructured.NestedString(cm.Object, "data", key); got != string(want) {
			t.Errorf("ConfigMap key %s differs from %s:\n%s", key, file, lineDiff(string(want), got))
		}
	}
	site, _, _ := unstructured.NestedString(cm.Object, "data", "000-default.conf")
	if !strings.Contains(site, "<Files \".storectl-core\">\n    Require all denied") {
		t.Errorf("the site configuration does not deny .storectl-core:\n%s", site)
	}
	wp := podSpecOf(t, objs, "Deployment/demo-wordpress")
	mounts := map[string]string{}
	for _, c := range wp.InitContainers {
		for _, m := range c.VolumeMounts {
			mounts[c.Name+" "+m.MountPath] = m.Name + "/" + m.SubPath
		}
	}
	for k, v := range map[string]string{
		"wait-database /opt/storectl/db-ready.php": "config/db-ready.php",
		"sync-core /opt/storectl/sync-core.sh":     "config/sync-core.sh",
		"sync-core /var/www/html":                  "html/",
	} {
		if mounts[k] != v {
			t.Errorf("mount %s = %q, want %q", k, mounts[k], v)
		}
	}
}

// TestSyncCoreRecordsTheImageItSettled runs sync-core.sh as the pod does and checks that the
// volume names the image its core files are settled for on every path: a copy, an up-to-date
// volume and a volume newer than the image.
func TestSyncCoreRecordsTheImageItSettled(t *testing.T) {
	requireRootAndPHP(t)
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("woocommerce", "files", "sync-core.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dst := volumeRoot(t)
	for _, step := range []struct{ version, image, want string }{
		{"7.1", "wordpress:7.1-php8.3-apache", "WordPress 7.1 is on the volume"},
		{"7.1", "wordpress:7.1-php8.3-apache@sha256:rebuilt", "WordPress 7.1 is on the volume"},
		{"7.0", "wordpress:7.0-php8.3-apache", "newer than the image's 7.0"},
	} {
		src := filepath.Join(base, step.image)
		fakeImage(t, src, step.version)
		cmd := asNobody(exec.Command("bash", script))
		cmd.Env = append(os.Environ(), "WORDPRESS_SOURCE="+src, "WORDPRESS_ROOT="+dst, "CORE_IMAGE="+step.image)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), step.want) {
			t.Fatalf("%s: %v\n%s", step.image, err, out)
		}
		got, err := os.ReadFile(filepath.Join(dst, ".storectl-core"))
		if err != nil || string(got) != step.image+"\n" {
			t.Errorf("after syncing %s the volume records %q (%v)", step.image, got, err)
		}
	}
}

// TestCronWaitsForAnUpgrade runs the CronJob's command as rendered, against the fake WP-CLI:
// scheduled events do not run while the setup Job holds the site in maintenance mode.
func TestCronWaitsForAnUpgrade(t *testing.T) {
	t.Parallel()
	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, nil)))
	var cmd []string
	for _, p := range podSpecs(t, objs) {
		if p.owner == "CronJob/demo-cron" {
			cmd = p.spec.Containers[0].Command
		}
	}
	if len(cmd) != 3 || cmd[0] != "bash" || cmd[1] != "-c" {
		t.Fatalf("cron command = %q, want a bash script", cmd)
	}
	f := newSetupFixture(t)
	f.installed(t)
	// The rendered script uses the pod's path; point it at the fixture's.
	script := strings.ReplaceAll(cmd[2], "--path=/var/www/html", "--path="+f.wpPath)
	fake, err := filepath.Abs(filepath.Join("testdata", "fakewp"))
	if err != nil {
		t.Fatal(err)
	}
	run := func() (string, []string) {
		t.Helper()
		before := readLines(t, filepath.Join(f.state, "calls.log"))
		c := exec.Command("bash", "-c", script)
		c.Env = []string{"PATH=" + fake + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_WP_STATE=" + f.state}
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("cron run: %v\n%s", err, out)
		}
		return string(out), readLines(t, filepath.Join(f.state, "calls.log"))[len(before):]
	}

	if out, calls := run(); len(calls) != 2 || !strings.Contains(calls[1], "cron event run --due-now") {
		t.Errorf("outside maintenance mode: calls %v, output %s", calls, out)
	}
	writeFile(t, filepath.Join(f.wpPath, ".maintenance"), fmt.Sprintf("<?php $upgrading = %d; ?>", time.Now().Unix()))
	out, calls := run()
	if len(calls) != 1 || !strings.Contains(out, "maintenance mode") {
		t.Errorf("in maintenance mode: calls %v, output %s", calls, out)
	}
}
