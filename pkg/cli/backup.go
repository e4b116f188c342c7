package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/charts"
	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/release"
	"github.com/storectl/storectl/pkg/store"
)

// Backups is what backup and restore need of the engine; *backup.Engine implements it and
// tests pass a fake.
type Backups interface {
	Backup(ctx context.Context, name string, w io.Writer, o backup.BackupOptions) (*backup.Manifest, error)
	Check(ctx context.Context, path string, o backup.RestoreOptions) (*backup.Plan, error)
	Restore(ctx context.Context, path string, o backup.RestoreOptions) (*store.Store, error)
}

var _ Backups = (*backup.Engine)(nil)

// newBackups builds the backup engine for one cluster, over the same store engine the
// other commands use.
func newBackups(cfg *config.Config, c *kube.Clients, eng Engine, build BuildInfo, now func() time.Time) (Backups, error) {
	stores, ok := underlying(eng).(backup.Stores)
	if !ok {
		return nil, errors.New("the store engine cannot back stores up")
	}
	rm, err := release.NewHelm(release.HelmOptions{Client: c.Interface, Getter: c.Getter, Chart: charts.Load})
	if err != nil {
		return nil, err
	}
	v := build.Version
	if v == "" {
		v = "dev"
	}
	return backup.New(backup.Options{Kube: c.Interface, Exec: &kube.Exec{Client: c.Interface, Config: c.RESTConfig},
		Stores: stores, Releases: rm, Version: v, Now: now})
}

// BackupOptions are the inputs of `storectl backup`.
type BackupOptions struct {
	Factory *Factory
	Names   []string
	All     bool
	File    string
	Dir     string
	Only    string
	Timeout time.Duration
	Output  string
	Format  output.Format
}

// BackupResult is the -o json shape of one archive written.
type BackupResult struct {
	Store    string           `json:"store"`
	File     string           `json:"file"`
	Size     int64            `json:"size"`
	SHA256   string           `json:"sha256"`
	Parts    []string         `json:"parts"`
	Manifest *backup.Manifest `json:"manifest"`
}

