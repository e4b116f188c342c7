package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/store"
)

// addChangeBackupFlags adds the flags of the backup an upgrade or a rollback starts with.
func addChangeBackupFlags(cmd *cobra.Command, noBackup *bool, dir *string) {
	fl := cmd.Flags()
	fl.BoolVar(noBackup, "no-backup", false, "do not back the store up first (the only undo of a schema change is a backup)")
	fl.StringVar(dir, "backup-dir", ".", "directory of the backup taken first, <name>-<utc-time>.storectl.tar")
	_ = cmd.MarkFlagDirname("backup-dir")
}

// changeBackup says whether and where a change backs its store up first.
type changeBackup struct {
	skip    bool
	dir     string
	timeout time.Duration
}

// errBackupFirst is wrapped by the refusal of a change whose backup failed.
var errBackupFirst = errors.New("the backup taken before the change failed; nothing was changed")

// backedUp runs a change that first backs its store up: a dry run shows whether the change
// is allowed and does something (a refused or empty change leaves no archive), then the
// backup is written and verified, then the change runs. A failed backup changes nothing.
func backedUp(ctx context.Context, f *Factory, b changeBackup, name string,
	change func(ctx context.Context, dryRun bool) (*store.ChangeResult, error)) (*store.ChangeResult, error) {
	if b.skip {
		return change(ctx, false)
	}
	plan, err := change(ctx, true)
	if err != nil || plan == nil {
		return plan, err
	}
	if plan.Unchanged {
		return change(ctx, false)
	}
	if f.Backups == nil {
		return nil, withHint(fmt.Errorf("store %s: %w: no backup engine", name, errBackupFirst), "pass --no-backup to change the store without a backup")
	}
	bk, err := f.Backups()
	if err == nil {
		_, err = backupOne(ctx, &BackupOptions{Factory: f, Dir: b.dir, Timeout: b.timeout}, bk, name)
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("store %s: %w: %w", name, errBackupFirst, err),
			"fix the cause and run it again, or pass --no-backup to change the store without a backup")
	}
	return change(ctx, false)
}
