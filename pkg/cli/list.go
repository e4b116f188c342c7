package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// ListOptions are the inputs of `storectl list`.
type ListOptions struct {
	Factory  *Factory
	Selector string
	Output   string
	Format   output.Format
}

var listFormats = []output.Format{output.FormatTable, output.FormatWide, output.FormatJSON, output.FormatYAML, output.FormatName}

// NewCmdList returns `storectl list`.
func NewCmdList(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List the stores of the cluster with their live status",
		Long: `List every store of the cluster. The status is computed live from the cluster:
Provisioning, Ready, Failed (with the reason) or Deleting. The number of API
calls does not grow with the number of stores.`,
		Example: `  # List stores
  storectl list

  # Add namespace, chart, revision and ready pods
  storectl list -o wide

  # Names only, for scripts
  storectl list -o name

  # Stores whose namespace carries a label
  storectl list --selector team=web`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, listFormats...); err != nil {
				return err
			}
			if _, err := labels.Parse(opts.Selector); err != nil {
				return usageErrorf(cmd, "invalid --selector %q: %v", opts.Selector, err)
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Selector, "selector", "l", "", "label selector on store namespaces, e.g. team=web")
	addOutputFlag(cmd, &opts.Output, listFormats...)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	f := opts.Factory
	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, "", "list")
	}
	stores, err := eng.List(ctx, store.ListOptions{Selector: opts.Selector})
	if err != nil {
		return explain(ctx, err, "", "list")
	}
	view := newStoreList(stores)
	if len(view) == 0 && (opts.Format == output.FormatTable || opts.Format == output.FormatWide) {
		st := f.IOStreams.StderrStyles()
		fmt.Fprintf(f.IOStreams.ErrOut, "No stores found. Create one with %s\n", st.Code.Render("storectl create <name>"))
		return nil
	}
	return output.NewPrinter(f.IOStreams, opts.Format, f.Now()).Print(view)
}
