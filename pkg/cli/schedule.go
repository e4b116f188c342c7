package cli

import (
	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/store"
)

// addUnschedulableGraceFlag binds the unschedulable-grace setting's flag on a command that
// waits for a store; the configuration reads it like every setting's flag.
func addUnschedulableGraceFlag(cmd *cobra.Command) {
	d, _ := config.Lookup(config.KeyUnschedulableGrace)
	cmd.Flags().Duration(d.Key, 0, d.Usage)
	_ = cmd.RegisterFlagCompletionFunc(d.Key, cobra.NoFileCompletions)
}

// failFastFrom maps the configuration onto the engine's thresholds.
func failFastFrom(cfg *config.Config) *store.FailFast {
	ff := store.DefaultFailFast
	if cfg.UnschedulableGrace > 0 {
		ff.UnschedulableGrace = cfg.UnschedulableGrace
	}
	return &ff
}
