package charts

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests pin what the setup script does where real WordPress, WooCommerce and WP-CLI
// behave in ways a naive script gets wrong (see testdata/fakewp/wp for each behaviour).

func TestSetupScriptNeverPrintsTheAdminPassword(t *testing.T) {
	t.Parallel()
	const quoted = `it's-a "pass" $word`
	tests := []struct {
		name     string
		password string
		env      []string
		wantErr  bool
	}{
		{name: "WP-CLI echoes the prompted command unless --quiet", password: testAdminPassword},
		{name: "a WP-CLI that echoes it even with --quiet", password: quoted, env: []string{"FAKE_WP_ECHO_ALWAYS=1"}},
		{name: "the install fails after echoing", password: quoted, env: []string{"FAKE_WP_ECHO_ALWAYS=1", "FAKE_WP_FAIL_AFTER_ECHO=1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSetupFixture(t)
			f.env["WORDPRESS_ADMIN_PASSWORD"] = tt.password
			r := f.run(t, tt.env...)
			if (r.err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v\nstdout:\n%s\nstderr:\n%s", r.err, tt.wantErr, r.stdout, r.stderr)
			}
			if got := f.stateFile(t, "admin_password"); got != tt.password {
				t.Errorf("WordPress got password %q, want %q", got, tt.password)
			}
			// Every form WP-CLI could print: as typed, and the part of its shell-quoted form
			// that survives quoting.
			secrets := []string{tt.password}
			if tt.password == quoted {
				secrets = append(secrets, `s-a "pass" $word`)
			}
			for _, secret := range secrets {
				for name, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "argv": strings.Join(r.calls, "\n")} {
					if strings.Contains(text, secret) {
						t.Errorf("%s holds %q:\n%s", name, secret, text)
					}
				}
			}
			if tt.env != nil && !strings.Contains(r.stdout+r.stderr, "[redacted]") {
				t.Errorf("the echoed command was not shown redacted:\n%s\n%s", r.stdout, r.stderr)
			}
		})
	}
}

func TestSetupScriptHidesTheTaskListThatWooCommerceIntercepts(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	if r := f.run(t); r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.stderr)
	}
	for _, c := range f.callsSoFar(t) {
		if strings.Contains(c, "option update woocommerce_task_list_hidden ") {
			t.Errorf("the script wrote the option WooCommerce refuses: %s", c)
		}
	}
	// Another task list already hidden: "setup" is added, the other kept.
	writeFile(t, filepath.Join(f.state, "options", "woocommerce_task_list_hidden_lists"), `["extended"]`)
	r := f.run(t)
	if r.err != nil {
		t.Fatalf("second run: %v\n%s", r.err, r.stderr)
	}
	if got := f.stateFile(t, "options/woocommerce_task_list_hidden_lists"); got != `["extended","setup"]` {
		t.Errorf("hidden lists = %s", got)
	}
}

func (f *setupFixture) callsSoFar(t *testing.T) []string {
	t.Helper()
	return readLines(t, filepath.Join(f.state, "calls.log"))
}

func TestSetupScriptPublishesDamagedShopPages(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	if r := f.run(t); r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.stderr)
	}
	checkout := f.stateFile(t, "options/woocommerce_checkout_page_id")
	cart := f.stateFile(t, "options/woocommerce_cart_page_id")
	writeFile(t, filepath.Join(f.state, "posts", checkout), "draft")
	writeFile(t, filepath.Join(f.state, "posts", cart), "trash")

	r := f.run(t)
	if r.err != nil {
		t.Fatalf("repair run: %v\n%s", r.err, r.stderr)
	}
	got := mutating(r.calls)
	want := []string{"post update " + checkout + " --post_status=publish", "wc tool run install_pages", "rewrite flush"}
	if len(got) != len(want) {
		t.Fatalf("repair run changes:\n%s\nwant %v", strings.Join(got, "\n"), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("change %d = %q, want %q", i, got[i], want[i])
		}
	}
	for _, id := range []string{checkout, cart} {
		if s := f.stateFile(t, "posts/"+id); s != "publish" {
			t.Errorf("page %s is %s after the repair", id, s)
		}
	}
	again := f.run(t)
	if again.err != nil || len(mutating(again.calls)) > 0 || strings.Contains(again.stdout, "creating shop pages") {
		t.Errorf("the run after the repair: err %v, changes %v\n%s", again.err, mutating(again.calls), again.stdout)
	}
}

func TestSetupScriptFailsWhenAPageCannotBePublished(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	if r := f.run(t); r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.stderr)
	}
	shop := f.stateFile(t, "options/woocommerce_shop_page_id")
	writeFile(t, filepath.Join(f.state, "posts", shop), "pending")
	r := f.run(t, "FAKE_WP_FAIL_NOOP=post update")
	if r.err == nil || !strings.Contains(r.stderr, "the shop page is pending, want publish") {
		t.Fatalf("err %v, stderr:\n%s", r.err, r.stderr)
	}
}

func TestSetupScriptSwitchesOnlyNewStoresToOrderTables(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	// A store whose orders are already in the posts table is not migrated behind its back.
	if err := os.MkdirAll(filepath.Join(f.state, "legacy_orders"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.state, "legacy_orders", "41"), "processing")
	r := f.run(t)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	for _, c := range r.calls {
		if strings.Contains(c, "hpos enable") {
			t.Errorf("order storage switched with legacy orders present: %s", c)
		}
	}
	if !strings.Contains(r.stdout, "1 orders are kept in the posts table") {
		t.Errorf("the run does not say why it left the storage alone:\n%s", r.stdout)
	}
}

