package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// RestoreOptions are the inputs of `storectl restore`.
type RestoreOptions struct {
	Factory   *Factory
	File      string
	Into      string
	Force     bool
	Yes       bool
	BackupDir string
	Timeout   time.Duration
	Output    string
	Format    output.Format
}

// NewCmdRestore returns `storectl restore`.
func NewCmdRestore(f *Factory, runF func(*RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "restore <file> [flags]",
		Short: "Restore a store from a backup archive",
		Long: `Restore a backup archive written by 'storectl backup'. The archive is checked first
(every member against the manifest's size and sha256, and its WordPress and WooCommerce
versions against what the store would run); a damaged archive, or one newer than the
store, is refused and nothing is changed.

By default the archive goes into a NEW store, named as in the archive or by --into,
created as 'storectl create' does with the archive's user values. Its database is loaded,
wp-content unpacked, the old store's address rewritten to the new one (serialized PHP
data kept valid), the new store's own admin password kept, WordPress's caches and
rewrite rules emptied, and the store watched until Ready.

Restoring over an existing store needs --force: storectl first backs that store up into
--backup-dir, then replaces its database and wp-content. On a terminal it asks for
confirmation; without one it refuses unless --yes is given.`,
		Example: `  # Restore into a new store with the archive's name
  storectl restore shop-20261201T120000Z.storectl.tar

  # Restore a copy of a store under another name
  storectl restore shop-20261201T120000Z.storectl.tar --into shop-staging

  # Put a store back as it was, backing up its current state first
  storectl restore shop-20261201T120000Z.storectl.tar --force --yes`,
		Args:              exactNames("archive file"),
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		Annotations:       map[string]string{annotationNeedsDomain: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Into != "" {
				if err := store.ValidateName(opts.Into); err != nil {
					return err
				}
			}
			if opts.Force && !opts.Yes && !f.IOStreams.CanPrompt() {
				return usageErrorf(cmd, "refusing to restore over a store without confirmation: there is no terminal to ask on; pass --yes to confirm")
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return restoreRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Into, "into", "", "the store to restore into (default: the archive's store)")
	fl.BoolVar(&opts.Force, "force", false, "restore over an existing store, after backing it up")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "restore over an existing store without asking")
	fl.StringVar(&opts.BackupDir, "backup-dir", "", "where --force writes the backup of the store it replaces (default: the current directory)")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long to wait for the store (default: the timeout setting, 10m)")
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	_ = cmd.RegisterFlagCompletionFunc("into", completeStoreNames(f, false))
	_ = cmd.MarkFlagDirname("backup-dir")
	return cmd
}

func restoreRun(ctx context.Context, opts *RestoreOptions) (err error) {
	f := opts.Factory
	ios := f.IOStreams
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	bk, err := f.Backups()
	if err != nil {
		return explain(ctx, err, opts.Into, "restore")
	}
	o := backup.RestoreOptions{Into: opts.Into, Existing: opts.Force, Timeout: opts.Timeout}
	plan, err := bk.Check(ctx, opts.File, o)
	if err != nil {
		return restoreErr(ctx, err, opts)
	}
	name := plan.Target
	st := ios.StderrStyles()
	if plan.Exists {
		if ok, err := confirmRestore(ctx, opts, name); err != nil || !ok {
			return err
		}
		safety, err := backupBeforeRestore(ctx, opts, bk, name)
		if err != nil {
			return fmt.Errorf("back up store %s before restoring over it: %w", name, err)
		}
		fmt.Fprintf(ios.ErrOut, "Store %s as it was is saved in %s\n", name, st.Code.Render(safety))
	}
	trail := beginAudit(ctx, f, "restore", name)
	var restored *store.Store
	defer func() {
		chartVersion := ""
		if restored != nil {
			chartVersion = restored.ChartVersion
		}
		trail.end(ctx, chartVersion, err)
	}()
	fmt.Fprintf(ios.ErrOut, "Restoring store %s from %s (backed up %s from store %s)\n", st.Key.Render(name), opts.File,
		plan.Manifest.Time.Format(time.RFC3339), plan.Manifest.Store)
	progress, onStore := newProgress(f)
	o.Into, o.Existing = name, plan.Exists
	o.OnProgress, o.OnStore = newTransferProgress(ios), onStore
	restored, err = bk.Restore(ctx, opts.File, o)
	progress.Stop()
	if err != nil {
		err = restoreErr(ctx, err, opts)
		if ExitCode(err) == ExitTimeout || errors.Is(err, store.ErrFailed) {
			printLastState(f, progress, err)
		}
		return err
	}
	return printRestored(f, opts, restored)
}

func confirmRestore(ctx context.Context, opts *RestoreOptions, name string) (bool, error) {
	if opts.Yes {
		return true, nil
	}
	ok, err := confirm(ctx, opts.Factory.IOStreams, fmt.Sprintf("Replace the database and files of store %s (it is backed up first)?", name))
	if err == nil && !ok {
		fmt.Fprintln(opts.Factory.IOStreams.ErrOut, "Nothing was restored.")
	}
	return ok, err
}

// backupBeforeRestore saves the store that a forced restore replaces, and returns where.
func backupBeforeRestore(ctx context.Context, opts *RestoreOptions, bk Backups, name string) (string, error) {
	f := opts.Factory
	path := filepath.Join(opts.BackupDir, fmt.Sprintf("%s-%s-before-restore.storectl.tar", name, f.Now().UTC().Format("20060102T150405Z")))
	trail := beginAudit(ctx, f, "backup", name)
	m, art, err := backupToFile(ctx, f, bk, name, path, backup.BackupOptions{OnProgress: newTransferProgress(f.IOStreams)})
	chartVersion := ""
	if m != nil {
		chartVersion = m.Versions.Chart
	}
	trail.artifact = art
	trail.end(ctx, chartVersion, err)
	if err != nil {
		return "", err
	}
	return art.File, nil
}

// restoreErr adds the next step to a restore's error.
func restoreErr(ctx context.Context, err error, opts *RestoreOptions) error {
	switch {
	case errors.Is(err, backup.ErrInvalidArchive):
		return withHint(err, "the archive is damaged or not a storectl backup; nothing was changed. Use another copy of it")
	case errors.Is(err, backup.ErrNewerSchema):
		return withHint(err, "nothing was changed; run a storectl whose chart is at least as new as the one that made the backup")
	}
	return explain(ctx, err, opts.Into, "restore")
}

func printRestored(f *Factory, opts *RestoreOptions, s *store.Store) error {
	ios := f.IOStreams
	summary := ios.Out
	if opts.Format != "" {
		if err := output.NewPrinter(ios, opts.Format, f.Now()).Print(newStoreView(s)); err != nil {
			return err
		}
		summary = ios.ErrOut
	}
	st := output.NewStyles(summary, summaryColor(ios, summary))
	fmt.Fprintf(summary, "%s Store %s is restored and ready at %s\n", st.OK.Render(output.MarkOK), s.Name, s.URL)
	fmt.Fprintf(ios.ErrOut, "%s log in with %s (the store's own admin password)\n", ios.StderrStyles().Muted.Render("Next:"),
		ios.StderrStyles().Code.Render("storectl credentials "+s.Name))
	return nil
}
