package cli

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storectl/storectl/pkg/config"
)

// addSettingFlags adds to fs the flags of the settings of scope (config.Definitions), each
// named as its key, with its usage and completions. They default to zero so that the
// environment, the config file and the profile decide when the flag is not given.
func addSettingFlags(cmd *cobra.Command, fs *pflag.FlagSet, scope config.FlagScope) {
	for _, d := range config.Definitions() {
		if d.Flag != scope {
			continue
		}
		switch d.Default.(type) {
		case int:
			fs.Int(d.Key, 0, d.Usage)
		case time.Duration:
			fs.Duration(d.Key, 0, d.Usage)
		default:
			fs.String(d.Key, "", d.Usage)
		}
		switch {
		case len(d.Complete) > 0:
			_ = cmd.RegisterFlagCompletionFunc(d.Key, fixedCompletion(d.Complete...))
		case d.Key == config.KeyKubeconfig || d.Key == config.KeyAuditPath:
			// file names: the shell's own completion
		case d.Key == config.KeyContext:
			// the kubeconfig's contexts, registered by the root command
		default:
			_ = cmd.RegisterFlagCompletionFunc(d.Key, cobra.NoFileCompletions)
		}
	}
}

// addStoreSettingFlags adds the flags that override configuration settings for a store.
func addStoreSettingFlags(cmd *cobra.Command) {
	addSettingFlags(cmd, cmd.Flags(), config.FlagStore)
}
