package charts

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The setup script cannot run against real WordPress here, so these tests run the script the
// chart renders into its ConfigMap with bash, against the fake wp and php in testdata/fakewp,
// which record every call and keep WordPress's state as files.

const (
	testAdminUser     = "storeadmin"
	testAdminPassword = "Pw-9f3K2xQ7-never-on-argv"
)

// setupEnv is the environment the rendered Job gives the script, with the Secret's values
// filled in as the kubelet would.
type setupEnv map[string]string

type setupFixture struct {
	dir    string // holds setup.sh and db-ready.php as the ConfigMap mounts them
	state  string // the fake WordPress's state
	wpPath string // the WordPress files
	tmp    string // the Job's /tmp
	env    setupEnv
}

// writeWooCommerceArchive writes a WooCommerce archive of the given version, as a plugin zip
// holds it (the version in woocommerce/woocommerce.php's header), and returns its path and
// sha256. Members are stored uncompressed so that the fake wp can read the header.
func writeWooCommerceArchive(t *testing.T, dir, version string) (path, sum string) {
	t.Helper()
	path = filepath.Join(dir, "woocommerce-"+version+".zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "woocommerce/woocommerce.php", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("<?php\n/**\n * Plugin Name: WooCommerce\n * Version: " + version + "\n */\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return path, hex.EncodeToString(h[:])
}

func newSetupFixture(t *testing.T) *setupFixture {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("the setup script tests need bash on PATH: %v", err)
	}
	root := t.TempDir()
	f := &setupFixture{
		dir:    filepath.Join(root, "setup"),
		state:  filepath.Join(root, "state"),
		wpPath: filepath.Join(root, "html"),
		tmp:    filepath.Join(root, "tmp"),
		env:    setupEnv{},
	}
	for _, d := range []string{f.dir, f.state, f.tmp, filepath.Join(root, "mirror"), filepath.Join(f.wpPath, "wp-includes")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// What the WordPress image's entrypoint leaves on the volume before the Job runs.
	writeFile(t, filepath.Join(f.wpPath, "wp-config.php"), "<?php // generated\n")
	writeCoreVersion(t, f.wpPath, "7.1", 60717)

	objs := objects(t, mustInstall(t, presetValues(t, PresetLocal, nil)))
	cm := find(t, objs, "ConfigMap", "demo-setup")
	for _, key := range []string{"setup.sh", "db-ready.php"} {
		data, _, _ := unstructured.NestedString(cm.Object, "data", key)
		if data == "" {
			t.Fatalf("ConfigMap demo-setup has no %s", key)
		}
		writeFile(t, filepath.Join(f.dir, key), data)
	}

	var job *podSpec
	for _, p := range podSpecs(t, objs) {
		if p.owner == "Job/demo-setup-r1" {
			job = &p
		}
	}
	secret := map[string]string{
		"wordpress-admin-user":     testAdminUser,
		"wordpress-admin-password": testAdminPassword,
		"mariadb-password":         "db-password-unused-by-fakes",
	}
	for _, e := range job.spec.Containers[0].Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			v, ok := secret[e.ValueFrom.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("the Job reads unknown Secret key %s", e.ValueFrom.SecretKeyRef.Key)
			}
			f.env[e.Name] = v
		default:
			f.env[e.Name] = e.Value
		}
	}
	if f.env["CORE_IMAGE"] == "" {
		t.Fatal("the setup Job does not say which WordPress image its files come from")
	}
	// What the WordPress pod's sync-core step records once the files are this image's.
	writeFile(t, filepath.Join(f.wpPath, ".storectl-core"), f.env["CORE_IMAGE"]+"\n")
	f.env["WP_PATH"] = f.wpPath
	f.env["POLL_SECONDS"] = "0"
	f.env["SETUP_TIMEOUT"] = "30"
	f.env["TMPDIR"] = f.tmp
	// The rendered source is wordpress.org; the tests serve the same release from a file, as
	// an air-gapped cluster would from its setup image.
	archive, sum := writeWooCommerceArchive(t, filepath.Join(root, "mirror"), f.env["WC_VERSION"])
	f.env["WC_SOURCE_URL"] = "file://" + archive
	f.env["WC_SHA256"] = sum
	return f
}

