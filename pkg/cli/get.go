package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// GetOptions are the inputs of `storectl get`.
type GetOptions struct {
	Factory *Factory
	Name    string
	Output  string
	Format  output.Format
	// Events adds every recent event of the store, all types, newest last.
	Events bool
	Watch  bool
}

var getFormats = []output.Format{output.FormatTable, output.FormatWide, output.FormatJSON, output.FormatYAML, output.FormatName}

// NewCmdGet returns `storectl get`, also called `storectl describe`.
func NewCmdGet(f *Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Factory: f}
	cmd := &cobra.Command{
		Use:     "get <name> [flags]",
		Aliases: []string{"describe"},
		Short:   "Show a store: status, URLs, components, release and recent warnings",
		Long: `Show one store as read live from the cluster: status, URLs, release, chart, pods,
background processing, mail, each component's readiness and the recent warning
events. 'storectl describe' is the same command.

-o wide adds the recent Normal events to the warnings. -w keeps watching and
shows the store again each time the cluster changes it (redrawn in place on a
terminal); it ends when the store no longer exists, or with Ctrl-C (exit 0).

Output formats (-o): table (the description, default), wide, json, yaml, name.`,
		Example: `  # Describe a store
  storectl get shop

  # The same as JSON, for scripts
  storectl get shop -o json

  # With every recent event, not only warnings
  storectl get shop --events

  # Watch a store come up
  storectl describe shop -w`,
		Args:              exactNames("store name"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, getFormats...); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Watch, "watch", "w", false, "after showing the store, keep watching and show it again when it changes")
	addOutputFlag(cmd, &opts.Output, getFormats...)
	cmd.Flags().BoolVar(&opts.Events, "events", false, "also show every recent event of the store (all types, newest last; storectl events for more)")
	return cmd
}

func getRun(ctx context.Context, opts *GetOptions) error {
	f := opts.Factory
	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, opts.Name, "get")
	}
	s, err := eng.Get(ctx, opts.Name)
	if err != nil {
		return explain(ctx, err, opts.Name, "get")
	}
	if opts.Watch {
		return watchGet(ctx, opts, eng, s)
	}
	if h := storeHint(s); h != "" {
		hs := f.IOStreams.StderrStyles()
		defer fmt.Fprintf(f.IOStreams.ErrOut, "%s %s\n", hs.Muted.Render("Next:"), h)
	}
	view := newStoreView(s)
	if opts.Events {
		if err := allEvents(ctx, f, &view); err != nil {
			return explain(ctx, err, opts.Name, "get")
		}
	}
	if err := printStore(f, opts.Format, view); err != nil || !opts.Events || !isTable(opts.Format) {
		return err
	}
	p := output.NewPrinter(f.IOStreams, opts.Format, f.Now())
	return describeEvents(f.IOStreams.Out, p.Styles, p.Cells, view.Events)
}

// printStore writes one store in a -o format of get; table and wide are the description.
func printStore(f *Factory, format output.Format, v StoreView) error {
	p := output.NewPrinter(f.IOStreams, format, f.Now())
	if !isTable(format) {
		return p.Print(v)
	}
	return describeStore(f.IOStreams.Out, p.Styles, p.Cells, v, format == output.FormatWide)
}

