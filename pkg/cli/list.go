package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// ListOptions are the inputs of `storectl list`.
type ListOptions struct {
	Factory   *Factory
	Selector  string
	Output    string
	Format    output.Format
	NoHeaders bool
	Watch     bool
	SortBy    string
}

var listFormats = []output.Format{output.FormatTable, output.FormatWide, output.FormatJSON, output.FormatYAML, output.FormatName}

// sortKeys are the values of --sort-by.
var sortKeys = []string{"name", "age", "status"}

// NewCmdList returns `storectl list`.
func NewCmdList(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List the stores of the cluster with their live status",
		Long: `List every store of the cluster. The status is computed live from the cluster:
Provisioning, Ready, Failed (with the reason) or Deleting. The number of API
calls does not grow with the number of stores.

AGE is relative (5m, 3h, 2d) in the table, also in a pipe; -o wide adds the
creation time as CREATED, and -o json/yaml carry it as createdAt.

--sort-by name (the default), age (oldest first) or status (Failed, then
Provisioning, Deleting and Ready). -w keeps watching: the cluster's watch
events trigger a new read, and the table is redrawn in place on a terminal;
in a pipe each changed store is printed again as a row (or a JSON/YAML
document), and a store that disappears is printed once more as Deleted.
Ctrl-C ends the watch with exit code 0.

Output formats (-o): table (default), wide, json, yaml, name.`,
		Example: `  # List stores
  storectl list

  # Add namespace, chart, revision, ready pods and the creation time
  storectl list -o wide

  # Names only, for scripts
  storectl list -o name

  # Stores whose namespace carries a label, newest last
  storectl list -l team=web --sort-by age

  # Watch the stores change
  storectl list -w`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, listFormats...); err != nil {
				return err
			}
			if _, err := labels.Parse(opts.Selector); err != nil {
				return usageErrorf(cmd, "invalid --selector %q: %v", opts.Selector, err)
			}
			if !slices.Contains(sortKeys, opts.SortBy) {
				return usageErrorf(cmd, "invalid --sort-by %q: use one of %s", opts.SortBy, strings.Join(sortKeys, ", "))
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Selector, "selector", "l", "", "label selector on store namespaces, e.g. team=web")
	fl.BoolVar(&opts.NoHeaders, "no-headers", false, "leave out the header line of the table")
	fl.BoolVarP(&opts.Watch, "watch", "w", false, "after listing, keep watching and print the stores again when they change")
	fl.StringVar(&opts.SortBy, "sort-by", "name", "sort by "+strings.Join(sortKeys, ", "))
	addOutputFlag(cmd, &opts.Output, listFormats...)
	_ = cmd.RegisterFlagCompletionFunc("sort-by", fixedCompletion(sortKeys...))
	_ = cmd.RegisterFlagCompletionFunc("selector", cobra.NoFileCompletions)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	f := opts.Factory
	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, "", "list")
	}
	read := func() (StoreList, error) {
		stores, err := eng.List(ctx, store.ListOptions{Selector: opts.Selector})
		if err != nil {
			return nil, explain(ctx, err, "", "list")
		}
		view := newStoreList(stores)
		sortStores(view, opts.SortBy)
		return view, nil
	}
	view, err := read()
	if err != nil {
		return err
	}
	if opts.Watch {
		return watchList(ctx, opts, eng, view, read)
	}
	if len(view) == 0 && isTable(opts.Format) {
		noStores(f)
		return nil
	}
	p := output.NewPrinter(f.IOStreams, opts.Format, f.Now())
	p.NoHeaders = opts.NoHeaders
	return p.Print(view)
}

func isTable(f output.Format) bool { return f == output.FormatTable || f == output.FormatWide }

func noStores(f *Factory) {
	st := f.IOStreams.StderrStyles()
	fmt.Fprintf(f.IOStreams.ErrOut, "No stores found. Create one with %s\n", st.Code.Render("storectl create <name>"))
}

// statusRank orders --sort-by status: what needs attention first.
var statusRank = map[string]int{
	string(store.PhaseFailed): 0, string(store.PhaseProvisioning): 1, string(store.PhaseDeleting): 2, string(store.PhaseReady): 3,
}

// sortStores orders the stores for --sort-by; ties, and name itself, go by name.
func sortStores(l StoreList, by string) {
	slices.SortStableFunc(l, func(a, b StoreView) int {
		switch by {
		case "age":
			if c := a.created.Compare(b.created); c != 0 {
				return c
			}
		case "status":
			ra, oka := statusRank[a.Status]
			rb, okb := statusRank[b.Status]
			if !oka {
				ra = len(statusRank)
			}
			if !okb {
				rb = len(statusRank)
			}
			if ra != rb {
				return ra - rb
			}
		}
		return strings.Compare(a.Name, b.Name)
	})
}
