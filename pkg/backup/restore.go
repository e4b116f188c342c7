package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/storectl/storectl/pkg/store"
)

// RestoreOptions configures Restore.
type RestoreOptions struct {
	// Into names the store to restore into; "" means the archive's store.
	Into string
	// Existing allows restoring over a store that exists. The caller has taken a backup
	// of it first.
	Existing bool
	// Timeout bounds creating the store and waiting for it; 0 means store.DefaultTimeout.
	Timeout time.Duration
	// OnProgress reports the transfers; OnStore the creation of a new store and the wait.
	OnProgress func(Progress)
	OnStore    func(store.Progress)
}

// Plan is what Restore found before changing anything.
type Plan struct {
	Manifest *Manifest
	// Target is the store restored into; Exists says whether it is there already.
	Target string
	Exists bool
}

// Check verifies the archive at path and says where it would go: it refuses a damaged
// archive, and a store that exists unless RestoreOptions.Existing allows it. It changes
// nothing.
func (e *Engine) Check(ctx context.Context, path string, o RestoreOptions) (*Plan, error) {
	m, values, err := Verify(path)
	if err != nil {
		return nil, err
	}
	p := &Plan{Manifest: m, Target: o.Into}
	if p.Target == "" {
		p.Target = m.Store
	}
	if err := store.ValidateName(p.Target); err != nil {
		return nil, err
	}
	_, err = e.o.Stores.Get(ctx, p.Target)
	switch {
	case err == nil:
		p.Exists = true
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if p.Exists && !o.Existing {
		return nil, &store.Error{Err: store.ErrAlreadyExists, Store: p.Target, Reason: ReasonTargetExists,
			Message: "restore goes into a new store by default"}
	}
	if !p.Exists {
		if err := e.checkNewStore(m, values); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Restore restores the archive at path. By default it creates the store as create does,
// with the archive's user values; with RestoreOptions.Existing it restores over the store.
// Then it loads the database (with the store's address rewritten and its own admin
// password kept), unpacks wp-content, empties WordPress's caches and rewrite rules, and
// waits until the store is Ready. Nothing is changed when the archive fails its checks.
func (e *Engine) Restore(ctx context.Context, path string, o RestoreOptions) (*store.Store, error) {
	p, err := e.Check(ctx, path, o)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(e.o.TempDir, "storectl-restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	m, files, err := Extract(path, tmp)
	if err != nil {
		return nil, err
	}
	values, err := readValues(files[MemberValues])
	if err != nil {
		return nil, err
	}
	if !p.Exists {
		if _, err := e.o.Stores.Create(ctx, store.CreateOptions{Name: p.Target, Values: values, Wait: true,
			Timeout: o.Timeout, OnProgress: o.OnStore}); err != nil {
			return nil, err
		}
	}
	if err := e.load(ctx, p.Target, m, files, tmp, o.OnProgress); err != nil {
		if !p.Exists {
			return nil, fmt.Errorf("%w (the new store %s holds what it was created with: delete it with 'storectl delete %s' before trying again)", err, p.Target, p.Target)
		}
		return nil, err
	}
	return e.o.Stores.Wait(ctx, p.Target, store.WaitOptions{For: "ready", Timeout: o.Timeout, OnProgress: o.OnStore})
}

// checkNewStore refuses an archive whose data is newer than what a new store with its
// values would run: WordPress and WooCommerce never migrate their schema down.
func (e *Engine) checkNewStore(m *Manifest, values map[string]any) error {
	defaults, appVersion, err := chartDefaults(e.o.Stores.Settings().Profile)
	if err != nil {
		return err
	}
	wp, wc := expectedVersions(values, defaults, appVersion)
	return newer(m, wp, wc, "")
}

// newer reports ErrNewerSchema when the archive's versions are above the given ones;
// empty ones are not compared, and WordPress compares by major.minor.
func newer(m *Manifest, wordpress, woocommerce, dbVersion string) error {
	v := m.Versions
	refuse := func(what, have, want string) error {
		return fmt.Errorf("%w: the archive's %s is %s and the store runs %s; restore into a store that runs %s or newer (or upgrade this storectl)",
			ErrNewerSchema, what, have, want, have)
	}
	if wordpress != "" && v.WordPress != "" && compareVersions(majorMinor(v.WordPress), majorMinor(wordpress)) > 0 {
		return refuse("WordPress", v.WordPress, wordpress)
	}
	if woocommerce != "" && v.WooCommerceDBVersion != "" && compareVersions(v.WooCommerceDBVersion, woocommerce) > 0 {
		return refuse("WooCommerce database schema", v.WooCommerceDBVersion, woocommerce)
	}
	if dbVersion != "" && v.DBVersion != "" && compareVersions(v.DBVersion, dbVersion) > 0 {
		return refuse("WordPress database schema (db_version)", v.DBVersion, dbVersion)
	}
	return nil
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return strings.Join(parts, ".")
}

// load puts the archive's data into the running store.
func (e *Engine) load(ctx context.Context, name string, m *Manifest, files map[string]string, tmp string, progress func(Progress)) error {
	db, wp, err := e.targets(ctx, name)
	if err != nil {
		return err
	}
	target, err := readTarget(ctx, e.o.Exec, db, wp)
	if err != nil {
		return err
	}
	if err := newer(m, target.wordpress, target.options["woocommerce_db_version"], target.options["db_version"]); err != nil {
		return err
	}
	st, err := e.o.Stores.Get(ctx, name)
	if err != nil {
		return err
	}
	if m.Has(PartDatabase) {
		sql := filepath.Join(tmp, "load.sql")
		n, err := writeLoad(sql, files[MemberDatabase], m, st.URL, target)
		if err != nil {
			return err
		}
		if err := send(ctx, e.o.Exec, db, "load the database", loadScript, sql, n, reporter(progress, "database")); err != nil {
			return err
		}
		done(progress, "database", n)
	}
	if m.Has(PartFiles) {
		mem, _ := m.Member(MemberFiles)
		if err := send(ctx, e.o.Exec, wp, "unpack wp-content", unpackScript, files[MemberFiles], mem.Size, reporter(progress, "files")); err != nil {
			return err
		}
		done(progress, "files", mem.Size)
	}
	return nil
}

// readTarget reads what restore keeps of the target store: its versions, its tables (all
// replaced) and its administrator's password hash (kept, so that the store's own Secret
// still logs in).
func readTarget(ctx context.Context, ex Executor, db, wp Target) (*live, error) {
	l, err := readLive(ctx, ex, db, wp)
	if err != nil {
		return nil, err
	}
	rows, err := query(ctx, ex, db, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		l.tables = append(l.tables, r[0])
	}
	rows, err = query(ctx, ex, db, "SELECT user_pass FROM `"+tablePrefix+"users` WHERE user_login = "+quoteSQL(store.AdminUser))
	if err == nil && len(rows) == 1 {
		l.adminHash = rows[0][0]
	}
	return l, nil
}

// writeLoad writes the SQL restore sends: the target's tables dropped, the archive's dump
// with the address rewritten, then the store's own admin password, its address, and
// WordPress's caches (transients) and rewrite rules emptied, which WordPress rebuilds on
// the next request. It returns the file's size.
func writeLoad(dst, dump string, m *Manifest, newURL string, target *live) (int64, error) {
	in, err := os.Open(dump)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, MemberDatabase, err)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "SET FOREIGN_KEY_CHECKS=0;")
	for _, t := range target.tables {
		fmt.Fprintf(w, "DROP TABLE IF EXISTS `%s`;\n", strings.ReplaceAll(t, "`", "``"))
	}
	r := NewReplacer(hostOf(m.URL), hostOf(newURL), m.TablePrefix)
	if err := r.Copy(w, gz); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, MemberDatabase, err)
	}
	writeFixups(w, m.TablePrefix, strings.TrimSuffix(newURL, "/"), target.adminHash)
	if err := w.Flush(); err != nil {
		return 0, err
	}
	fi, err := out.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), out.Close()
}

func writeFixups(w io.Writer, prefix, siteURL, adminHash string) {
	options := "`" + prefix + "options`"
	fmt.Fprintln(w, "SET FOREIGN_KEY_CHECKS=1;")
	if adminHash != "" {
		fmt.Fprintf(w, "UPDATE `%susers` SET user_pass = %s WHERE user_login = %s;\n", prefix, quoteSQL(adminHash), quoteSQL(store.AdminUser))
	}
	fmt.Fprintf(w, "UPDATE %s SET option_value = %s WHERE option_name IN ('siteurl', 'home');\n", options, quoteSQL(siteURL))
	fmt.Fprintf(w, "DELETE FROM %s WHERE option_name = 'rewrite_rules' OR option_name LIKE '\\_transient\\_%%' OR option_name LIKE '\\_site\\_transient\\_%%';\n", options)
	fmt.Fprintf(w, "SELECT '%s';\n", doneMarker)
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}