// describeStore writes the human description of one store; wide adds the Normal events.
func describeStore(w io.Writer, st output.Styles, c output.Cells, v StoreView, wide bool) error {
	var b strings.Builder
	field := func(k, v string) {
		fmt.Fprintf(&b, "%s %s\n", st.Key.Render(fmt.Sprintf("%-12s", k+":")), v)
	}
	field("Name", v.Name)
	field("Type", v.Type)
	field("Namespace", v.Namespace)
	field("Status", statusText(st, v))
	if v.Message != "" {
		field("Message", v.Message)
	}
	field("URL", orNone(v.URL))
	field("Admin URL", orNone(v.AdminURL))
	release := "<none>"
	if v.Revision > 0 {
		release = fmt.Sprintf("revision %d, %s", v.Revision, orNone(v.ReleaseStatus))
	}
	field("Release", release)
	chart := orNone(v.Chart)
	if v.ChartVersion != "" {
		chart += " " + v.ChartVersion
	}
	if v.AppVersion != "" {
		chart += " (app " + v.AppVersion + ")"
	}
	field("Chart", chart)
	if v.UpgradeAvailable != "" {
		field("Upgrade", "chart "+v.UpgradeAvailable+" available (storectl upgrade "+v.Name+")")
	}
	field("Pods ready", fmt.Sprintf("%d/%d", v.ReadyPods, v.TotalPods))
	field("Background", backgroundText(st, c, v.Background))
	field("Mail", mailText(v.Mail))
	created := c.Time(v.created)
	if !v.created.IsZero() {
		created = rfc3339(v.created) + " (" + created + " ago)"
	}
	field("Created", created)

	b.WriteString(st.Title.Render("Components:") + "\n")
	if len(v.Components) == 0 {
		b.WriteString("  <none>\n")
	} else {
		rows := make([][]string, 0, len(v.Components))
		for _, comp := range v.Components {
			ready := st.Err.Render("no")
			if comp.Ready {
				ready = st.OK.Render("yes")
			}
			rows = append(rows, []string{comp.Name, ready, comp.State, comp.Reason, oneLine(comp.Message)})
		}
		indent(&b, output.RenderTable(st, []string{"NAME", "READY", "STATE", "REASON", "MESSAGE"}, rows))
	}

	eventsBlock(&b, st, c, v.Events, wide)
	fmt.Fprintf(&b, "%s %s\n", st.Key.Render(fmt.Sprintf("%-12s", "Credentials:")), st.Code.Render("storectl credentials "+v.Name))
	_, err := io.WriteString(w, b.String())
	return err
}

// eventsBlock writes the recent warnings, or with wide every recent event and its type.
func eventsBlock(b *strings.Builder, st output.Styles, c output.Cells, events []EventView, wide bool) {
	headers := []string{"LAST SEEN", "OBJECT", "REASON", "COUNT", "MESSAGE"}
	title := "Recent warnings:"
	if wide {
		headers = []string{"LAST SEEN", "TYPE", "OBJECT", "REASON", "COUNT", "MESSAGE"}
		title = "Recent events:"
	}
	var rows [][]string
	for _, e := range events {
		if e.Type == "Normal" && !wide {
			continue
		}
		// Events recorded once through the events API carry no count.
		row := []string{c.Time(e.at), e.Object, e.Reason, strconv.Itoa(max(int(e.Count), 1)), oneLine(e.Message)}
		if wide {
			row = slices.Insert(row, 1, e.Type)
		}
		rows = append(rows, row)
	}
	b.WriteString(st.Title.Render(title) + "\n")
	if len(rows) == 0 {
		b.WriteString("  <none>\n")
		return
	}
	indent(b, output.RenderTable(st, headers, rows))
}

func indent(b *strings.Builder, block string) {
	for _, l := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
}

// backgroundText is the Background line of get: the state of the scheduled-events runs.
func backgroundText(st output.Styles, c output.Cells, b BackgroundView) string {
	switch b.State {
	case store.BackgroundOff:
		return st.Warn.Render("off") + " (" + b.Message + ")"
	case "":
		return "<unknown>"
	}
	s := b.State
	switch b.State {
	case store.BackgroundOK:
		s = st.OK.Render(s)
	case store.BackgroundFailing:
		s = st.Err.Render(s)
	}
	s += ", schedule " + b.Schedule
	if !b.lastSuccess.IsZero() {
		s += ", last success " + c.Time(b.lastSuccess) + " ago"
	}
	if b.FailedRuns > 0 {
		s += fmt.Sprintf(", %d failed runs", b.FailedRuns)
	}
	if b.Message != "" && b.State != store.BackgroundOK {
		s += " (" + oneLine(b.Message) + ")"
	}
	return s
}

// mailText is the Mail line of get.
func mailText(m string) string {
	switch m {
	case "":
		return "<unknown>"
	case "off":
		return "off (no mail leaves the store; set mail.* values to send through SMTP)"
	}
	return m
}
