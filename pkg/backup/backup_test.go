package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/storectl/storectl/pkg/store"
)

const testDump = "/*M!999999\\- enable the sandbox mode */\n" +
	"-- MariaDB dump\n" +
	"INSERT INTO `wp_options` (`option_id`, `option_name`, `option_value`, `autoload`) VALUES (1,'siteurl','http://old.example.test','yes'),(2,'home','http://old.example.test','yes');\n" +
	"INSERT INTO `wp_posts` (`ID`, `post_content`, `guid`) VALUES (1,'see http://old.example.test/shop','http://old.example.test/?p=1');\n" +
	"-- Dump completed on 2026-12-01 12:00:00\n"

// fakeExec plays the store's containers: it answers each of the engine's commands as the
// real programs would, and records what restore sends.
type fakeExec struct {
	mu       sync.Mutex
	dump     string
	dumpErr  error
	files    []byte
	filesErr error
	options  map[string]string
	loaded   []byte
	unpacked []byte
	// short makes the load and unpack commands finish without their completion line.
	short bool
}

func (f *fakeExec) Run(_ context.Context, _, _, _ string, cmd []string, stdin io.Reader, stdout, _ io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	script := cmd[2]
	switch script {
	case dumpScript:
		_, _ = io.WriteString(stdout, f.dump)
		return f.dumpErr
	case filesScript:
		_, _ = stdout.Write(f.files)
		return f.filesErr
	case versionScript:
		_, _ = io.WriteString(stdout, "7.1.2\n")
	case queryScript:
		sql := cmd[4]
		switch {
		case strings.Contains(sql, "VERSION()"):
			_, _ = io.WriteString(stdout, "mariadb\t11.8.3-MariaDB\n")
			for k, v := range f.options {
				_, _ = io.WriteString(stdout, k+"\t"+v+"\n")
			}
		case strings.Contains(sql, "information_schema"):
			_, _ = io.WriteString(stdout, "wp_options\nwp_posts\nwp_users\n")
		case strings.Contains(sql, "user_pass"):
			_, _ = io.WriteString(stdout, "$wp$2y$10$newstorehash\n")
		}
	case loadScript, unpackScript:
		n, _ := strconv.ParseInt(cmd[4], 10, 64)
		data, err := io.ReadAll(io.LimitReader(stdin, n))
		if err != nil {
			return err
		}
		if script == loadScript {
			f.loaded = data
		} else {
			f.unpacked = data
		}
		if !f.short {
			_, _ = io.WriteString(stdout, doneMarker+"\n")
		}
	default:
		return errors.New("unexpected command " + script)
	}
	return nil
}

type fakeStores struct {
	existing map[string]bool
	created  []store.CreateOptions
}

func (s *fakeStores) Get(_ context.Context, name string) (*store.Store, error) {
	if !s.existing[name] {
		return nil, &store.Error{Err: store.ErrNotFound, Store: name}
	}
	return &store.Store{Name: name, URL: "http://" + name + ".example.test/", ChartVersion: "0.1.0"}, nil
}

func (s *fakeStores) Create(_ context.Context, o store.CreateOptions) (*store.Store, error) {
	s.created = append(s.created, o)
	s.existing[o.Name] = true
	return &store.Store{Name: o.Name}, nil
}

func (s *fakeStores) Wait(ctx context.Context, name string, _ store.WaitOptions) (*store.Store, error) {
	return s.Get(ctx, name)
}

func (s *fakeStores) Credentials(context.Context, string) (*store.Credentials, error) {
	return nil, errors.New("not used")
}

func (s *fakeStores) Settings() store.Settings { return store.Settings{Profile: "local"} }

type fakeValues map[string]any

func (v fakeValues) Values(context.Context, string, string, int) (map[string]any, error) {
	return v, nil
}

func runningPod(store, name, component string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "store-" + store, Labels: map[string]string{
			"app.kubernetes.io/instance": store, "app.kubernetes.io/component": component}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// tarGz builds a compressed tar of wp-content; cut removes bytes of the tar's end.
func tarGz(t *testing.T, cut int) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for name, body := range map[string]string{"wp-content/uploads/a.txt": "hello", "wp-content/index.php": "<?php"} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(body)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	gz := gzip.NewWriter(&out)
	_, _ = gz.Write(raw.Bytes()[:raw.Len()-cut])
	_ = gz.Close()
	return out.Bytes()
}

