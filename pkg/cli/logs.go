package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// LogsOptions are the inputs of `storectl logs`.
type LogsOptions struct {
	Factory   *Factory
	Name      string
	Component string
	Follow    bool
	Since     time.Duration
	Tail      int64
	Previous  bool
	Prefix    bool
	Output    string
	Format    output.Format
}

var logsFormats = []output.Format{"", output.FormatJSON}

// NewCmdLogs returns `storectl logs`.
func NewCmdLogs(f *Factory, runF func(*LogsOptions) error) *cobra.Command {
	opts := &LogsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "logs <name> [flags]",
		Short: "Print the logs of a store's pods",
		Long: `Print the logs of the store's pods: WordPress, the database, the setup Job and
the cron runs, or one of them with --component. When lines come from more than
one pod, each starts with [pod/container].

With -f the command follows the logs until Ctrl-C, also of pods that start later
and of containers that restart. --previous prints the run before a container's
last restart (what a crashing container said).

With -o json every line is a JSON object: {"pod", "container", "component", "line"}.`,
		Example: `  # Everything the store's pods logged
  storectl logs shop

  # Follow WordPress, across restarts
  storectl logs shop --component wordpress -f

  # What the setup Job printed, the last 50 lines
  storectl logs shop --component setup --tail 50

  # Why the database keeps restarting
  storectl logs shop --component database --previous`,
		Args:              exactNames("store name"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, logsFormats...); err != nil {
				return err
			}
			if opts.Component != "" && !slices.Contains(store.LogComponents, opts.Component) {
				return usageErrorf(cmd, "unknown component %q: use one of %s", opts.Component, strings.Join(store.LogComponents, ", "))
			}
			if opts.Since < 0 || opts.Tail < 0 {
				return usageErrorf(cmd, "--since and --tail take positive values")
			}
			if opts.Previous && opts.Follow {
				return usageErrorf(cmd, "--previous reads a run that ended; it cannot be followed (-f)")
			}
			if runF != nil {
				return runF(opts)
			}
			return logsRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Component, "component", "", "only this component: "+strings.Join(store.LogComponents, ", "))
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new lines, across pod restarts, until interrupted")
	fl.DurationVar(&opts.Since, "since", 0, "only lines newer than this, e.g. 10m")
	fl.Int64Var(&opts.Tail, "tail", 0, "only the last N lines of each container (default: all)")
	fl.BoolVarP(&opts.Previous, "previous", "p", false, "the run of each container before its last restart")
	fl.BoolVar(&opts.Prefix, "prefix", false, "start every line with [pod/container], also for one pod")
	addOutputFlag(cmd, &opts.Output, logsFormats...)
	_ = cmd.RegisterFlagCompletionFunc("component", fixedCompletion(store.LogComponents...))
	return cmd
}

func logsRun(ctx context.Context, opts *LogsOptions) error {
	f := opts.Factory
	if f.Ops == nil {
		return fmt.Errorf("logs are not available in this build")
	}
	ops, err := f.Ops()
	if err != nil {
		return explain(ctx, err, opts.Name, "logs")
	}
	out := f.IOStreams.Out
	st := f.IOStreams.StdoutStyles()
	lines := 0
	err = ops.Cluster.Logs(ctx, opts.Name, store.LogOptions{
		Component: opts.Component, Follow: opts.Follow, Since: opts.Since, Tail: opts.Tail, Previous: opts.Previous,
	}, func(l store.LogLine) {
		lines++
		if opts.Format == output.FormatJSON {
			if b, err := json.Marshal(l); err == nil {
				fmt.Fprintf(out, "%s\n", b)
			}
			return
		}
		if opts.Prefix || l.Many {
			fmt.Fprintf(out, "%s %s\n", st.Muted.Render("["+l.Pod+"/"+l.Container+"]"), l.Text)
			return
		}
		fmt.Fprintln(out, l.Text)
	})
	if err != nil {
		return explain(ctx, err, opts.Name, "logs")
	}
	if lines == 0 && !opts.Follow {
		fmt.Fprintf(f.IOStreams.ErrOut, "No log lines of store %s%s.\n", opts.Name, componentSuffix(opts.Component))
	}
	return nil
}

func componentSuffix(c string) string {
	if c == "" {
		return ""
	}
	return " (component " + c + ")"
}
