package charts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The WordPress pod's sync-core init container (files/sync-core.sh) is run here against a
// fake image tree, as the non-root user the pod uses, on a volume root that user does not
// own: the situation in which the image's own entrypoint copies the files and then exits 2.

const nobody = 65534

func requireRootAndPHP(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the volume root another owner, as fsGroup does")
	}
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("php is not installed (apt-get install php-cli); CI runs this check")
		}
		t.Fatal("php is not installed, and CI is set: install the Debian package php-cli")
	}
	return php
}

// fakeImage writes a WordPress tree of the given version the way the image ships it.
func fakeImage(t *testing.T, dir, version string) {
	t.Helper()
	files := map[string]string{
		"index.php":                     "<?php // front " + version,
		".htaccess":                     "# BEGIN WordPress",
		"wp-config-docker.php":          "<?php // docker config",
		"wp-includes/version.php":       "<?php\n$wp_version = '" + version + "';\n",
		"wp-includes/functions.php":     "<?php // core " + version,
		"wp-admin/index.php":            "<?php // admin " + version,
		"wp-content/index.php":          "<?php // silence",
		"wp-content/themes/t/style.css": "/* theme " + version + " */",
	}
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, data)
	}
}

// volumeRoot makes a directory as kubelet leaves a volume with fsGroup: owned by root, group
// the pod's, group-writable and setgid.
func volumeRoot(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "html")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 0, nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o2775|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	// The test's temporary directories must be reachable by the unprivileged user.
	for d := filepath.Dir(dir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// asNobody runs a command as the unprivileged user, the way the pod runs as uid 33.
func asNobody(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return cmd
}

func runSyncCore(t *testing.T, src, dst string) (string, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("woocommerce", "files", "sync-core.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := asNobody(exec.Command("bash", script))
	cmd.Env = append(os.Environ(), "WORDPRESS_SOURCE="+src, "WORDPRESS_ROOT="+dst)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSyncCoreCopiesWordPressOntoAVolumeItDoesNotOwn(t *testing.T) {
	requireRootAndPHP(t)
	src := filepath.Join(t.TempDir(), "wordpress")
	fakeImage(t, src, "7.1")
	if err := os.Chmod(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := volumeRoot(t)

	// What the image's entrypoint does here, for the record: on the Debian tar this machine
	// has it copies everything, then fails on the volume root's mode.
	probe := volumeRoot(t)
	entry := asNobody(exec.Command("bash", "-c", `tar --create --file - --directory "$1" . | tar --extract --file - --directory "$2" --no-overwrite-dir`, "-", src, probe))
	out, err := entry.CombinedOutput()
	t.Logf("the entrypoint's tar pipeline on this volume root: err %v, %s", err, strings.TrimSpace(string(out)))

	log, err := runSyncCore(t, src, dst)
	if err != nil {
		t.Fatalf("first start failed: %v\n%s", err, log)
	}
	want := readTree(t, src)
	got := readTree(t, dst)
	if len(got) != len(want) {
		t.Errorf("copied %d files, want %d: %v", len(got), len(want), got)
	}
	for rel, data := range want {
		if got[rel] != data {
			t.Errorf("%s = %q, want %q", rel, got[rel], data)
		}
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 0 || st.Gid != nobody || fi.Mode().Perm() != 0o775 {
		t.Errorf("the volume root changed: uid %d gid %d mode %v", st.Uid, st.Gid, fi.Mode())
	}
	if !strings.Contains(log, "WordPress 7.1 is on the volume") {
		t.Errorf("log:\n%s", log)
	}

	// The next start finds the same version and changes nothing.
	writeFile(t, filepath.Join(dst, "wp-includes", "functions.php"), "<?php // patched in place")
	log, err = runSyncCore(t, src, dst)
	if err != nil {
		t.Fatalf("second start: %v\n%s", err, log)
	}
	if data := readTree(t, dst)["wp-includes/functions.php"]; data != "<?php // patched in place" {
		t.Errorf("a start with the same version rewrote core files: %q", data)
	}
}

func TestSyncCoreUpgradesCoreFilesAndKeepsTheStoresOwn(t *testing.T) {
	requireRootAndPHP(t)
	tests := []struct {
		name, onVolume, inImage string
		wantCore                string
	}{
		{"newer image", "7.0", "7.1", "7.1"},
		{"older image", "7.2", "7.1", "7.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			if err := os.Chmod(base, 0o755); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(base, "image")
			fakeImage(t, src, tt.inImage)
			dst := volumeRoot(t)
			old := filepath.Join(base, "old")
			fakeImage(t, old, tt.onVolume)
			if out, err := asNobody(exec.Command("cp", "-R", old+"/.", dst)).CombinedOutput(); err != nil {
				t.Fatalf("seed the volume: %v %s", err, out)
			}
			// The store's own files.
			for rel, data := range map[string]string{
				"wp-config.php":                        "<?php // the store's config",
				"wp-content/plugins/woocommerce/a.php": "<?php // plugin",
				"wp-content/uploads/logo.png":          "png",
			} {
				p := filepath.Join(dst, rel)
				if out, err := asNobody(exec.Command("mkdir", "-p", filepath.Dir(p))).CombinedOutput(); err != nil {
					t.Fatalf("%v %s", err, out)
				}
				if out, err := asNobody(exec.Command("bash", "-c", `printf '%s' "$2" > "$1"`, "-", p, data)).CombinedOutput(); err != nil {
					t.Fatalf("%v %s", err, out)
				}
			}
			before := readTree(t, dst)

			log, err := runSyncCore(t, src, dst)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			after := readTree(t, dst)
			if v := after["wp-includes/version.php"]; !strings.Contains(v, "'"+tt.wantCore+"'") {
				t.Errorf("version.php after the start: %q, want %s", v, tt.wantCore)
			}
			if c := after["wp-admin/index.php"]; c != "<?php // admin "+tt.wantCore {
				t.Errorf("wp-admin/index.php = %q, want version %s", c, tt.wantCore)
			}
			for rel, data := range before {
				if strings.HasPrefix(rel, "wp-content/") || rel == "wp-config.php" {
					if after[rel] != data {
						t.Errorf("%s changed from %q to %q", rel, data, after[rel])
					}
				}
			}
		})
	}
}

// TestMailSettingsReachPHPMailer loads files/mail.php with the real PHP, as wp-config.php
// does before WordPress's plugin API exists, and calls the hook it registers with a stand-in
// for WordPress's PHPMailer.
func TestMailSettingsReachPHPMailer(t *testing.T) {
	t.Parallel()
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("php is not installed (apt-get install php-cli); CI runs this check")
		}
		t.Fatal("php is not installed, and CI is set: install the Debian package php-cli")
	}
	mail, err := filepath.Abs(filepath.Join("woocommerce", "files", "mail.php"))
	if err != nil {
		t.Fatal(err)
	}
	harness := `<?php
class Mailer { public $smtp = false; public $Host; public $Port; public $SMTPSecure; public $SMTPAutoTLS;
  public $SMTPAuth; public $Username; public $Password; public $From; public $Sender; public $FromName = 'WordPress';
  public function isSMTP() { $this->smtp = true; } }
require $argv[1];
$m = new Mailer();
foreach ($GLOBALS['wp_filter']['phpmailer_init'][10] as $cb) { call_user_func($cb['function'], $m); }
echo json_encode(get_object_vars($m));
`
	hpath := filepath.Join(t.TempDir(), "harness.php")
	writeFile(t, hpath, harness)
	tests := []struct {
		name string
		env  []string
		want map[string]any
	}{
		{"starttls with a login", []string{"STORE_SMTP_HOST=smtp.example.com", "STORE_SMTP_PORT=587", "STORE_SMTP_TLS=starttls",
			"STORE_SMTP_FROM=shop@example.com", "STORE_SMTP_FROM_NAME=My Shop", "STORE_SMTP_USERNAME=shop", "STORE_SMTP_PASSWORD=s3cret"},
			map[string]any{"smtp": true, "Host": "smtp.example.com", "Port": 587.0, "SMTPSecure": "tls", "SMTPAuth": true,
				"Username": "shop", "Password": "s3cret", "From": "shop@example.com", "Sender": "shop@example.com", "FromName": "My Shop"}},
		{"implicit tls, no login", []string{"STORE_SMTP_HOST=mail.internal", "STORE_SMTP_PORT=465", "STORE_SMTP_TLS=tls", "STORE_SMTP_FROM=a@b.c"},
			map[string]any{"smtp": true, "Port": 465.0, "SMTPSecure": "ssl", "SMTPAutoTLS": false, "SMTPAuth": false, "Password": nil}},
		{"no host: WordPress's own mailer is left alone", nil, map[string]any{"smtp": false, "Host": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(php, hpath, mail)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tt.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