// writeCoreVersion writes wp-includes/version.php of a WordPress release and database schema.
func writeCoreVersion(t *testing.T, root, version string, dbVersion int) {
	t.Helper()
	writeFile(t, filepath.Join(root, "wp-includes", "version.php"),
		fmt.Sprintf("<?php\n$wp_version = '%s';\n$wp_db_version = %d;\n", version, dbVersion))
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

type setupResult struct {
	stdout, stderr string
	calls          []string // wp and php calls of this run
	err            error
}

// run executes the rendered script once with bash, with extra environment on top.
func (f *setupFixture) run(t *testing.T, extra ...string) setupResult {
	t.Helper()
	fake, err := filepath.Abs(filepath.Join("testdata", "fakewp"))
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(f.state, "calls.log")
	before := readLines(t, logPath)

	cmd := exec.Command("bash", filepath.Join(f.dir, "setup.sh"))
	cmd.Env = []string{
		"PATH=" + fake + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + f.state,
		"LANG=C",
		"FAKE_WP_STATE=" + f.state,
	}
	for k, v := range f.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extra...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	after := readLines(t, logPath)
	return setupResult{stdout: stdout.String(), stderr: stderr.String(), calls: after[len(before):], err: runErr}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// snapshot returns the fake WordPress state, every file but the call log.
func (f *setupFixture) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(f.state, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "calls.log" {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(f.state, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *setupFixture) stateFile(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.state, rel))
	if err != nil {
		t.Fatalf("fake WordPress state: %v", err)
	}
	return string(data)
}

// readOnlyCalls are the only WP-CLI calls a run may make when there is nothing to change.
var readOnlyCalls = []string{
	"core is-installed", "option get", "option pluck", "plugin is-installed", "plugin get",
	"plugin is-active", "plugin verify-checksums", "maintenance-mode is-active", "post get", "post list", "wc shipping_zone_method list",
	"wc product list", "wc product get",
}

// isReadOnly reports whether a recorded call only reads.
func isReadOnly(call string) bool {
	if strings.HasPrefix(call, "php ") {
		return strings.HasSuffix(call, "db-ready.php")
	}
	fields := strings.Fields(call)
	var words []string
	for _, w := range fields {
		if !strings.HasPrefix(w, "--") {
			words = append(words, w)
		}
	}
	for _, ro := range readOnlyCalls {
		n := len(strings.Fields(ro))
		if len(words) >= n && strings.Join(words[:n], " ") == ro {
			return true
		}
	}
	return false
}

// mutating returns the calls of a run that change something.
func mutating(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !isReadOnly(c) {
			out = append(out, c)
		}
	}
	return out
}

func TestSetupScriptSetsUpTheStoreThenChangesNothing(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)

	first := f.run(t)
	if first.err != nil {
		t.Fatalf("first run failed: %v\nstdout:\n%s\nstderr:\n%s", first.err, first.stdout, first.stderr)
	}

	// The steps the issue asks for, in this order.
	wantSteps := []string{
		"core install --url=http://demo.127.0.0.1.nip.io --title=demo --admin_user=storeadmin --admin_email=admin@demo.127.0.0.1.nip.io --skip-email --quiet --prompt=admin_password",
		"rewrite structure /%postname%/",
		"plugin install " + filepath.Join(f.tmp, "woocommerce-11.1.2.zip"),
		"plugin activate woocommerce",
		"option update woocommerce_store_address 1 Main Street",
		"option update woocommerce_default_country US:CA",
		"option update woocommerce_currency USD",
		"option update woocommerce_coming_soon no",
		"option update woocommerce_store_pages_only no",
		`option update woocommerce_onboarding_profile {"skipped":true} --format=json`,
		`option update woocommerce_task_list_hidden_lists ["setup"] --format=json`,
		"wc hpos enable --user=storeadmin",
		"wc tool run install_pages --user=storeadmin",
		"wc payment_gateway update cod --enabled=true --user=storeadmin",
		"wc shipping_zone_method create 0 --method_id=free_shipping --enabled=true --user=storeadmin",
		"wc product create --name=Sample Product --sku=SAMPLE-001 --type=simple --regular_price=19.99 --status=publish --porcelain --user=storeadmin",
		"rewrite flush",
	}
	changes := mutating(first.calls)
	next := 0
	for _, c := range changes {
		if next < len(wantSteps) && strings.HasSuffix(c, wantSteps[next]) {
			next++
		}
	}
	if next != len(wantSteps) {
		t.Fatalf("first run: step %q missing or out of order; changes were:\n%s", wantSteps[next], strings.Join(changes, "\n"))
	}
	for _, c := range first.calls {
		if !strings.HasPrefix(c, "php ") && (!strings.Contains(c, "--path="+f.wpPath) || !strings.Contains(c, "--url=http://demo.127.0.0.1.nip.io")) {
			t.Errorf("call without --path or --url: %s", c)
		}
	}
	// The first run on a new store succeeds as it is: nothing may depend on a retry.
	for _, bad := range []string{"Error:", "Warning", "HTTP_HOST"} {
		if strings.Contains(first.stdout+first.stderr, bad) {
			t.Errorf("the first run printed %q:\nstdout:\n%s\nstderr:\n%s", bad, first.stdout, first.stderr)
		}
	}

	// The password reached WordPress, through standard input only.
	if got := f.stateFile(t, "admin_password"); got != testAdminPassword {
		t.Errorf("WordPress got admin password %q, want the Secret's", got)
	}
	for name, text := range map[string]string{"argv": strings.Join(first.calls, "\n"), "stdout": first.stdout, "stderr": first.stderr} {
		if strings.Contains(text, testAdminPassword) {
			t.Errorf("the admin password appears in the script's %s", name)
		}
	}

	// What the store ends up with.
	want := map[string]string{
		"woocommerce.version":                              "11.1.2",
		"options/woocommerce_currency":                     "USD",
		"options/woocommerce_coming_soon":                  "no",
		"options/woocommerce_cod_settings.enabled":         "yes",
		"options/permalink_structure":                      "/%postname%/",
		"options/woocommerce_onboarding_profile":           `{"skipped":true}`,
		"options/woocommerce_enable_guest_checkout":        "yes",
		"options/woocommerce_show_marketplace_suggestions": "no",
		"options/woocommerce_task_list_hidden_lists":       `["setup"]`,
		"options/woocommerce_custom_orders_table_enabled":  "yes",
	}
	for file, v := range want {
		if got := f.stateFile(t, file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	state := f.snapshot(t)
	var products, pages, methods int
	for k, v := range state {
		switch {
		case strings.HasPrefix(k, "products/") && strings.HasSuffix(k, "/sku") && v == "SAMPLE-001":
			products++
			dir := filepath.Dir(k)
			if state[dir+"/regular_price"] != "19.99" || state[dir+"/status"] != "publish" || state[dir+"/name"] != "Sample Product" {
				t.Errorf("sample product %s: price %q status %q name %q", dir, state[dir+"/regular_price"], state[dir+"/status"], state[dir+"/name"])
			}
		case strings.HasPrefix(k, "posts/"):
			pages++
		case strings.HasPrefix(k, "shipping/"):
			methods++
		}
	}
	if products != 1 || pages != 4 || methods != 1 {
		t.Errorf("after the first run: %d sample products, %d pages, %d shipping methods; want 1, 4, 1", products, pages, methods)
	}
	if !strings.Contains(first.stdout, "verified: WooCommerce active, cash on delivery enabled, shop pages published, SAMPLE-001 at 19.99") {
		t.Errorf("first run did not report its verification:\n%s", first.stdout)
	}

	// The second run, as on "helm upgrade": reads only, writes nothing, still verifies.
	second := f.run(t)
	if second.err != nil {
		t.Fatalf("second run failed: %v\n%s", second.err, second.stderr)
	}
	if changes := mutating(second.calls); len(changes) > 0 {
		t.Errorf("second run changed things:\n%s", strings.Join(changes, "\n"))
	}
	if after := f.snapshot(t); !mapsEqual(state, after) {
		t.Errorf("second run changed the store's state:\nbefore %v\nafter  %v", state, after)
	}
	if !strings.Contains(second.stdout, "verified:") {
		t.Errorf("second run did not verify:\n%s", second.stdout)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// sampleProductDir returns the fake state directory of the sample product.
func sampleProductDir(t *testing.T, f *setupFixture) string {
	t.Helper()
	for k, v := range f.snapshot(t) {
		if strings.HasPrefix(k, "products/") && strings.HasSuffix(k, "/sku") && v == "SAMPLE-001" {
			return filepath.Join(f.state, filepath.Dir(k))
		}
	}
	t.Fatal("no sample product in the fake state")
	return ""
}

func TestSetupScriptRepairsDriftWithOneChangeEach(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	if r := f.run(t); r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.stderr)
	}
	// Someone changed the price, turned COD off, switched coming-soon on and deleted the cart page.
	writeFile(t, filepath.Join(sampleProductDir(t, f), "regular_price"), "9.99")
	writeFile(t, filepath.Join(f.state, "options", "woocommerce_cod_settings.enabled"), "no")
	writeFile(t, filepath.Join(f.state, "options", "woocommerce_coming_soon"), "yes")
	cartID := f.stateFile(t, "options/woocommerce_cart_page_id")
	if err := os.Remove(filepath.Join(f.state, "posts", cartID)); err != nil {
		t.Fatal(err)
	}

	r := f.run(t)
	if r.err != nil {
		t.Fatalf("repair run: %v\n%s", r.err, r.stderr)
	}
	got := mutating(r.calls)
	want := []string{"option update woocommerce_coming_soon no", "wc tool run install_pages", "wc payment_gateway update cod", "wc product update", "rewrite flush"}
	if len(got) != len(want) {
		t.Fatalf("repair run made %d changes, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("change %d = %q, want %q", i, got[i], want[i])
		}
	}
	if price := f.stateFile(t, strings.TrimPrefix(sampleProductDir(t, f), f.state+"/")+"/regular_price"); price != "19.99" {
		t.Errorf("price after repair = %q", price)
	}
}

func TestSetupScriptFailsLoudlyWhenVerificationFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   []string
		setup func(t *testing.T, f *setupFixture)
		want  string
	}{
		{
			name: "price does not stick",
			env:  []string{"FAKE_WP_PRICE=9.99"},
			want: "SAMPLE-001 reads back at price '9.99', want 19.99",
		},
		{
			name: "cash on delivery does not stick",
			env:  []string{"FAKE_WP_COD_NOOP=1"},
			want: "cash on delivery is not enabled",
		},
		{
			// WP-CLI itself fails first: WooCommerce's commands exist only when it is active.
			name: "WooCommerce does not activate",
			env:  []string{"FAKE_WP_ACTIVATE_NOOP=1"},
			want: "'wc' is not a registered wp command",
		},
		{
			name: "duplicate SKU",
			setup: func(t *testing.T, f *setupFixture) {
				dir := filepath.Join(f.state, "products", "900")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for k, v := range map[string]string{"sku": "SAMPLE-001", "regular_price": "19.99", "status": "publish", "name": "Copy"} {
					writeFile(t, filepath.Join(dir, k), v)
				}
			},
			want: "share SKU SAMPLE-001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSetupFixture(t)
			if tt.setup != nil {
				if r := f.run(t); r.err != nil {
					t.Fatalf("first run: %v\n%s", r.err, r.stderr)
				}
				tt.setup(t, f)
			}
			r := f.run(t, tt.env...)
			if r.err == nil {
				t.Fatalf("the script succeeded:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
			if strings.Contains(r.stdout, "setup: done") {
				t.Errorf("the script reported done after failing:\n%s", r.stdout)
			}
		})
	}
}

func TestSetupScriptStopsAtTheFirstFailingCommand(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	r := f.run(t, "FAKE_WP_FAIL=plugin install")
	if r.err == nil {
		t.Fatal("the script succeeded although installing WooCommerce failed")
	}
	last := r.calls[len(r.calls)-1]
	if !strings.Contains(last, "plugin install ") {
		t.Errorf("the script went on after the failure; last call: %s", last)
	}
	if !strings.Contains(r.stderr, "injected failure of 'plugin install'") {
		t.Errorf("the failure is not shown:\n%s", r.stderr)
	}
}

func TestSetupScriptWaitsForTheDatabaseAndFiles(t *testing.T) {
	t.Parallel()
	t.Run("database comes up", func(t *testing.T) {
		t.Parallel()
		f := newSetupFixture(t)
		writeFile(t, filepath.Join(f.state, "db-failures"), "2")
		r := f.run(t)
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.stderr)
		}
		var dbChecks int
		for _, c := range r.calls {
			if strings.HasPrefix(c, "php ") {
				dbChecks++
			}
		}
		if dbChecks != 3 || strings.Count(r.stdout, "waiting for the database") != 2 {
			t.Errorf("%d database checks, output:\n%s", dbChecks, r.stdout)
		}
	})
	t.Run("database never comes up", func(t *testing.T) {
		t.Parallel()
		f := newSetupFixture(t)
		writeFile(t, filepath.Join(f.state, "db-failures"), "always")
		r := f.run(t, "SETUP_TIMEOUT=1", "POLL_SECONDS=0.2")
		if r.err == nil || !strings.Contains(r.stderr, "timed out after 1s waiting for the database") {
			t.Fatalf("err %v, stderr:\n%s", r.err, r.stderr)
		}
		if len(mutating(r.calls)) > 0 {
			t.Errorf("the script changed things without a database: %v", mutating(r.calls))
		}
	})
	t.Run("WordPress files never appear", func(t *testing.T) {
		t.Parallel()
		f := newSetupFixture(t)
		if err := os.Remove(filepath.Join(f.wpPath, "wp-config.php")); err != nil {
			t.Fatal(err)
		}
		r := f.run(t, "SETUP_TIMEOUT=1", "POLL_SECONDS=0.2")
		if r.err == nil || !strings.Contains(r.stderr, "waiting for WordPress files") {
			t.Fatalf("err %v, stderr:\n%s", r.err, r.stderr)
		}
		if len(r.calls) > 0 {
			t.Errorf("the script called WP-CLI before WordPress was there: %v", r.calls)
		}
	})
}

