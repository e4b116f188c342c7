package cli

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// HistoryOptions are the inputs of `storectl history`.
type HistoryOptions struct {
	Factory *Factory
	Name    string
	Output  string
	Format  output.Format
}

// NewCmdHistory returns `storectl history`.
func NewCmdHistory(f *Factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "history <name> [flags]",
		Short: "Show the revisions of a store",
		Long: `Show the revisions of a store's release, oldest first: when each was applied, its
status, chart version, the WordPress, WooCommerce and MariaDB versions it runs, the
operation that made it (install, upgrade or rollback) and, from this machine's audit
log, who ran it and how long it took. The cluster keeps the last 10 revisions, and
never drops the one deployed.`,
		Example: `  # Show the revisions of a store
  storectl history shop

  # The same as JSON
  storectl history shop -o json`,
		Args:              exactNames("store name"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, output.FormatTable, output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return historyRun(cmd.Context(), opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, output.FormatTable, output.FormatJSON, output.FormatYAML)
	return cmd
}

// RevisionView is one revision of a store.
type RevisionView struct {
	Revision     int               `json:"revision"`
	Time         string            `json:"time"`
	Status       string            `json:"status"`
	ChartVersion string            `json:"chartVersion"`
	Versions     map[string]string `json:"versions"`
	Operation    string            `json:"operation"`
	Source       int               `json:"source,omitempty"`
	Description  string            `json:"description"`
	// Actor and DurationSeconds come from this machine's audit log; empty when it has no record.
	Actor           string  `json:"actor"`
	DurationSeconds float64 `json:"durationSeconds,omitempty"`

	at       time.Time
	duration time.Duration
}

// HistoryList is the view of `storectl history`; its JSON form is an array.
type HistoryList []RevisionView

// Table implements output.Tabular.
func (l HistoryList) Table(c output.Cells, _ bool) ([]string, [][]string) {
	rows := make([][]string, 0, len(l))
	for _, v := range l {
		op := v.Operation
		if v.Source > 0 {
			op += " to " + strconv.Itoa(v.Source)
		}
		dur := ""
		if v.duration > 0 {
			dur = c.Duration(v.duration)
		}
		rows = append(rows, []string{strconv.Itoa(v.Revision), c.Time(v.at), v.Status, orNone(v.ChartVersion),
			orNone(v.Versions[store.VersionWordPress]), orNone(v.Versions[store.VersionWooCommerce]), orNone(v.Versions[store.VersionMariaDB]),
			op, orNone(v.Actor), orNone(dur), v.Description})
	}
	return []string{"REVISION", "TIME", "STATUS", "CHART", "WORDPRESS", "WOOCOMMERCE", "MARIADB", "OPERATION", "ACTOR", "DURATION", "DESCRIPTION"}, rows
}

func historyRun(ctx context.Context, opts *HistoryOptions) error {
	f := opts.Factory
	_, ch, err := changerOf(f)
	if err != nil {
		return explain(ctx, err, opts.Name, "history")
	}
	entries, err := ch.History(ctx, opts.Name)
	if err != nil {
		return explain(ctx, err, opts.Name, "history")
	}
	var recs []audit.Record
	if log, err := f.Audit(); err == nil {
		recs, _ = log.Query(audit.Filter{Store: opts.Name})
	}
	out := make(HistoryList, 0, len(entries))
	for _, e := range entries {
		v := RevisionView{Revision: e.Revision, Time: rfc3339(e.Time), Status: e.Status, ChartVersion: e.ChartVersion,
			Versions: e.Versions.Map(), Operation: e.Operation, Source: e.Source, Description: e.Description, at: e.Time}
		if r := auditOf(recs, e); r != nil {
			v.Actor, v.duration, v.DurationSeconds = r.Actor, r.Duration, r.Duration.Seconds()
		}
		out = append(out, v)
	}
	return output.NewPrinter(f.IOStreams, opts.Format, f.Now()).Print(out)
}

// auditOf finds the audit record of the operation that made a revision: an upgrade or a
// rollback records the revision it made; a create is the one that ended nearest the
// revision's time, within two minutes.
func auditOf(recs []audit.Record, e store.HistoryEntry) *audit.Record {
	var best *audit.Record
	var bestGap time.Duration
	for i := range recs {
		r := &recs[i]
		switch {
		case (r.Action == "upgrade" || r.Action == "rollback") && r.RevisionAfter == e.Revision:
			return r
		case r.Action == "create" && e.Operation == store.OperationInstall:
			gap := r.Time.Sub(e.Time)
			if gap < 0 {
				gap = -gap
			}
			if gap <= 2*time.Minute && (best == nil || gap < bestGap) {
				best, bestGap = r, gap
			}
		}
	}
	return best
}