type fixture struct {
	ex     *fakeExec
	stores *fakeStores
	eng    *Engine
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ex := &fakeExec{dump: testDump, files: tarGz(t, 0), options: map[string]string{
		"siteurl": "http://old.example.test", "db_version": "60421", "woocommerce_db_version": "11.1.2", "woocommerce_version": "11.1.2"}}
	stores := &fakeStores{existing: map[string]bool{"old": true}}
	kube := fake.NewClientset(runningPod("old", "old-mariadb-0", "database"), runningPod("old", "old-wordpress-1", "wordpress"),
		runningPod("new", "new-mariadb-0", "database"), runningPod("new", "new-wordpress-1", "wordpress"))
	vals := fakeValues{"store": map[string]any{"name": "old", "title": "Old Shop", "currency": "USD"}}
	eng, err := New(Options{Kube: kube, Exec: ex, Stores: stores, Releases: vals, Version: "v1.2.3", TempDir: t.TempDir(),
		Now: func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ex: ex, stores: stores, eng: eng}
}

func TestBackupWritesAVerifiedArchive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var buf bytes.Buffer
	m, err := f.eng.Backup(context.Background(), "old", &buf, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.URL != "http://old.example.test" || m.Versions.DBVersion != "60421" || m.Versions.WordPress != "7.1.2" ||
		m.Versions.MariaDB != "11.8.3-MariaDB" || m.Versions.Storectl != "v1.2.3" {
		t.Errorf("manifest = %+v", m)
	}
	path := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, files, err := Extract(path, t.TempDir())
	if err != nil {
		t.Fatalf("the archive does not verify: %v", err)
	}
	if len(got.Members) != 3 {
		t.Errorf("members = %+v, want values, database and files", got.Members)
	}
	if fm, _ := got.Member(MemberFiles); fm.Files != 2 {
		t.Errorf("files member counts %d entries, want 2", fm.Files)
	}
	values, err := os.ReadFile(files[MemberValues])
	if err != nil {
		t.Fatal(err)
	}
	// store.name is storectl's and currency is the chart default: neither is a user value.
	if string(values) != "store:\n  title: Old Shop\n" {
		t.Errorf("values.yaml = %q, want the user's title only", values)
	}
}

func TestBackupFailsOnIncompleteData(t *testing.T) {
	t.Parallel()
	cases := map[string]func(f *fakeExec){
		"dump without its completion line": func(f *fakeExec) { f.dump = testDump[:len(testDump)-40] },
		"dump exits non-zero":              func(f *fakeExec) { f.dumpErr = errors.New("command terminated with exit code 2") },
		"files exit non-zero":              func(f *fakeExec) { f.filesErr = errors.New("command terminated with exit code 1") },
		"gzip stream cut short":            func(f *fakeExec) { f.files = f.files[:len(f.files)-10] },
		"tar without its end blocks":       func(f *fakeExec) { f.files = tarGz(t, 1024) },
		"tar cut inside a member":          func(f *fakeExec) { f.files = tarGz(t, 1024+600) },
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			breakIt(f.ex)
			var buf bytes.Buffer
			_, err := f.eng.Backup(context.Background(), "old", &buf, BackupOptions{})
			if !errors.Is(err, ErrIncomplete) {
				t.Fatalf("err = %v, want ErrIncomplete", err)
			}
			if buf.Len() != 0 {
				t.Errorf("a failed backup wrote %d bytes", buf.Len())
			}
			left, _ := os.ReadDir(f.eng.o.TempDir)
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func writeBackup(t *testing.T, f *fixture, edit func(*Manifest)) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.eng.Backup(context.Background(), "old", &buf, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if edit != nil {
		data = rewriteManifest(t, data, edit)
	}
	path := filepath.Join(t.TempDir(), "old.storectl.tar")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rewriteManifest returns the archive with its manifest changed and its members as they were.
func rewriteManifest(t *testing.T, archive []byte, edit func(*Manifest)) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	m, err := nextManifest(tr)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	data, _ := json.Marshal(m)
	_ = tw.WriteHeader(&tar.Header{Name: MemberManifest, Size: int64(len(data)), Mode: 0o600})
	_, _ = tw.Write(data)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = tw.WriteHeader(h)
		_, _ = io.Copy(tw, tr)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestRestoreRefusesBeforeAnyChange(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		edit func(*Manifest)
		want error
	}{
		"wrong checksum":           {func(m *Manifest) { m.Members[1].SHA256 = strings.Repeat("0", 64) }, ErrInvalidArchive},
		"newer WooCommerce schema": {func(m *Manifest) { m.Versions.WooCommerceDBVersion = "99.0.0" }, ErrNewerSchema},
		"newer WordPress":          {func(m *Manifest) { m.Versions.WordPress = "9.0" }, ErrNewerSchema},
		"unknown format":           {func(m *Manifest) { m.Format = "something/else" }, ErrInvalidArchive},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := writeBackup(t, f, c.edit)
			_, err := f.eng.Restore(context.Background(), path, RestoreOptions{Into: "new"})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(f.stores.created) != 0 || f.ex.loaded != nil || f.ex.unpacked != nil {
				t.Errorf("a refused restore changed something: created %v, loaded %d bytes, unpacked %d bytes",
					f.stores.created, len(f.ex.loaded), len(f.ex.unpacked))
			}
		})
	}
}

func TestRestoreRefusesAMissingMember(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var buf bytes.Buffer
	if _, err := f.eng.Backup(context.Background(), "old", &buf, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	// Keep the manifest and values, drop the rest: the manifest still lists them.
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == MemberFiles {
			continue
		}
		_ = tw.WriteHeader(h)
		_, _ = io.Copy(tw, tr)
	}
	_ = tw.Close()
	path := filepath.Join(t.TempDir(), "a.tar")
	_ = os.WriteFile(path, out.Bytes(), 0o600)
	_, err := f.eng.Restore(context.Background(), path, RestoreOptions{Into: "new"})
	if !errors.Is(err, ErrInvalidArchive) || !strings.Contains(err.Error(), MemberFiles) {
		t.Fatalf("err = %v, want the missing %s refused", err, MemberFiles)
	}
	if len(f.stores.created) != 0 {
		t.Error("a store was created from an incomplete archive")
	}
}

func TestRestoreIntoANewStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := writeBackup(t, f, nil)
	st, err := f.eng.Restore(context.Background(), path, RestoreOptions{Into: "new"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "new" || len(f.stores.created) != 1 {
		t.Fatalf("store = %+v, created = %+v", st, f.stores.created)
	}
	if title, _ := lookup(f.stores.created[0].Values, "store.title"); title != "Old Shop" {
		t.Errorf("created with values %v, want the archive's user values", f.stores.created[0].Values)
	}
	sql := string(f.ex.loaded)
	for _, want := range []string{
		"DROP TABLE IF EXISTS `wp_users`;",
		"'see http://new.example.test/shop','http://old.example.test/?p=1'",
		"UPDATE `wp_users` SET user_pass = '$wp$2y$10$newstorehash' WHERE user_login = 'admin';",
		"UPDATE `wp_options` SET option_value = 'http://new.example.test' WHERE option_name IN ('siteurl', 'home');",
		"option_name = 'rewrite_rules'",
		"SELECT '" + doneMarker + "';",
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("the SQL sent lacks %q:\n%s", want, sql)
		}
	}
	if !bytes.Equal(f.ex.unpacked, f.ex.files) {
		t.Errorf("unpack received %d bytes, want the %d of the archive's wp-content", len(f.ex.unpacked), len(f.ex.files))
	}
}

func TestRestoreIntoAnExistingStoreNeedsExisting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := writeBackup(t, f, nil)
	_, err := f.eng.Restore(context.Background(), path, RestoreOptions{})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("err = %v, want ErrAlreadyExists", err)
	}
	if _, err := f.eng.Restore(context.Background(), path, RestoreOptions{Existing: true}); err != nil {
		t.Fatalf("restore over the store: %v", err)
	}
	if len(f.stores.created) != 0 {
		t.Error("restoring over a store created another")
	}
}

func TestRestoreFailsWithoutCompletion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := writeBackup(t, f, nil)
	f.ex.short = true
	_, err := f.eng.Restore(context.Background(), path, RestoreOptions{Into: "new"})
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
}