// upgradeSteps are the changes of a run that upgrades WooCommerce: the plugin and then its
// database, in maintenance mode.
var upgradeSteps = []string{"maintenance-mode activate", "woocommerce-11.1.2.zip --force", "wc update", "maintenance-mode deactivate", "rewrite flush"}

func TestSetupScriptUpgradesButNeverDowngradesWooCommerce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		installed   string
		wantChanges []string
		wantVersion string
	}{
		{"10.9.4", upgradeSteps, "11.1.2"},
		{"9.9.9", upgradeSteps, "11.1.2"},
		{"11.1.10", nil, "11.1.10"},
		{"11.2.0", nil, "11.2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.installed, func(t *testing.T) {
			t.Parallel()
			f := newSetupFixture(t)
			if r := f.run(t); r.err != nil {
				t.Fatalf("first run: %v\n%s", r.err, r.stderr)
			}
			// The plugin and its database, as a store on that release has them.
			writeFile(t, filepath.Join(f.state, "woocommerce.version"), tt.installed)
			writeFile(t, filepath.Join(f.state, "options", "woocommerce_db_version"), tt.installed)
			r := f.run(t)
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.stderr)
			}
			got := mutating(r.calls)
			if len(got) != len(tt.wantChanges) {
				t.Fatalf("changes:\n%s\nwant %v", strings.Join(got, "\n"), tt.wantChanges)
			}
			for i, w := range tt.wantChanges {
				if !strings.Contains(got[i], w) {
					t.Errorf("change %d = %q, want %q", i, got[i], w)
				}
			}
			if v := f.stateFile(t, "woocommerce.version"); v != tt.wantVersion {
				t.Errorf("WooCommerce %s after the run, want %s", v, tt.wantVersion)
			}
			if v := f.stateFile(t, "options/woocommerce_db_version"); v != tt.wantVersion {
				t.Errorf("WooCommerce's database at %s after the run, want %s", v, tt.wantVersion)
			}
			f.requireMaintenanceOff(t)
		})
	}
}

