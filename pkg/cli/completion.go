package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/store"
)

// CompletionShells are the shells `storectl completion` generates scripts for.
var CompletionShells = []string{"bash", "zsh", "fish", "powershell"}

// completionTimeout bounds the API call behind dynamic completion of store names: a slow or
// absent cluster must not freeze the user's shell.
const completionTimeout = 2 * time.Second

// NewCmdCompletion returns `storectl completion <shell>`.
func NewCmdCompletion(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `Print a completion script for your shell. Store names are completed from the
cluster with a 2-second limit, so a slow cluster never blocks the shell;
--context from the kubeconfig, 'audit --store' from the audit log, and
'help' from the commands and help topics.`,
		Example: `  # Load completions into the current bash session
  source <(storectl completion bash)

  # Install for zsh
  storectl completion zsh > "${fpath[1]}/_storectl"

  # Install for fish
  storectl completion fish > ~/.config/fish/completions/storectl.fish`,
		ValidArgs: CompletionShells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf(cmd, "completion takes exactly one shell: %s", strings.Join(CompletionShells, ", "))
			}
			if !slices.Contains(CompletionShells, args[0]) {
				return usageErrorf(cmd, "unsupported shell %q: use one of %s", args[0], strings.Join(CompletionShells, ", "))
			}
			return nil
		},
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			return GenerateCompletion(cmd.Root(), args[0], f.IOStreams.Out)
		},
	}
	return cmd
}

// GenerateCompletion writes the completion script of root for shell.
func GenerateCompletion(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return fmt.Errorf("unsupported shell %q", shell)
}

// completeStoreNames completes store names from the cluster. It never prints an error: when
// the cluster cannot answer in time the shell simply offers nothing.
func completeStoreNames(f *Factory, multiple bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if !multiple && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		f.setCommand(cmd)
		eng, err := f.Engine()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		ctx, cancel := context.WithTimeout(ctx, completionTimeout)
		defer cancel()
		stores, err := listWithin(ctx, eng)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, s := range stores {
			if strings.HasPrefix(s.Name, toComplete) && !slices.Contains(args, s.Name) {
				out = append(out, cobra.CompletionWithDesc(s.Name, string(s.Phase)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// listWithin returns when ctx ends even if the engine does not honour it promptly.
func listWithin(ctx context.Context, eng Engine) ([]store.Store, error) {
	type result struct {
		stores []store.Store
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := eng.List(ctx, store.ListOptions{})
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.stores, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// completeContexts completes --context from the kubeconfig storectl would load (--kubeconfig,
// the config file, $KUBECONFIG, ~/.kube/config). It reads files only, never the cluster.
func completeContexts(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		f.setCommand(cmd)
		path, _ := cmd.Flags().GetString(config.KeyKubeconfig)
		if cfg, err := f.Config(); err == nil {
			path = cfg.Kubeconfig
		}
		names, err := kube.ContextNames(path)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeAuditStores completes `audit --store` from the audit log itself: the stores this
// machine acted on, deleted ones included, newest first, each with its last action.
func completeAuditStores(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		f.setCommand(cmd)
		log, err := f.Audit()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		recs, err := log.Query(audit.Filter{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		seen := map[string]bool{}
		var out []cobra.Completion
		for _, r := range recs {
			if r.Store == "" || seen[r.Store] || !strings.HasPrefix(r.Store, toComplete) {
				continue
			}
			seen[r.Store] = true
			out = append(out, cobra.CompletionWithDesc(r.Store, "last "+r.Action+" "+r.Outcome))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
