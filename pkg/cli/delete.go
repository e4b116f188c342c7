package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// DeleteOptions are the inputs of `storectl delete`.
type DeleteOptions struct {
	Factory        *Factory
	Names          []string
	Yes            bool
	Wait           bool
	Timeout        time.Duration
	IgnoreNotFound bool
}

// NewCmdDelete returns `storectl delete`.
func NewCmdDelete(f *Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "delete <name>... [flags]",
		Short: "Delete stores with all their data",
		Long: `Delete stores: uninstall the Helm release, delete the namespace store-<name> and
wait until the namespace and its volumes are gone. Volumes whose reclaim policy is
Retain stay by design: they are listed, with how to remove or reuse them, and do not
hold the delete up. A namespace store-<name> that storectl did not create is refused
(exit 3) and left untouched.

This destroys the store's database and files. On a terminal storectl asks for
confirmation; without a terminal it refuses unless --yes is given.`,
		Example: `  # Delete a store, asking first
  storectl delete shop

  # Delete two stores from a script
  storectl delete shop outlet --yes

  # Succeed when the store is already gone
  storectl delete shop --yes --ignore-not-found`,
		Aliases:           []string{"rm"},
		Args:              minNames("store name"),
		ValidArgsFunction: completeStoreNames(f, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = dedupe(args)
			for _, n := range opts.Names {
				if err := store.ValidateName(n); err != nil {
					return err
				}
			}
			if !opts.Yes && !f.IOStreams.CanPrompt() {
				return &UsageError{
					Err: fmt.Errorf("refusing to delete %s without confirmation: there is no terminal to ask on; pass --yes to confirm",
						strings.Join(opts.Names, ", ")),
					Cmd: cmd.CommandPath(),
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking for confirmation")
	fl.BoolVar(&opts.Wait, "wait", true, "wait until the namespace and its volumes are gone")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long to wait (default: the timeout setting, 10m)")
	fl.BoolVar(&opts.IgnoreNotFound, "ignore-not-found", false, "succeed when a store does not exist (a namespace that is not a store is still refused)")
	return cmd
}

func dedupe(names []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// confirm asks on stderr and reads the answer from stdin; only y or yes proceeds. An
// interrupt while it waits (Ctrl-C, SIGTERM) ends it at once: the read goes on in the
// background, and the process exits before it returns.
func confirm(ctx context.Context, ios *output.IOStreams, question string) (bool, error) {
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s [y/N]: ", st.Warn.Render(question))
	answer := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(ios.In).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(ios.ErrOut)
		}
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(ios.ErrOut)
		return false, fmt.Errorf("%w at the confirmation prompt; nothing was deleted", store.ErrInterrupted)
	case line := <-answer:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	f := opts.Factory
	ios := f.IOStreams
	var err error
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	if !opts.Yes {
		what := "store " + opts.Names[0]
		if len(opts.Names) > 1 {
			what = "stores " + strings.Join(opts.Names, ", ")
		}
		ok, err := confirm(ctx, ios, fmt.Sprintf("Delete %s with its database, files and volumes?", what))
		if err != nil {
			return err
		}
		if !ok {
			// Declining is an answer, not an error.
			fmt.Fprintln(ios.ErrOut, "Nothing was deleted.")
			return nil
		}
	}
	var first error
	for _, name := range opts.Names {
		err := deleteOne(ctx, opts, name)
		if err != nil && first == nil {
			first = err
		}
		if err != nil && len(opts.Names) > 1 {
			PrintError(ios, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if first != nil && len(opts.Names) > 1 {
		// Each error was printed as it happened; the summary keeps the first one's exit code.
		return &HintError{Err: fmt.Errorf("not every store was deleted: %w", first), Hint: "run 'storectl list' to see what remains"}
	}
	return first
}

func deleteOne(ctx context.Context, opts *DeleteOptions, name string) (err error) {
	f := opts.Factory
	ios := f.IOStreams
	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, name, "delete")
	}
	trail := beginAudit(ctx, f, "delete", name)
	chartVersion := ""
	defer func() { trail.end(ctx, chartVersion, err) }()
	// --timeout bounds the whole command, this first read included.
	deadline := time.Now().Add(opts.Timeout)
	// The record names the chart version being removed; a store that cannot be read is
	// still deleted, the engine reports why if it cannot.
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if s, gerr := eng.Get(dctx, name); gerr == nil && s != nil {
		chartVersion = s.ChartVersion
	}
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "Deleting store %s\n", st.Key.Render(name))
	progress, onProgress := newProgress(f)
	var retained []store.RetainedVolume
	err = eng.Delete(dctx, name, store.DeleteOptions{
		Wait:           opts.Wait,
		Timeout:        opts.Timeout,
		IgnoreNotFound: opts.IgnoreNotFound,
		OnProgress:     onProgress,
		OnRetained:     func(v []store.RetainedVolume) { retained = v },
	})
	progress.Stop()
	printRetained(ios, name, retained)
	if err != nil {
		err = explain(ctx, err, name, "delete")
		if ExitCode(err) == ExitTimeout || errors.Is(err, store.ErrFailed) {
			printLastState(f, progress, err)
		}
		return err
	}
	if opts.Wait {
		fmt.Fprintf(ios.ErrOut, "%s Store %s is deleted\n", st.OK.Render(output.MarkOK), name)
	} else {
		fmt.Fprintf(ios.ErrOut, "Deletion of store %s has started\n%s run %s to wait until it is gone\n", name,
			st.Muted.Render("Next:"), st.Code.Render("storectl wait "+name+" --for deleted"))
	}
	return nil
}

// printRetained tells what a deleted store left behind on purpose: volumes whose reclaim
// policy is Retain, still holding its data, and how to remove or reuse them.
func printRetained(ios *output.IOStreams, name string, vols []store.RetainedVolume) {
	if len(vols) == 0 {
		return
	}
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s store %s left %d volume(s) whose reclaim policy is Retain; they still hold its data:\n",
		st.Warn.Render("Note:"), name, len(vols))
	names := make([]string, 0, len(vols))
	for _, v := range vols {
		class := ""
		if v.StorageClass != "" {
			class = ", StorageClass " + v.StorageClass
		}
		fmt.Fprintf(ios.ErrOut, "  %s (was claim %s%s, %s)\n", v.Name, v.Claim, class, v.Phase)
		names = append(names, v.Name)
	}
	fmt.Fprintf(ios.ErrOut, "%s remove them with %s (and the disk behind them, as your storage requires),\n",
		st.Muted.Render("Next:"), st.Code.Render("kubectl delete pv "+strings.Join(names, " ")))
	fmt.Fprintf(ios.ErrOut, "      or reuse one as described under \"Retained volumes\" in docs/reliability.md; a new store %s does not get them back by itself\n", name)
}
