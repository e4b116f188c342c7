package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// Changer is what upgrade, rollback and history need of the engine besides Engine.
type Changer interface {
	Upgrade(ctx context.Context, o store.UpgradeOptions) (*store.ChangeResult, error)
	Rollback(ctx context.Context, o store.RollbackOptions) (*store.ChangeResult, error)
	History(ctx context.Context, name string) ([]store.HistoryEntry, error)
}

var _ Changer = (*store.Engine)(nil)

// changerOf returns the engine's upgrade, rollback and history operations.
func changerOf(f *Factory) (Engine, Changer, error) {
	eng, err := f.Engine()
	if err != nil {
		return nil, nil, err
	}
	c, ok := underlying(eng).(Changer)
	if !ok {
		return nil, nil, errors.New("this engine cannot upgrade, roll back or read the history of stores")
	}
	return eng, c, nil
}

// UpgradeOptions are the inputs of `storectl upgrade`.
type UpgradeOptions struct {
	Factory *Factory

	Names       []string
	All         bool
	Selector    string
	Parallel    int
	Sets        []string
	ValuesFile  string
	ResetValues bool
	Versions    store.Versions
	DryRun      bool
	Yes         bool
	// NoBackup skips the backup each store's upgrade starts with; BackupDir is where it goes.
	NoBackup  bool
	BackupDir string
	Force     bool
	Timeout   time.Duration
	Output    string

	Format output.Format
	Values map[string]any
}

