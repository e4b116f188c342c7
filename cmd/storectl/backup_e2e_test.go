//go:build e2e

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/testcluster"
)

// mariadbServer is a real MariaDB server of the test's own, on a unix socket in a
// temporary directory: the sandbox's store pods exec their database commands against it.
type mariadbServer struct {
	dir, socket string
}

// startMariaDB starts mariadbd from the Debian packages .ci/run installs, and stops it when
// the test ends.
func startMariaDB(t *testing.T) *mariadbServer {
	t.Helper()
	for _, bin := range []string{"mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump"} {
		if _, err := exec.LookPath(bin); err != nil {
			if p := "/usr/sbin/" + bin; fileExists(p) {
				continue
			}
			t.Fatalf("%s is not installed (apt-get install mariadb-server mariadb-client, as .ci/run does): %v", bin, err)
		}
	}
	// Short: a unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "mdb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	install := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user="+me.Username,
		"--auth-root-authentication-method=socket", "--auth-root-socket-user="+me.Username, "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s := &mariadbServer{dir: dir, socket: filepath.Join(dir, "sock")}
	// The clients the store's pods run find the server through the option file in their
	// home directory, as they find /run/mysqld/mysqld.sock in the real container.
	if err := os.WriteFile(filepath.Join(dir, ".my.cnf"), []byte("[client]\nsocket="+s.socket+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := exec.Command(mariadbd(), "--no-defaults", "--datadir="+data, "--socket="+s.socket, "--skip-networking",
		"--pid-file="+filepath.Join(dir, "pid"), "--user="+me.Username, "--innodb-buffer-pool-size=32M",
		"--log-error="+filepath.Join(dir, "error.log"))
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = server.Process.Kill()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := exec.Command("mariadb-admin", "--no-defaults", "--socket="+s.socket, "-uroot", "ping").Run(); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("mariadbd did not start:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mariadbd() string {
	if p, err := exec.LookPath("mariadbd"); err == nil {
		return p
	}
	return "/usr/sbin/mariadbd"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// sql runs statements as the server's administrator and returns the rows, tab-separated.
func (s *mariadbServer) sql(t *testing.T, db, statements string) string {
	t.Helper()
	args := []string{"--no-defaults", "--socket=" + s.socket, "-uroot", "--batch", "--skip-column-names", "--raw"}
	if db != "" {
		args = append(args, db)
	}
	cmd := exec.Command("mariadb", args...)
	cmd.Stdin = strings.NewReader(statements)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("mariadb: %v\n%s\n%s", err, errOut.String(), statements)
	}
	return strings.TrimRight(out.String(), "\n")
}

// sandboxStore is what a store's pods run against: its own database on the server and a
// WordPress directory with wp-content.
type sandboxStore struct {
	name, db, user, password, wpRoot string
}

func newSandboxStore(t *testing.T, s *mariadbServer, name string) *sandboxStore {
	t.Helper()
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	id := strings.ReplaceAll(name, "-", "_")
	st := &sandboxStore{name: name, db: "db_" + id, user: "u_" + id, password: "Pw-" + hex.EncodeToString(pw), wpRoot: t.TempDir()}
	s.sql(t, "", fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET utf8mb4; CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; GRANT ALL ON `%s`.* TO '%s'@'localhost';",
		st.db, st.user, st.password, st.db, st.user))
	writeFile(t, filepath.Join(st.wpRoot, "wp-includes", "version.php"), "<?php\n$wp_version = '7.1.2';\n$wp_db_version = 60421;\n")
	return st
}

// execConfig makes the store's pods exec locally: the database container as a client of the
// test's server (through the option file in HOME) with the store's database and user in its environment, as the chart's
// container has them, and the WordPress container in the store's WordPress directory.
func (st *sandboxStore) execConfig(s *mariadbServer, extraEnv ...string) string {
	envs := []string{"HOME=" + s.dir, "MARIADB_DATABASE=" + st.db, "MARIADB_USER=" + st.user, "MARIADB_PASSWORD=" + st.password}
	envs = append(envs, extraEnv...)
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterExec\nmetadata:\n  name: %s\nspec:\n  selector:\n    matchNamespaces: [store-%s]\n  execs:\n", st.name, st.name)
	fmt.Fprintf(&b, "  - containers: [mariadb]\n    local:\n      workDir: %s\n      envs:\n", s.dir)
	for _, e := range envs {
		k, v, _ := strings.Cut(e, "=")
		fmt.Fprintf(&b, "      - name: %s\n        value: %q\n", k, v)
	}
	fmt.Fprintf(&b, "  - containers: [wordpress]\n    local:\n      workDir: %s\n", st.wpRoot)
	return b.String()
}

func applyExec(t *testing.T, c *testcluster.Cluster, doc string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exec.yaml")
	writeFile(t, path, doc)
	c.Kubectl(t, "apply", "-f", path)
	// The kwok controller picks the resource up from its watch.
	time.Sleep(2 * time.Second)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tree maps each file under dir to its sha256, and each directory to "dir".
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func seedSource(t *testing.T, s *mariadbServer, st *sandboxStore, url string) {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	widget := fmt.Sprintf(`a:1:{s:4:"link";s:%d:"%s";}`, len(url+"/shop"), url+"/shop")
	s.sql(t, st.db, strings.ReplaceAll(strings.ReplaceAll(`
CREATE TABLE wp_options (option_id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, option_name VARCHAR(191) NOT NULL UNIQUE, option_value LONGTEXT NOT NULL, autoload VARCHAR(20) NOT NULL DEFAULT 'yes');
CREATE TABLE wp_posts (ID BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, post_content LONGTEXT NOT NULL, guid VARCHAR(255) NOT NULL);
CREATE TABLE wp_users (ID BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, user_login VARCHAR(60) NOT NULL, user_pass VARCHAR(255) NOT NULL);
CREATE TABLE wp_wc_orders (id BIGINT UNSIGNED PRIMARY KEY, total_amount DECIMAL(26,8), billing_email VARCHAR(320), note TEXT, blob_data BLOB);
INSERT INTO wp_options (option_name, option_value) VALUES ('siteurl', 'URL'), ('home', 'URL'), ('db_version', '60421'),
  ('woocommerce_db_version', '11.1.2'), ('woocommerce_version', '11.1.2'), ('widget_link', 'WIDGET'),
  ('_transient_wc_count', '5'), ('rewrite_rules', 'a:0:{}'), ('blog_desc', 'It''s a "shop"\\ at URL');
INSERT INTO wp_posts (post_content, guid) VALUES ('<a href="URL/product/x">x</a> {"u":"http:\\/\\/HOST\\/y"}', 'URL/?p=1');
INSERT INTO wp_users (user_login, user_pass) VALUES ('admin', '$wp$old-store-hash'), ('customer1', '$wp$customer-hash');
INSERT INTO wp_wc_orders VALUES (1001, 19.99, 'ann@example.test', 'first line\nsecond line', UNHEX('00FF10')), (1002, 5.00, 'bob@example.test', NULL, NULL);
`, "URL", url), "HOST", host))
	s.sql(t, st.db, fmt.Sprintf("UPDATE wp_options SET option_value = '%s' WHERE option_name = 'widget_link';", widget))
	writeFile(t, filepath.Join(st.wpRoot, "wp-content", "plugins", "woocommerce", "woocommerce.php"), "<?php\n/* Plugin Name: WooCommerce */\n")
	writeFile(t, filepath.Join(st.wpRoot, "wp-content", "themes", "shop", "style.css"), "body{}\n")
	photo := make([]byte, 300<<10)
	_, _ = rand.Read(photo)
	writeFile(t, filepath.Join(st.wpRoot, "wp-content", "uploads", "2026", "12", "photo.jpg"), string(photo))
}

// seedFresh makes the target's database look like a store just set up: its own options and
// its own admin, and a table the archive does not have.
func seedFresh(t *testing.T, s *mariadbServer, st *sandboxStore, url string) {
	t.Helper()
	s.sql(t, st.db, `
CREATE TABLE wp_options (option_id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, option_name VARCHAR(191) NOT NULL UNIQUE, option_value LONGTEXT NOT NULL, autoload VARCHAR(20) NOT NULL DEFAULT 'yes');
CREATE TABLE wp_users (ID BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, user_login VARCHAR(60) NOT NULL, user_pass VARCHAR(255) NOT NULL);
CREATE TABLE wp_fresh_only (id INT);
INSERT INTO wp_options (option_name, option_value) VALUES ('siteurl', '`+url+`'), ('db_version', '60421'), ('woocommerce_db_version', '11.1.2');
INSERT INTO wp_users (user_login, user_pass) VALUES ('admin', '$wp$new-store-hash');`)
	writeFile(t, filepath.Join(st.wpRoot, "wp-content", "plugins", "woocommerce", "woocommerce.php"), "<?php\n/* fresh */\n")
	writeFile(t, filepath.Join(st.wpRoot, "wp-content", "uploads", "stale.txt"), "from the fresh install\n")
}

func checksums(t *testing.T, s *mariadbServer, db string, tables ...string) string {
	t.Helper()
	out := s.sql(t, db, "CHECKSUM TABLE "+strings.Join(tables, ", ")+" EXTENDED;")
	// Rows are "db.table<TAB>checksum"; the database name differs between stores.
	var sums []string
	for line := range strings.SplitSeq(out, "\n") {
		_, rest, _ := strings.Cut(line, ".")
		sums = append(sums, rest)
	}
	return strings.Join(sums, "\n")
}

type backupJSON struct {
	Store  string `json:"store"`
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// A store with rows and files is backed up through the API server's exec into a real
// MariaDB and a real tar, the archive verifies, and restored into a new store its tables,
// files and rewritten addresses are as they should be, while the original is untouched.
func TestBackupAndRestoreForReal(t *testing.T) {
	t.Parallel()
	c := testcluster.Private(t)
	s := startMariaDB(t)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	a, b := "bk-a-"+hex.EncodeToString(suffix), "bk-b-"+hex.EncodeToString(suffix)
	srcStore, dstStore := newSandboxStore(t, s, a), newSandboxStore(t, s, b)
	applyExec(t, c, srcStore.execConfig(s)+"---\n"+dstStore.execConfig(s))
	r := &storectlRunner{t: t, kubeconfig: c.Kubeconfig, auditPath: filepath.Join(t.TempDir(), "audit.db")}

	created := decode[storeJSON](t, r.must("create", a, "-o", "json").stdout)
	urlA := strings.TrimSuffix(created.URL, "/")
	urlB := strings.Replace(urlA, a, b, 1)
	seedSource(t, s, srcStore, urlA)
	seedFresh(t, s, dstStore, urlB)
	allTables := []string{"wp_options", "wp_posts", "wp_users", "wp_wc_orders"}
	beforeDB, beforeFiles := checksums(t, s, srcStore.db, allTables...), tree(t, srcStore.wpRoot)

	dir := t.TempDir()
	res := r.must("backup", a, "--dir", dir, "-o", "json")
	results := decode[[]backupJSON](t, res.stdout)
	if len(results) != 1 {
		t.Fatalf("backup printed %v", results)
	}
	got := results[0]
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || filepath.Join(dir, entries[0].Name()) != got.File {
		t.Fatalf("the backup directory holds %v, want only %s", entries, got.File)
	}
	fi, err := os.Stat(got.File)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := os.ReadFile(got.File)
	sum := sha256.Sum256(archive)
	if fi.Mode().Perm() != 0o600 || fi.Size() != got.Size || hex.EncodeToString(sum[:]) != got.SHA256 {
		t.Errorf("archive mode %v size %d sha256 %x; backup said size %d sha256 %s", fi.Mode().Perm(), fi.Size(), sum, got.Size, got.SHA256)
	}
	if !strings.Contains(res.stderr, "customer data") {
		t.Errorf("backup does not warn that the archive holds customer data:\n%s", res.stderr)
	}
	audit := r.must("audit", "-o", "json").stdout
	if !strings.Contains(audit, got.SHA256) || !strings.Contains(audit, got.File) {
		t.Errorf("the audit log does not record the archive's file and sha256:\n%s", audit)
	}

	rest := decode[storeJSON](t, r.must("restore", got.File, "--into", b, "-o", "json").stdout)
	if rest.Name != b || rest.Status != "Ready" {
		t.Fatalf("restore returned %+v", rest)
	}

	// The tables no address is in are the same, row for row.
	if x, y := checksums(t, s, srcStore.db, "wp_wc_orders"), checksums(t, s, dstStore.db, "wp_wc_orders"); x != y {
		t.Errorf("orders differ after restore:\n%s\n%s", x, y)
	}
	checkRestoredDB(t, s, dstStore, urlA, urlB)
	// wp-content is the archive's: the fresh install's files are gone.
	if x, y := tree(t, filepath.Join(srcStore.wpRoot, "wp-content")), tree(t, filepath.Join(dstStore.wpRoot, "wp-content")); fmt.Sprint(x) != fmt.Sprint(y) {
		t.Errorf("wp-content differs after restore:\n%v\n%v", x, y)
	}
	if left, _ := filepath.Glob(filepath.Join(dstStore.wpRoot, ".storectl-*")); len(left) > 0 {
		t.Errorf("restore left %v behind", left)
	}
	// The original is untouched.
	if after := checksums(t, s, srcStore.db, allTables...); after != beforeDB {
		t.Errorf("the original's tables changed:\n%s\n%s", beforeDB, after)
	}
	if after := tree(t, srcStore.wpRoot); fmt.Sprint(after) != fmt.Sprint(beforeFiles) {
		t.Error("the original's files changed")
	}
	noSecrets(t, c, r, archive, []string{a, b}, srcStore.password, dstStore.password)

	t.Run("restore over an existing store backs it up first", func(t *testing.T) {
		s.sql(t, dstStore.db, "INSERT INTO wp_wc_orders VALUES (2001, 1.00, 'new@example.test', NULL, NULL);")
		safety := t.TempDir()
		if res := r.run("restore", got.File, "--into", b); res.code != 4 {
			t.Errorf("restore into an existing store without --force: exit %d\n%s", res.code, res.stderr)
		}
		r.must("restore", got.File, "--into", b, "--force", "--yes", "--backup-dir", safety)
		entries, _ := os.ReadDir(safety)
		if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), "-before-restore.storectl.tar") {
			t.Fatalf("the safety backup directory holds %v", entries)
		}
		saved := uncompressed(t, mustRead(t, filepath.Join(safety, entries[0].Name())))
		if !bytes.Contains(saved, []byte("new@example.test")) {
			t.Error("the safety backup lacks the row written after the first restore")
		}
		if n := s.sql(t, dstStore.db, "SELECT COUNT(*) FROM wp_wc_orders;"); n != "2" {
			t.Errorf("after restoring over it the store has %s orders, want the archive's 2", n)
		}
		checkRestoredDB(t, s, dstStore, urlA, urlB)
	})

	t.Run("a dump cut short fails and leaves no file", func(t *testing.T) {
		bin := t.TempDir()
		writeFile(t, filepath.Join(bin, "mariadb-dump"), "#!/bin/sh\n\"$REAL_DUMP\" \"$@\" | head -c 1500\n")
		_ = os.Chmod(filepath.Join(bin, "mariadb-dump"), 0o755)
		realDump, _ := exec.LookPath("mariadb-dump")
		applyExec(t, c, srcStore.execConfig(s, "PATH="+bin+":"+os.Getenv("PATH"), "REAL_DUMP="+realDump))
		t.Cleanup(func() { applyExec(t, c, srcStore.execConfig(s)) })
		out := t.TempDir()
		res := r.run("backup", a, "--dir", out)
		if res.code == 0 || !strings.Contains(res.stderr, "completion line") {
			t.Errorf("a truncated dump: exit %d\n%s", res.code, res.stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("a failed backup left %v", entries)
		}
	})

	t.Run("a damaged archive is refused before any change", func(t *testing.T) {
		bad := append([]byte(nil), archive...)
		bad[len(bad)-3000] ^= 0xff // inside the last member, past the manifest
		path := filepath.Join(t.TempDir(), "bad.storectl.tar")
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		c3 := "bk-c-" + hex.EncodeToString(suffix)
		res := r.run("restore", path, "--into", c3)
		if res.code != 9 || !strings.Contains(res.stderr, "checksum") {
			t.Errorf("restore of a damaged archive: exit %d\n%s", res.code, res.stderr)
		}
		if _, err := c.Client.CoreV1().Namespaces().Get(context.Background(), "store-"+c3, metav1.GetOptions{}); err == nil {
			t.Error("a store was created from a damaged archive")
		}
	})
}

func checkRestoredDB(t *testing.T, s *mariadbServer, st *sandboxStore, urlA, urlB string) {
	t.Helper()
	hostA := strings.TrimPrefix(urlA, "http://")
	hostB := strings.TrimPrefix(urlB, "http://")
	want := map[string]string{
		"SELECT option_value FROM wp_options WHERE option_name = 'siteurl'":                                               urlB,
		"SELECT option_value FROM wp_options WHERE option_name = 'home'":                                                  urlB,
		"SELECT option_value FROM wp_options WHERE option_name = 'widget_link'":                                           fmt.Sprintf(`a:1:{s:4:"link";s:%d:"%s";}`, len(urlB+"/shop"), urlB+"/shop"),
		"SELECT option_value FROM wp_options WHERE option_name = 'blog_desc'":                                             `It's a "shop"\ at ` + urlB,
		"SELECT post_content FROM wp_posts WHERE ID = 1":                                                                  `<a href="` + urlB + `/product/x">x</a> {"u":"http:\/\/` + hostB + `\/y"}`,
		"SELECT guid FROM wp_posts WHERE ID = 1":                                                                          urlA + "/?p=1",
		"SELECT user_pass FROM wp_users WHERE user_login = 'admin'":                                                       "$wp$new-store-hash",
		"SELECT user_pass FROM wp_users WHERE user_login = 'customer1'":                                                   "$wp$customer-hash",
		"SELECT COUNT(*) FROM wp_options WHERE option_name LIKE '\\_transient\\_%' OR option_name = 'rewrite_rules'":      "0",
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'wp_fresh_only'": "0",
		"SELECT COUNT(*) FROM wp_wc_orders":                                                                               "2",
	}
	for q, w := range want {
		if got := s.sql(t, st.db, q+";"); got != w {
			t.Errorf("%s\n got %q\nwant %q", q, got, w)
		}
	}
	if strings.Contains(s.sql(t, st.db, "SELECT option_value FROM wp_options;"), hostA) {
		t.Errorf("an option still holds the old address %s", hostA)
	}
}

// noSecrets checks that no password of the stores, nor the database users', is in the
// archive, in anything storectl printed, or in the audit log.
func noSecrets(t *testing.T, c *testcluster.Cluster, r *storectlRunner, archive []byte, stores []string, extra ...string) {
	t.Helper()
	secrets := extra
	for _, name := range stores {
		sec, err := c.Client.CoreV1().Secrets("store-"+name).Get(context.Background(), name+"-credentials", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range sec.Data {
			if strings.Contains(k, "password") {
				secrets = append(secrets, string(v))
			}
		}
	}
	auditBytes, _ := os.ReadFile(r.auditPath)
	archive = append(archive, uncompressed(t, archive)...)
	for _, pw := range secrets {
		if len(pw) < 8 {
			t.Fatalf("implausible password of %d characters", len(pw))
		}
		if bytes.Contains(archive, []byte(pw)) || bytes.Contains(auditBytes, []byte(pw)) || strings.Contains(strings.Join(r.outputs, ""), pw) {
			t.Error("a password is in the archive, the output or the audit log")
		}
	}
}

// uncompressed returns the archive's members, decompressed.
func uncompressed(t *testing.T, archive []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, ".gz") {
			_, _ = io.Copy(&out, tr)
			continue
		}
		gz, err := gzip.NewReader(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&out, gz); err != nil {
			t.Fatal(err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