func TestSetupScriptVerifiesWooCommerceSource(t *testing.T) {
	t.Parallel()
	mirror := t.TempDir()
	archive, sum := writeWooCommerceArchive(t, mirror, "11.1.2")
	other, _ := writeWooCommerceArchive(t, t.TempDir(), "11.0.0")
	srv := httptest.NewServer(http.FileServer(http.Dir(mirror)))
	t.Cleanup(srv.Close)
	closed := closedPort(t)

	tests := []struct {
		name, url, sha string
		env            []string
		wantErr        string // "" for success
		wantCall       string
	}{
		{name: "mirror over http", url: srv.URL + "/" + filepath.Base(archive), sha: sum, wantCall: "plugin install"},
		{name: "file in the image", url: "file://" + archive, sha: sum, wantCall: "plugin install"},
		{name: "wrong checksum", url: srv.URL + "/" + filepath.Base(archive), sha: strings.Repeat("0", 64),
			wantErr: "has sha256 " + sum + ", want " + strings.Repeat("0", 64) + "; refusing to install it"},
		{name: "unreachable source", url: "http://" + closed + "/woocommerce.zip", sha: sum,
			wantErr: "could not fetch WooCommerce 11.1.2 from http://" + closed + "/woocommerce.zip"},
		{name: "missing on the mirror", url: srv.URL + "/nope.zip", sha: sum,
			wantErr: "could not fetch WooCommerce 11.1.2 from " + srv.URL + "/nope.zip"},
		{name: "archive of another version", url: "file://" + other, sha: "",
			wantErr: "holds WooCommerce 11.0.0, want 11.1.2"},
		{name: "no pinned checksum: files checked against wordpress.org's", url: "file://" + archive, sha: "",
			wantCall: "plugin verify-checksums woocommerce"},
		{name: "no pinned checksum, files modified", url: "file://" + archive, sha: "", env: []string{"FAKE_WP_CHECKSUMS_FAIL=1"},
			wantErr: "does not match wordpress.org's checksums"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSetupFixture(t)
			f.env["WC_SOURCE_URL"] = tt.url
			f.env["WC_SHA256"] = tt.sha
			r := f.run(t, tt.env...)
			if tt.wantErr == "" {
				if r.err != nil {
					t.Fatalf("%v\n%s", r.err, r.stderr)
				}
				if !strings.Contains(strings.Join(r.calls, "\n"), tt.wantCall) {
					t.Errorf("no %q call:\n%s", tt.wantCall, strings.Join(r.calls, "\n"))
				}
				return
			}
			if r.err == nil {
				t.Fatalf("the script succeeded:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantErr, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(f.tmp, "woocommerce-11.1.2.zip")); err == nil {
				t.Error("a refused archive was left behind")
			}
			if strings.Contains(r.stderr, "wrong checksum") || tt.sha != "" && strings.Contains(strings.Join(r.calls, "\n"), "plugin install") && strings.Contains(tt.wantErr, "sha256") {
				t.Errorf("an archive with a wrong checksum reached WP-CLI:\n%s", strings.Join(r.calls, "\n"))
			}
		})
	}
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestSetupScriptDatabaseWaitEndsAgainstASilentServer runs the real db-ready.php with the
// real PHP against a server that accepts connections and never answers: mysqli's default is
// to wait forever, so without the script's bounds this test would hang.
func TestSetupScriptDatabaseWaitEndsAgainstASilentServer(t *testing.T) {
	t.Parallel()
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("php is not installed (apt-get install php-cli php-mysql); CI runs this check")
		}
		t.Fatal("php is not installed, and CI is set: install the Debian packages php-cli and php-mysql")
	}
	if out, err := exec.Command(php, "-r", "exit(function_exists('mysqli_init') ? 0 : 1);").CombinedOutput(); err != nil {
		t.Fatalf("php has no mysqli (install php-mysql): %v %s", err, out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never written to
		}
	}()
	defer func() {
		close(accepted)
		for c := range accepted {
			_ = c.Close()
		}
	}()

	f := newSetupFixture(t)
	// Only the fake wp: php is the real one.
	bin := t.TempDir()
	fake, err := filepath.Abs(filepath.Join("testdata", "fakewp", "wp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fake, filepath.Join(bin, "wp")); err != nil {
		t.Fatal(err)
	}
	f.env["WORDPRESS_DB_HOST"] = l.Addr().String()
	f.env["SETUP_TIMEOUT"] = "3"
	f.env["DB_CHECK_TIMEOUT"] = "1"
	f.env["POLL_SECONDS"] = "0.2"

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(f.dir, "setup.sh"))
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + f.state, "FAKE_WP_STATE=" + f.state}
	for k, v := range f.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the setup script was still waiting for a silent database after 60s:\n%s", out)
	}
	if err == nil {
		t.Fatalf("the script succeeded against a silent database:\n%s", out)
	}
	text := string(out)
	if !strings.Contains(text, "timed out after 3s waiting for the database") {
		t.Errorf("no timeout message:\n%s", text)
	}
	if !strings.Contains(text, "database "+l.Addr().String()+" not ready") {
		t.Errorf("the check does not say which database did not answer:\n%s", text)
	}
	if strings.Contains(text, f.env["WORDPRESS_DB_PASSWORD"]) {
		t.Error("the database password is in the output")
	}
}
