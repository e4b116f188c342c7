package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// WaitOptions are the inputs of `storectl wait`.
type WaitOptions struct {
	Factory *Factory
	Name    string
	For     string
	Timeout time.Duration
	Output  string
	Format  output.Format
}

// NewCmdWait returns `storectl wait`.
func NewCmdWait(f *Factory, runF func(*WaitOptions) error) *cobra.Command {
	opts := &WaitOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "wait <name> --for ready|deleted [flags]",
		Short: "Wait until a store is ready or deleted",
		Long: `Wait until a store is ready or until it is deleted, for CI and scripts. It exits 0
when the condition holds, 5 on timeout, and 1 as soon as the store has failed.

Output formats (-o, with --for ready): json, yaml, name of the ready store
(default: a line for humans on stderr, nothing on stdout).`,
		Example: `  # Wait for a store created with --wait=false
  storectl wait shop --for ready --timeout 15m

  # Wait until a deleted store's namespace and volumes are gone
  storectl wait shop --for deleted`,
		Args:              exactNames("store name"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			if opts.For != "ready" && opts.For != "deleted" {
				return usageErrorf(cmd, "invalid --for %q: use ready or deleted", opts.For)
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML, output.FormatName); err != nil {
				return err
			}
			if opts.Format != "" && opts.For == "deleted" {
				return usageErrorf(cmd, "-o prints the ready store; it cannot be used with --for deleted")
			}
			if runF != nil {
				return runF(opts)
			}
			return waitRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.For, "for", "ready", "condition to wait for: ready or deleted")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long to wait (default: the timeout setting, 10m)")
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML, output.FormatName)
	addUnschedulableGraceFlag(cmd)
	_ = cmd.RegisterFlagCompletionFunc("for", fixedCompletion("ready", "deleted"))
	return cmd
}

func waitRun(ctx context.Context, opts *WaitOptions) error {
	f := opts.Factory
	ios := f.IOStreams
	var err error
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, opts.Name, "wait")
	}
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "Waiting for store %s to be %s\n", st.Key.Render(opts.Name), opts.For)
	progress, onProgress := newProgress(f)
	var retained []store.RetainedVolume
	s, err := eng.Wait(ctx, opts.Name, store.WaitOptions{For: opts.For, Timeout: opts.Timeout, OnProgress: onProgress,
		OnRetained: func(v []store.RetainedVolume) { retained = v }})
	progress.Stop()
	printRetained(ios, opts.Name, retained)
	if err != nil {
		action := "create"
		if opts.For == "deleted" {
			action = "wait-deleted"
		}
		err = explain(ctx, err, opts.Name, action)
		if ExitCode(err) == ExitTimeout || errors.Is(err, store.ErrFailed) {
			printLastState(f, progress, err)
		}
		if ExitCode(err) == ExitInterrupted {
			// Waiting changes nothing; stopping it leaves nothing to clean up.
			err = &HintError{Err: err, Hint: fmt.Sprintf("run 'storectl wait %s --for %s' to wait again", opts.Name, opts.For)}
		}
		return err
	}
	fmt.Fprintf(ios.ErrOut, "%s Store %s is %s\n", st.OK.Render(output.MarkOK), opts.Name, opts.For)
	if opts.Format != "" && s != nil {
		return output.NewPrinter(ios, opts.Format, f.Now()).Print(newStoreView(s))
	}
	return nil
}