func TestSetupScriptRefusesMissingSettings(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	delete(f.env, "PRODUCT_PRICE")
	r := f.run(t)
	if r.err == nil || !strings.Contains(r.stderr, "PRODUCT_PRICE is not set") {
		t.Fatalf("err %v, stderr:\n%s", r.err, r.stderr)
	}
	if len(r.calls) > 0 {
		t.Errorf("the script called WP-CLI with a setting missing: %v", r.calls)
	}
}

// TestSetupScriptHasNoEscapeHatches keeps the script strict: errexit, nounset and pipefail,
// and no "|| true" swallowing a failure.
func TestSetupScriptHasNoEscapeHatches(t *testing.T) {
	data, err := FS.ReadFile("woocommerce/files/setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	script := string(data)
	if !slices.Contains(strings.Split(script, "\n"), "set -euo pipefail") {
		t.Error("setup.sh does not start with set -euo pipefail")
	}
	for _, bad := range []string{"|| true", "|| :", "set +e", "set +o pipefail", "--admin_password="} {
		if strings.Contains(script, bad) {
			t.Errorf("setup.sh contains %q", bad)
		}
	}
}

// TestShellcheck runs shellcheck on the setup script and the test fakes. Without shellcheck it
// skips on a workstation, but fails in CI, which installs it.
func TestShellcheck(t *testing.T) {
	bin, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("shellcheck is not installed (apt-get install shellcheck); CI runs this check")
		}
		t.Fatal("shellcheck is not installed, and CI is set: install the Debian package shellcheck")
	}
	files := []string{
		filepath.Join("woocommerce", "files", "setup.sh"),
		filepath.Join("woocommerce", "files", "sync-core.sh"),
		filepath.Join("testdata", "fakewp", "wp"),
		filepath.Join("testdata", "fakewp", "php"),
	}
	out, err := exec.Command(bin, append([]string{"--shell=bash", "--severity=style"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