// NewCmdUpgrade returns `storectl upgrade`.
func NewCmdUpgrade(f *Factory, runF func(*UpgradeOptions) error) *cobra.Command {
	opts := &UpgradeOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "upgrade <name>... [flags]",
		Short: "Upgrade stores to this storectl's chart, new versions or new values",
		Long: `Upgrade a store: apply the chart embedded in this storectl with the settings the
store was created with and the values it keeps, then watch the new revision to Ready
as create does (the setup Job of this revision included). The previous revision
keeps serving until the new one is Ready.

Values given with --set and --values at create and at earlier upgrades are kept and
new ones are layered over them; --reset-values drops them. --wordpress-version,
--woocommerce-version and --mariadb-version move a component.

Refused before anything changes (exit 9): running WordPress, WooCommerce or MariaDB
older than the store's data has run (their database schemas only move forward), and
upgrading a store that is not Ready; --force overrides both. A store another storectl
is changing is refused too. An upgrade interrupted by a signal, or a killed process,
is finished by the next upgrade, rollback or create.

Several names, or --all, upgrade a fleet: --parallel stores at a time, past failures,
ending with a summary and a non-zero exit when any store failed. --dry-run prints
what would change (objects and component versions) and changes nothing.`,
		Example: `  # Move a store to the chart of this storectl
  storectl upgrade shop

  # See what an upgrade to a new WooCommerce would change, without changing it
  storectl upgrade shop --woocommerce-version 11.2.0 --dry-run

  # Change one value and keep the others
  storectl upgrade shop --set wordpress.resources.limits.memory=1Gi

  # Upgrade every store, three at a time, and print the summary as JSON
  storectl upgrade --all --parallel 3 --yes -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.All == (len(args) > 0) {
				return &UsageError{Err: errors.New("name the stores to upgrade, or pass --all (not both)"), Cmd: cmd.CommandPath()}
			}
			return nil
		},
		ValidArgsFunction: completeStoreNames(f, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			return prepareUpgrade(cmd, opts, args, runF)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "upgrade every store (with --selector, those it selects)")
	fl.StringVarP(&opts.Selector, "selector", "l", "", "with --all, a label selector on the stores' namespaces")
	fl.IntVar(&opts.Parallel, "parallel", 2, "how many stores to upgrade at a time")
	fl.StringArrayVar(&opts.Sets, "set", nil, "set a chart value, Helm syntax key=value (repeatable)")
	fl.StringVarP(&opts.ValuesFile, "values", "f", "", "YAML file of chart values")
	fl.BoolVar(&opts.ResetValues, "reset-values", false, "drop the values given at create and at earlier upgrades")
	fl.StringVar(&opts.Versions.WordPress, "wordpress-version", "", "WordPress version to run, e.g. 7.2")
	fl.StringVar(&opts.Versions.WooCommerce, "woocommerce-version", "", "WooCommerce version to install, e.g. 11.2.0")
	fl.StringVar(&opts.Versions.MariaDB, "mariadb-version", "", "MariaDB version to run, e.g. 11.8")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	addChangeBackupFlags(cmd, &opts.NoBackup, &opts.BackupDir)
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "upgrade several stores without asking for confirmation")
	fl.BoolVar(&opts.Force, "force", false, "upgrade although the store is not Ready or a component would be downgraded")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long to wait for each store (default: the timeout setting, 10m)")
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	addUnschedulableGraceFlag(cmd)
	_ = cmd.MarkFlagFilename("values", "yaml", "yml")
	for _, k := range []string{"selector", "parallel", "wordpress-version", "woocommerce-version", "mariadb-version"} {
		_ = cmd.RegisterFlagCompletionFunc(k, cobra.NoFileCompletions)
	}
	return cmd
}

func prepareUpgrade(cmd *cobra.Command, opts *UpgradeOptions, args []string, runF func(*UpgradeOptions) error) error {
	opts.Names = dedupe(args)
	for _, n := range opts.Names {
		if err := store.ValidateName(n); err != nil {
			return err
		}
	}
	if opts.Parallel < 1 {
		return &UsageError{Err: fmt.Errorf("--parallel %d: give at least 1", opts.Parallel), Cmd: cmd.CommandPath()}
	}
	if opts.Selector != "" && !opts.All {
		return &UsageError{Err: errors.New("--selector selects stores for --all"), Cmd: cmd.CommandPath()}
	}
	var err error
	if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
		return err
	}
	if opts.Values, err = chartValues(opts.ValuesFile, opts.Sets); err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			ue.Cmd = cmd.CommandPath()
		}
		return err
	}
	fleet := opts.All || len(opts.Names) > 1
	if fleet && !opts.DryRun && !opts.Yes && !opts.Factory.IOStreams.CanPrompt() {
		return &UsageError{Err: errors.New("refusing to upgrade several stores without confirmation: there is no terminal to ask on; pass --yes to confirm"),
			Cmd: cmd.CommandPath()}
	}
	if runF != nil {
		return runF(opts)
	}
	return upgradeRun(cmd.Context(), opts)
}

func upgradeRun(ctx context.Context, opts *UpgradeOptions) (err error) {
	f := opts.Factory
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	eng, ch, err := changerOf(f)
	if err != nil {
		return explain(ctx, err, strings.Join(opts.Names, ","), "upgrade")
	}
	names := opts.Names
	if opts.All {
		stores, err := eng.List(ctx, store.ListOptions{Selector: opts.Selector})
		if err != nil {
			return explain(ctx, err, "", "upgrade")
		}
		names = names[:0]
		for _, s := range stores {
			names = append(names, s.Name)
		}
	}
	run := func(ctx context.Context, name string, on func(store.Progress)) (*store.ChangeResult, error) {
		uo := store.UpgradeOptions{Name: name, Values: opts.Values, ResetValues: opts.ResetValues,
			Versions: opts.Versions, DryRun: opts.DryRun, Force: opts.Force, Timeout: opts.Timeout, OnProgress: on}
		return backedUp(ctx, f, changeBackup{skip: opts.DryRun || opts.NoBackup, dir: opts.BackupDir, timeout: opts.Timeout},
			name, func(ctx context.Context, dryRun bool) (*store.ChangeResult, error) {
				o := uo
				if dryRun {
					o.DryRun, o.OnProgress = true, nil
				}
				return ch.Upgrade(ctx, o)
			})
	}
	if !opts.All && len(names) == 1 {
		return changeOne(ctx, f, "upgrade", names[0], opts.Format, run)
	}
	if len(names) == 0 {
		fmt.Fprintln(f.IOStreams.ErrOut, "No stores to upgrade.")
		return printFleet(f, opts.Format, nil)
	}
	if !opts.DryRun && !opts.Yes {
		ok, err := confirm(ctx, f.IOStreams, fmt.Sprintf("Upgrade %d stores (%s)?", len(names), strings.Join(names, ", ")))
		if err != nil || !ok {
			return err
		}
	}
	return runFleet(ctx, f, opts, names, run)
}

// changeFunc runs one upgrade or rollback of a store.
type changeFunc func(ctx context.Context, name string, on func(store.Progress)) (*store.ChangeResult, error)

// changeOne runs an upgrade or rollback of one store with progress, records it in the audit
// log and prints its result.
func changeOne(ctx context.Context, f *Factory, action, name string, format output.Format, run changeFunc) error {
	ios := f.IOStreams
	st := ios.StderrStyles()
	verb := map[string]string{"upgrade": "Upgrading", "rollback": "Rolling back"}[action]
	fmt.Fprintf(ios.ErrOut, "%s store %s\n", verb, st.Key.Render(name))
	progress, onProgress := newProgress(f)
	res, err := recordChange(ctx, f, action, name, func(ctx context.Context) (*store.ChangeResult, error) {
		return run(ctx, name, onProgress)
	})
	progress.Stop()
	if err != nil {
		err = explain(ctx, err, name, action)
		if ExitCode(err) == ExitTimeout || errors.Is(err, store.ErrFailed) {
			printLastState(f, progress, err)
		}
		return err
	}
	return printChange(f, format, res)
}

// recordChange runs a change and appends its audit record, with the revisions and the
// component versions before and after. A dry run changes nothing and is not recorded.
func recordChange(ctx context.Context, f *Factory, action, name string, run func(context.Context) (*store.ChangeResult, error)) (*store.ChangeResult, error) {
	op := f.recorder().Begin(ctx, action, name)
	res, err := run(ctx)
	if res != nil && res.DryRun {
		return res, err
	}
	aerr := op.End(ctx, err, func(r *audit.Record) {
		if res == nil {
			return
		}
		r.ChartVersion = res.ChartAfter
		r.RevisionBefore, r.RevisionAfter = res.RevisionBefore, res.RevisionAfter
		r.VersionsBefore, r.VersionsAfter = auditVersions(res.VersionsBefore), auditVersions(res.VersionsAfter)
	})
	if aerr != nil {
		st := f.IOStreams.StderrStyles()
		fmt.Fprintf(f.IOStreams.ErrOut, "%s could not record %s of store %q in the audit log: %v\n",
			st.Warn.Render("Warning:"), action, name, aerr)
	}
	return res, err
}

func auditVersions(v store.Versions) *audit.Versions {
	if v == (store.Versions{}) {
		return nil
	}
	return &audit.Versions{WordPress: v.WordPress, WooCommerce: v.WooCommerce, MariaDB: v.MariaDB}
}
