package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
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
	Parallel       int
}

// defaultDeleteParallel is how many stores one delete starts deleting at a time: as many as
// the namespace controller works on at once by default (--concurrent-namespace-syncs).
const defaultDeleteParallel = 10

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

Several stores are deleted at once: --parallel of them make their requests (uninstall,
namespace deletion) at a time, and every store whose namespace is terminating waits
alongside the others. Each reports when it ends, a summary follows, and a store that
fails does not stop the others.

This destroys the store's database and files. On a terminal storectl asks for
confirmation; without a terminal it refuses unless --yes is given.`,
		Example: `  # Delete a store, asking first
  storectl delete shop

  # Delete two stores from a script
  storectl delete shop outlet --yes

  # Delete every store of a label, starting five deletions at a time
  storectl delete $(storectl list -l team=web -o name) --yes --parallel 5

  # Succeed when the store is already gone
  storectl delete shop --yes --ignore-not-found`,
		Aliases:           []string{"rm"},
		Args:              minNames("store name"),
		ValidArgsFunction: completeStoreNames(f, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = dedupe(args)
			if opts.Parallel < 1 {
				return usageErrorf(cmd, "--parallel %d: must be at least 1", opts.Parallel)
			}
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
	fl.IntVar(&opts.Parallel, "parallel", defaultDeleteParallel, "how many stores start their deletion at a time (the waits for their namespaces all run together)")
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
	if len(opts.Names) == 1 {
		return deleteOne(ctx, opts, opts.Names[0], singleView(f), nil)
	}
	return deleteMany(ctx, opts)
}

// deleteMany deletes several stores at once, at most opts.Parallel at a time: deleting a
// store is mostly waiting for the cluster to empty its namespace, which the namespace
// controller does for many namespaces in parallel. Each store reports as it ends, and one
// summary follows.
func deleteMany(ctx context.Context, opts *DeleteOptions) error {
	f := opts.Factory
	ios := f.IOStreams
	view := manyView(f)
	started := f.Now()
	st := ios.StderrStyles()
	fmt.Fprintf(view.out, "Deleting %d stores, up to %d at a time\n", len(opts.Names), opts.Parallel)
	errs := make([]error, len(opts.Names))
	// A slot is held while a store's deletion makes its requests (reading it, uninstalling
	// the release, deleting the namespace) and given back once only the wait for the
	// namespace controller is left: the waits all run together, so that stores beyond
	// --parallel do not queue behind namespaces that are merely terminating.
	slots := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, name := range opts.Names {
		slots <- struct{}{}
		var once sync.Once
		free := func() { once.Do(func() { <-slots }) }
		wg.Go(func() {
			defer free()
			if ctx.Err() != nil {
				errs[i] = fmt.Errorf("%w before the deletion of store %s began; nothing of it was deleted", store.ErrInterrupted, name)
				return
			}
			errs[i] = deleteOne(ctx, opts, name, view, free)
		})
	}
	wg.Wait() // the goroutines report through errs
	var failed []string
	var first error
	for i, err := range errs {
		if err == nil {
			continue
		}
		failed = append(failed, opts.Names[i])
		if first == nil || (ctx.Err() != nil && ExitCode(first) != ExitInterrupted) {
			first = err
		}
	}
	took := output.HumanDuration(f.Now().Sub(started))
	if first == nil {
		verb := "Deleted"
		if !opts.Wait {
			verb = "Started the deletion of"
		}
		fmt.Fprintf(view.out, "%s %s %d stores in %s\n", st.OK.Render(output.MarkOK), verb, len(opts.Names), took)
		return nil
	}
	fmt.Fprintf(view.out, "%s %d of %d stores deleted in %s; not deleted: %s\n", st.Err.Render(output.MarkFail),
		len(opts.Names)-len(failed), len(opts.Names), took, strings.Join(failed, ", "))
	// Each store's error was printed with its next step; the summary keeps the exit code
	// of the first (of an interruption, when there was one).
	return &HintError{Err: &fleetError{msg: fmt.Sprintf("%d of %d stores were not deleted: %s", len(failed), len(opts.Names),
		strings.Join(failed, ", ")), first: first}, Hint: "run 'storectl list' to see what remains"}
}

// fleetError is the outcome of an operation on several stores: its message names the
// stores it failed for, and it unwraps to one of their errors, which decides the exit code.
type fleetError struct {
	msg   string
	first error
}

func (e *fleetError) Error() string { return e.msg }
func (e *fleetError) Unwrap() error { return e.first }

// deleteView is where the deletion of one store reports. Deleting one store shows its live
// progress; deleting several, each store writes its lines whole, marked with its name off
// a terminal, so that stores running at once never interleave within a line or a block.
type deleteView struct {
	f    *Factory
	out  io.Writer // stderr, one Write per line or block
	many bool
	mu   *sync.Mutex
}

func singleView(f *Factory) deleteView {
	return deleteView{f: f, out: f.IOStreams.ErrOut}
}

func manyView(f *Factory) deleteView {
	mu := &sync.Mutex{}
	return deleteView{f: f, out: &lockedWriter{mu: mu, w: f.IOStreams.ErrOut}, many: true, mu: mu}
}

// block returns streams for a block of lines about one store and the function that prints
// the block; a single store prints as it goes.
func (v deleteView) block() (*output.IOStreams, func()) {
	if !v.many {
		return v.f.IOStreams, func() {}
	}
	var buf bytes.Buffer
	ios := *v.f.IOStreams
	ios.ErrOut = &buf
	return &ios, func() {
		if buf.Len() > 0 {
			_, _ = v.out.Write(buf.Bytes())
		}
	}
}

// progress returns the renderer of one store's steps. With several stores a terminal
// shows no steps (live views of stores running at once would overwrite each other); off a
// terminal each logfmt line starts with store=<name>. The steps are kept either way, for
// the last state printed on failure.
func (v deleteView) progress(name string) (*output.Progress, func(store.Progress)) {
	if !v.many {
		return newProgress(v.f)
	}
	ios := *v.f.IOStreams
	ios.IsStderrTTY = false
	ios.ErrOut = io.Discard
	if !v.f.IOStreams.ColorErr() {
		ios.ErrOut = &lockedWriter{mu: v.mu, w: v.f.IOStreams.ErrOut, prefix: "store=" + name + " "}
	}
	p := output.NewProgress(&ios, output.ProgressOptions{Labels: stepLabels, Now: v.f.Now})
	return p, func(s store.Progress) {
		p.Update(output.Step{Name: s.Step, State: s.State, Message: s.Message, Elapsed: s.Elapsed})
	}
}

// lockedWriter serialises writes to w and starts each with prefix.
type lockedWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.prefix != "" {
		if _, err := io.WriteString(l.w, l.prefix); err != nil {
			return 0, err
		}
	}
	return l.w.Write(p)
}

// deleteOne deletes one store; waiting, when given, is called once only the wait for the
// namespace to go is left.
func deleteOne(ctx context.Context, opts *DeleteOptions, name string, view deleteView, waiting func()) (err error) {
	f := opts.Factory
	eng, err := f.Engine()
	if err != nil {
		return view.report(explain(ctx, err, name, "delete"), nil)
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
	st := f.IOStreams.StderrStyles()
	fmt.Fprintf(view.out, "Deleting store %s\n", st.Key.Render(name))
	progress, onProgress := view.progress(name)
	var retained []store.RetainedVolume
	err = eng.Delete(dctx, name, store.DeleteOptions{
		Wait:           opts.Wait,
		Timeout:        opts.Timeout,
		IgnoreNotFound: opts.IgnoreNotFound,
		OnProgress:     onProgress,
		OnRetained:     func(v []store.RetainedVolume) { retained = v },
		OnWaiting:      waiting,
	})
	progress.Stop()
	ios, flush := view.block()
	defer flush()
	printRetained(ios, name, retained)
	if err != nil {
		err = explain(ctx, err, name, "delete")
		if ExitCode(err) == ExitTimeout || errors.Is(err, store.ErrFailed) {
			printLastState(&Factory{IOStreams: ios}, progress, err)
		}
		return view.report(err, ios)
	}
	if opts.Wait {
		fmt.Fprintf(ios.ErrOut, "%s Store %s is deleted\n", st.OK.Render(output.MarkOK), name)
	} else {
		fmt.Fprintf(ios.ErrOut, "Deletion of store %s has started\n%s run %s to wait until it is gone\n", name,
			st.Muted.Render("Next:"), st.Code.Render("storectl wait "+name+" --for deleted"))
	}
	return nil
}

// report prints a store's error at once when several stores are deleted (the command's
// own error is then the summary) and returns it; a single store's error is the command's.
func (v deleteView) report(err error, ios *output.IOStreams) error {
	if !v.many {
		return err
	}
	if ios != nil {
		PrintError(ios, err)
		return err
	}
	ios, flush := v.block()
	PrintError(ios, err)
	flush()
	return err
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