// NewCmdBackup returns `storectl backup`.
func NewCmdBackup(f *Factory, runF func(*BackupOptions) error) *cobra.Command {
	opts := &BackupOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "backup <name>... [flags]",
		Short: "Save a store's database and files into an archive",
		Long: `Save a store into one archive: its database (dumped inside its MariaDB container,
consistent, of the store's database only), its wp-content, its user values and a manifest
of versions and checksums (docs/backup.md). No Kubernetes Secret and no password goes into
the archive, but the database holds the store's customers, orders and password hashes:
keep the archive private.

The archive is written to ./<name>-<utc-time>.storectl.tar (mode 0600) under a temporary
name and renamed once it is complete and verified; a failed backup leaves no file. With
-f - it goes to standard output instead, for pipelines. Several names, or --all, write one
archive each into --dir.`,
		Example: `  # Back up a store into the current directory
  storectl backup shop

  # Back up into a given file
  storectl backup shop -f /backups/shop.storectl.tar

  # Stream the archive to an object store
  storectl backup shop -f - | aws s3 cp - s3://my-backups/shop.storectl.tar

  # Back up every store into a directory, the database only
  storectl backup --all --dir /backups --only db`,
		ValidArgsFunction: completeStoreNames(f, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = dedupe(args)
			if err := opts.validate(cmd); err != nil {
				return err
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return backupRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "write the archive to this file, or to standard output with -")
	fl.StringVar(&opts.Dir, "dir", "", "write the archives into this directory (default: the current one)")
	fl.BoolVar(&opts.All, "all", false, "back up every store")
	fl.StringVar(&opts.Only, "only", "", "save only the database (db) or only wp-content (files)")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long the whole backup may take (default: the timeout setting, 10m)")
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	_ = cmd.RegisterFlagCompletionFunc("only", cobra.FixedCompletions([]string{backup.PartDatabase, backup.PartFiles}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

func (o *BackupOptions) validate(cmd *cobra.Command) error {
	switch {
	case o.All && len(o.Names) > 0:
		return usageErrorf(cmd, "give store names or --all, not both")
	case !o.All && len(o.Names) == 0:
		return usageErrorf(cmd, "missing store name: %s", strings.TrimSpace(cmd.Use))
	case o.File != "" && o.Dir != "":
		return usageErrorf(cmd, "give -f or --dir, not both")
	case o.File != "" && (o.All || len(o.Names) > 1):
		return usageErrorf(cmd, "-f writes one archive; back up several stores with --dir")
	case o.File == "-" && o.Output != "":
		return usageErrorf(cmd, "-f - writes the archive to standard output, so -o cannot print there too")
	case o.Only != "" && o.Only != backup.PartDatabase && o.Only != backup.PartFiles:
		return usageErrorf(cmd, "--only is %q or %q, not %q", backup.PartDatabase, backup.PartFiles, o.Only)
	}
	for _, n := range o.Names {
		if err := store.ValidateName(n); err != nil {
			return err
		}
	}
	return nil
}

func backupRun(ctx context.Context, opts *BackupOptions) error {
	f := opts.Factory
	var err error
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	bk, err := f.Backups()
	if err != nil {
		return explain(ctx, err, strings.Join(opts.Names, ","), "backup")
	}
	names := opts.Names
	if opts.All {
		if names, err = allStores(ctx, f); err != nil {
			return err
		}
	}
	st := f.IOStreams.StderrStyles()
	fmt.Fprintf(f.IOStreams.ErrOut, "%s a backup holds the store's customer data (names, addresses, orders, password hashes): keep it private\n",
		st.Warn.Render("Note:"))
	results := []BackupResult{}
	var first error
	for _, name := range names {
		r, err := backupOne(ctx, opts, bk, name)
		if err != nil {
			err = explain(ctx, err, name, "backup")
			if first == nil {
				first = err
			}
			if len(names) > 1 {
				PrintError(f.IOStreams, err)
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		results = append(results, *r)
	}
	if opts.Format != "" {
		if err := output.NewPrinter(f.IOStreams, opts.Format, f.Now()).Print(results); err != nil {
			return err
		}
	}
	if first != nil && len(names) > 1 {
		return &HintError{Err: fmt.Errorf("not every store was backed up: %w", first), Hint: "run the backup of the stores that failed again"}
	}
	return first
}

func allStores(ctx context.Context, f *Factory) ([]string, error) {
	eng, err := f.Engine()
	if err != nil {
		return nil, err
	}
	stores, err := eng.List(ctx, store.ListOptions{})
	if err != nil {
		return nil, explain(ctx, err, "", "backup")
	}
	names := make([]string, 0, len(stores))
	for _, s := range stores {
		names = append(names, s.Name)
	}
	return names, nil
}

// backupOne writes the archive of one store and records it in the audit log.
func backupOne(ctx context.Context, opts *BackupOptions, bk Backups, name string) (r *BackupResult, err error) {
	f := opts.Factory
	trail := beginAudit(ctx, f, "backup", name)
	chartVersion := ""
	defer func() { trail.end(ctx, chartVersion, err) }()
	st := f.IOStreams.StderrStyles()
	fmt.Fprintf(f.IOStreams.ErrOut, "Backing up store %s\n", st.Key.Render(name))
	o := backup.BackupOptions{OnProgress: newTransferProgress(f.IOStreams)}
	if opts.Only != "" {
		o.Parts = []string{opts.Only}
	}
	var m *backup.Manifest
	var art *audit.Artifact
	if opts.File == "-" {
		m, art, err = backupToStdout(ctx, f, bk, name, o)
	} else {
		m, art, err = backupToFile(ctx, f, bk, name, archivePath(opts, name, f.Now()), o)
	}
	if err != nil {
		return nil, err
	}
	chartVersion, trail.artifact = m.Versions.Chart, art
	fmt.Fprintf(f.IOStreams.ErrOut, "%s Store %s is backed up to %s (%s, sha256 %s)\n", st.OK.Render(output.MarkOK), name,
		art.File, humanBytes(art.Size), art.SHA256)
	return &BackupResult{Store: name, File: art.File, Size: art.Size, SHA256: art.SHA256, Parts: m.Parts, Manifest: m}, nil
}

func archivePath(opts *BackupOptions, name string, now time.Time) string {
	if opts.File != "" {
		return opts.File
	}
	return filepath.Join(opts.Dir, fmt.Sprintf("%s-%s.storectl.tar", name, now.UTC().Format("20060102T150405Z")))
}

// hashWriter counts and hashes what goes through it.
type hashWriter struct {
	w    io.Writer
	n    int64
	hash interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func newHashWriter(w io.Writer) *hashWriter { return &hashWriter{w: w, hash: sha256.New()} }

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.n += int64(n)
	_, _ = h.hash.Write(p[:n])
	return n, err
}

func (h *hashWriter) artifact(file string) *audit.Artifact {
	return &audit.Artifact{File: file, Size: h.n, SHA256: hex.EncodeToString(h.hash.Sum(nil))}
}

func backupToStdout(ctx context.Context, f *Factory, bk Backups, name string, o backup.BackupOptions) (*backup.Manifest, *audit.Artifact, error) {
	hw := newHashWriter(f.IOStreams.Out)
	m, err := bk.Backup(ctx, name, hw, o)
	if err != nil {
		return nil, nil, err
	}
	return m, hw.artifact("-"), nil
}

// BackupToFile writes the archive of a store to path: under a temporary name in the same
// directory (mode 0600), verified once written, then renamed. On any failure nothing is
// left at path or under the temporary name.
func backupToFile(ctx context.Context, f *Factory, bk Backups, name, path string, o backup.BackupOptions) (*backup.Manifest, *audit.Artifact, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".partial-*")
	if err != nil {
		return nil, nil, fmt.Errorf("create the archive: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	hw := newHashWriter(bw)
	m, err := bk.Backup(ctx, name, hw, o)
	if err != nil {
		return nil, nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if _, _, err := backup.Verify(tmp.Name()); err != nil {
		return nil, nil, fmt.Errorf("the archive written does not verify: %w", err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return nil, nil, err
	}
	keep = true
	return m, hw.artifact(abs), nil
}
