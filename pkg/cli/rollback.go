package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// RollbackOptions are the inputs of `storectl rollback`.
type RollbackOptions struct {
	Factory   *Factory
	Name      string
	Revision  int
	DryRun    bool
	Force     bool
	NoBackup  bool
	BackupDir string
	Timeout   time.Duration
	Output    string
	Format    output.Format
}

// NewCmdRollback returns `storectl rollback`.
func NewCmdRollback(f *Factory, runF func(*RollbackOptions) error) *cobra.Command {
	opts := &RollbackOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "rollback <name> [<revision>] [flags]",
		Short: "Return a store to the values of an earlier revision",
		Long: `Roll a store back: upgrade it to the values an earlier revision was applied with
(default: the previous revision that was deployed; see 'storectl history'), with the
chart embedded in this storectl. It is an upgrade like any other: the setup Job runs,
the previous revision keeps serving until the new one is Ready, Ctrl-C is safe and a
new revision is recorded. When the earlier revision was made with another chart
version, its values are applied with this one, and the command says so.

A rollback returns the store's configuration, not its data: orders, customers,
products and the database schema stay as they are now. A rollback that would run
WordPress, WooCommerce or MariaDB older than the data has run is refused (exit 9):
their schemas only move forward, so going back means restoring the store's data from
a backup made before the upgrade. --force rolls back anyway.`,
		Example: `  # Undo the last upgrade
  storectl rollback shop

  # Return to the values of revision 2
  storectl rollback shop 2

  # See what a rollback would change, without changing it
  storectl rollback shop --dry-run`,
		Args:              rangeArgs(1, 2, "store name and an optional revision"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			if len(args) == 2 {
				n, err := strconv.Atoi(args[1])
				if err != nil || n < 1 {
					return &UsageError{Err: fmt.Errorf("revision %q is not a revision number (1, 2, ...)", args[1]), Cmd: cmd.CommandPath()}
				}
				opts.Revision = n
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return rollbackRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	addChangeBackupFlags(cmd, &opts.NoBackup, &opts.BackupDir)
	fl.BoolVar(&opts.Force, "force", false, "roll back although the store is not Ready or a component would be downgraded")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long to wait (default: the timeout setting, 10m)")
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	addUnschedulableGraceFlag(cmd)
	return cmd
}

func rollbackRun(ctx context.Context, opts *RollbackOptions) (err error) {
	f := opts.Factory
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	_, ch, err := changerOf(f)
	if err != nil {
		return explain(ctx, err, opts.Name, "rollback")
	}
	return changeOne(ctx, f, "rollback", opts.Name, opts.Format, func(ctx context.Context, name string, on func(store.Progress)) (*store.ChangeResult, error) {
		ro := store.RollbackOptions{Name: name, Revision: opts.Revision, DryRun: opts.DryRun, Force: opts.Force,
			Timeout: opts.Timeout, OnProgress: on}
		return backedUp(ctx, f, changeBackup{skip: opts.DryRun || opts.NoBackup, dir: opts.BackupDir, timeout: opts.Timeout},
			name, func(ctx context.Context, dryRun bool) (*store.ChangeResult, error) {
				o := ro
				if dryRun {
					o.DryRun, o.OnProgress = true, nil
				}
				return ch.Rollback(ctx, o)
			})
	})
}

// rangeArgs accepts between lo and hi arguments.
func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return &UsageError{Err: fmt.Errorf("expected %s, got %d arguments", what, len(args)), Cmd: cmd.CommandPath()}
		}
		return nil
	}
}
