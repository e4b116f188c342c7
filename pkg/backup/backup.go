package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/storectl/storectl/pkg/store"
)

// tablePrefix is WordPress's table prefix in every store: the chart leaves the image's
// default.
const tablePrefix = "wp_"

// Reasons of backup's and restore's own errors.
const (
	// ReasonNotRunning: the pod a backup or restore runs its commands in is not running.
	ReasonNotRunning = "NotRunning"
	// ReasonTargetExists: the store a restore would create exists.
	ReasonTargetExists = "RestoreTargetExists"
)

// Stores is what backup and restore need of the store engine; *store.Engine has it.
type Stores interface {
	Get(ctx context.Context, name string) (*store.Store, error)
	Create(ctx context.Context, o store.CreateOptions) (*store.Store, error)
	Wait(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error)
	Credentials(ctx context.Context, name string) (*store.Credentials, error)
	Settings() store.Settings
}

// ReleaseValues reads the values a store's release was last applied with.
type ReleaseValues interface {
	// Values returns the values a revision (0: the latest) was applied with.
	Values(ctx context.Context, namespace, name string, revision int) (map[string]any, error)
}

// Options configures an Engine.
type Options struct {
	Kube     kubernetes.Interface
	Exec     Executor
	Stores   Stores
	Releases ReleaseValues
	// Version is storectl's own version, recorded in manifests.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TempDir holds the members while they are checked; "" means os.TempDir().
	TempDir string
}

// Engine backs stores up and restores them.
type Engine struct{ o Options }

// New returns an Engine. Kube, Exec, Stores and Releases are required.
func New(o Options) (*Engine, error) {
	if o.Kube == nil || o.Exec == nil || o.Stores == nil || o.Releases == nil {
		return nil, errors.New("backup: Options.Kube, Exec, Stores and Releases are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Engine{o: o}, nil
}

// Progress reports how far a transfer is.
type Progress struct {
	// Step is database or files.
	Step string
	// Bytes is how many bytes have gone over exec so far; Total, when known, of how many.
	Bytes, Total int64
	Done         bool
}

// BackupOptions configures Backup.
type BackupOptions struct {
	// Parts are PartDatabase and/or PartFiles; empty means both.
	Parts      []string
	OnProgress func(Progress)
}

// Backup writes an archive of the named store to w and returns its manifest. The
// database is dumped first, then wp-content, each into a private temporary file and
// checked to be whole; only then is anything written to w, so a failed backup writes
// nothing. The archive holds no Secret and no password.
func (e *Engine) Backup(ctx context.Context, name string, w io.Writer, o BackupOptions) (*Manifest, error) {
	parts := o.Parts
	if len(parts) == 0 {
		parts = []string{PartDatabase, PartFiles}
	}
	st, err := e.o.Stores.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	db, wp, err := e.targets(ctx, name)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, Store: name, Time: e.o.Now().UTC(), URL: st.URL, Parts: parts, TablePrefix: tablePrefix}
	m.Versions.Storectl, m.Versions.Chart = e.o.Version, st.ChartVersion
	if err := inspect(ctx, e.o.Exec, db, wp, m); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(e.o.TempDir, "storectl-backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	values, err := e.valuesMember(ctx, name, tmp)
	if err != nil {
		return nil, err
	}
	members := []spooled{values}
	if slices.Contains(parts, PartDatabase) {
		s := spooled{path: filepath.Join(tmp, MemberDatabase)}
		if s.Member, err = spoolDump(ctx, e.o.Exec, db, s.path, reporter(o.OnProgress, "database")); err != nil {
			return nil, err
		}
		done(o.OnProgress, "database", s.Content)
		members = append(members, s)
	}
	if slices.Contains(parts, PartFiles) {
		s := spooled{path: filepath.Join(tmp, MemberFiles)}
		if s.Member, err = spoolFiles(ctx, e.o.Exec, wp, s.path, reporter(o.OnProgress, "files")); err != nil {
			return nil, err
		}
		done(o.OnProgress, "files", s.Size)
		members = append(members, s)
	}
	if err := writeArchive(w, m, members); err != nil {
		return nil, fmt.Errorf("write the archive: %w", err)
	}
	return m, nil
}

func reporter(f func(Progress), step string) func(int64) {
	if f == nil {
		return nil
	}
	return func(n int64) { f(Progress{Step: step, Bytes: n}) }
}

func done(f func(Progress), step string, n int64) {
	if f != nil {
		f(Progress{Step: step, Bytes: n, Total: n, Done: true})
	}
}

// targets finds the running MariaDB and WordPress containers of a store.
func (e *Engine) targets(ctx context.Context, name string) (db, wp Target, err error) {
	ns := store.Namespace(name)
	pods, err := e.o.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + name})
	if err != nil {
		return db, wp, fmt.Errorf("list the pods of store %s: %w", name, err)
	}
	find := func(component, container string) (Target, error) {
		for _, p := range pods.Items {
			if p.Labels[store.LabelComponent] == component && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				return Target{Namespace: ns, Pod: p.Name, Container: container}, nil
			}
		}
		return Target{}, &store.Error{Err: store.ErrFailed, Store: name, Component: component, Reason: ReasonNotRunning,
			Message: fmt.Sprintf("no running %s pod to run the %s in", component, "backup or restore")}
	}
	if db, err = find("database", "mariadb"); err != nil {
		return db, wp, err
	}
	wp, err = find("wordpress", "wordpress")
	return db, wp, err
}

// inspect reads the versions the data depends on, and the address the database knows.
func inspect(ctx context.Context, ex Executor, db, wp Target, m *Manifest) error {
	live, err := readLive(ctx, ex, db, wp)
	if err != nil {
		return err
	}
	m.Versions.MariaDB, m.Versions.WordPress = live.mariadb, live.wordpress
	m.Versions.DBVersion, m.Versions.WooCommerceDBVersion = live.options["db_version"], live.options["woocommerce_db_version"]
	m.Versions.WooCommerce = live.options["woocommerce_version"]
	if u := live.options["siteurl"]; u != "" {
		m.URL = u
	}
	return nil
}

// live is what a store's containers say about it.
type live struct {
	mariadb, wordpress string
	options            map[string]string
	tables             []string
	adminHash          string
}

func readLive(ctx context.Context, ex Executor, db, wp Target) (*live, error) {
	rows, err := query(ctx, ex, db, "SELECT 'mariadb', VERSION() UNION ALL SELECT option_name, option_value FROM `"+tablePrefix+
		"options` WHERE option_name IN ('siteurl','db_version','woocommerce_version','woocommerce_db_version')")
	if err != nil {
		return nil, err
	}
	l := &live{options: map[string]string{}}
	for _, r := range rows {
		if len(r) == 2 {
			l.options[r[0]] = r[1]
		}
	}
	l.mariadb = l.options["mariadb"]
	var out strings.Builder
	if err := run(ctx, ex, wp, "read the WordPress version", sh(versionScript), nil, &out); err != nil {
		return nil, err
	}
	l.wordpress = strings.TrimSpace(out.String())
	return l, nil
}

func (e *Engine) valuesMember(ctx context.Context, name, dir string) (spooled, error) {
	rel, err := e.o.Releases.Values(ctx, store.Namespace(name), name, 0)
	if err != nil {
		return spooled{}, fmt.Errorf("read the values of store %s: %w", name, err)
	}
	defaults, _, err := chartDefaults(e.o.Stores.Settings().Profile)
	if err != nil {
		return spooled{}, err
	}
	return writeValues(filepath.Join(dir, MemberValues), userValues(rel, defaults))
}
