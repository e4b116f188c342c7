package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// EventsOptions are the inputs of `storectl events`.
type EventsOptions struct {
	Factory *Factory
	Name    string
	Watch   bool
	Output  string
	Format  output.Format
}

var eventsFormats = []output.Format{output.FormatTable, output.FormatJSON}

// NewCmdEvents returns `storectl events`.
func NewCmdEvents(f *Factory, runF func(*EventsOptions) error) *cobra.Command {
	opts := &EventsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "events <name> [flags]",
		Short: "Show the events of a store, newest last",
		Long: `Show the recent events of every object in the store's namespace, of all types
(Normal and Warning), oldest first and newest last. With -w the command keeps
printing events as the cluster records them, until Ctrl-C. The cluster keeps
events for about an hour.

With -o json the events are one JSON array, or with -w one JSON object per line.`,
		Example: `  # What happened to a store
  storectl events shop

  # Follow it while it is created in another terminal
  storectl events shop -w

  # For scripts, one JSON object per line
  storectl events shop -w -o json`,
		Args:              exactNames("store name"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, eventsFormats...); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return eventsRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Watch, "watch", "w", false, "keep printing new events until interrupted")
	addOutputFlag(cmd, &opts.Output, eventsFormats...)
	return cmd
}

func eventsRun(ctx context.Context, opts *EventsOptions) error {
	f := opts.Factory
	if f.Ops == nil {
		return fmt.Errorf("events are not available in this build")
	}
	ops, err := f.Ops()
	if err != nil {
		return explain(ctx, err, opts.Name, "events")
	}
	evs, rv, err := ops.Cluster.Events(ctx, opts.Name)
	if err != nil {
		return explain(ctx, err, opts.Name, "events")
	}
	p := output.NewPrinter(f.IOStreams, opts.Format, f.Now())
	w := &eventWriter{out: p.Out, cells: p.Cells, st: p.Styles, json: opts.Format == output.FormatJSON, lines: opts.Watch}
	if !opts.Watch && w.json {
		return p.Print(eventViews(evs))
	}
	if len(evs) == 0 && !opts.Watch {
		fmt.Fprintf(f.IOStreams.ErrOut, "No events of store %s (the cluster keeps them for about an hour).\n", opts.Name)
		return nil
	}
	for _, e := range evs {
		w.write(e)
	}
	if !opts.Watch {
		return nil
	}
	err = ops.Cluster.WatchEvents(ctx, opts.Name, rv, w.write)
	if err != nil {
		return explain(ctx, err, opts.Name, "events")
	}
	return nil
}

func eventViews(evs []store.Event) []EventView {
	out := make([]EventView, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventView(e))
	}
	return out
}

func eventView(e store.Event) EventView {
	return EventView{Time: rfc3339(e.Time), Type: e.Type, Reason: e.Reason, Object: e.Object, Message: e.Message, Count: max(e.Count, 1), at: e.Time}
}

// eventWriter prints events one at a time: aligned lines for people, JSON lines for scripts.
type eventWriter struct {
	out    io.Writer
	cells  output.Cells
	st     output.Styles
	json   bool
	lines  bool
	header bool
}

func (w *eventWriter) write(e store.Event) {
	v := eventView(e)
	if w.json {
		b, err := json.Marshal(v)
		if err == nil {
			fmt.Fprintf(w.out, "%s\n", b)
		}
		return
	}
	if !w.header {
		fmt.Fprintf(w.out, "%s\n", w.st.Header.Render(fmt.Sprintf("%-20s  %-7s  %-28s  %-24s  %5s  %s", "TIME", "TYPE", "OBJECT", "REASON", "COUNT", "MESSAGE")))
		w.header = true
	}
	typ := v.Type
	if typ != "Normal" {
		typ = w.st.Warn.Render(fmt.Sprintf("%-7s", typ))
	} else {
		typ = fmt.Sprintf("%-7s", typ)
	}
	fmt.Fprintf(w.out, "%-20s  %s  %-28s  %-24s  %5s  %s\n", rfc3339(e.Time), typ, v.Object, v.Reason, strconv.Itoa(int(v.Count)), oneLine(v.Message))
}

// allEvents replaces the store view's warnings with every recent event, oldest first.
func allEvents(ctx context.Context, f *Factory, v *StoreView) error {
	if f.Ops == nil {
		return fmt.Errorf("events are not available in this build")
	}
	ops, err := f.Ops()
	if err != nil {
		return err
	}
	evs, _, err := ops.Cluster.Events(ctx, v.Name)
	if err != nil {
		return err
	}
	v.Events = eventViews(evs)
	return nil
}

// describeEvents writes the Events block of `get --events`.
func describeEvents(w io.Writer, st output.Styles, c output.Cells, evs []EventView) error {
	var b strings.Builder
	b.WriteString(st.Title.Render("Events:") + "\n")
	if len(evs) == 0 {
		b.WriteString("  <none>\n")
	} else {
		rows := make([][]string, 0, len(evs))
		for _, e := range evs {
			rows = append(rows, []string{c.Time(e.at), e.Type, e.Object, e.Reason, strconv.Itoa(int(e.Count)), oneLine(e.Message)})
		}
		indent(&b, output.RenderTable(st, []string{"LAST SEEN", "TYPE", "OBJECT", "REASON", "COUNT", "MESSAGE"}, rows))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
