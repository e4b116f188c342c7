package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/stats"
)

// StatsOptions are the inputs of `storectl stats`.
type StatsOptions struct {
	Factory *Factory
	Since   time.Duration
	Action  string
	Cluster bool
	Output  string
	Format  output.Format
}

var statsFormats = []output.Format{output.FormatTable, output.FormatJSON}

// Sources of the figures.
const (
	statsSourceAudit   = "audit-log"
	statsSourceCluster = "cluster"
)

// NewCmdStats returns `storectl stats`.
func NewCmdStats(f *Factory, runF func(*StatsOptions) error) *cobra.Command {
	opts := &StatsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "stats [flags]",
		Short: "Show counts, durations and failure reasons of store operations",
		Long: `Show, per action, how many runs succeeded, failed or were interrupted, the
p50, p95 and maximum duration of the runs that succeeded (nearest rank, with n,
the number of runs they are taken over), and the most frequent failure reasons.

By default the figures come from this machine's audit log. With --cluster they
come from the cluster, for every store whichever machine created it: a store's
provisioning runs from its namespace's creation to the end of its setup Job
(until an upgrade replaces that Job), so every team member sees the same figures.`,
		Example: `  # What this machine did in the last 30 days
  storectl stats --since 720h

  # Only creates, as JSON
  storectl stats --action create -o json

  # Provisioning figures of every store in the cluster
  storectl stats --cluster`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, statsFormats...); err != nil {
				return err
			}
			if opts.Since < 0 {
				return usageErrorf(cmd, "invalid --since %s: give a positive duration such as 24h", opts.Since)
			}
			if opts.Cluster && opts.Action != "" && opts.Action != "create" {
				return usageErrorf(cmd, "--cluster has figures of create only, not of %q", opts.Action)
			}
			if runF != nil {
				return runF(opts)
			}
			return statsRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.Since, "since", 0, "only operations that ended less than this long ago, e.g. 720h (default: all)")
	fl.StringVar(&opts.Action, "action", "", "only this action: create or delete")
	fl.BoolVar(&opts.Cluster, "cluster", false, "figures of every store in the cluster, from the cluster, instead of this machine's audit log")
	addOutputFlag(cmd, &opts.Output, statsFormats...)
	_ = cmd.RegisterFlagCompletionFunc("action", fixedCompletion("create", "delete"))
	return cmd
}

func statsRun(ctx context.Context, opts *StatsOptions) error {
	f := opts.Factory
	var since time.Time
	if opts.Since > 0 {
		since = f.Now().Add(-opts.Since)
	}
	var samples []stats.Sample
	var err error
	source := statsSourceAudit
	if opts.Cluster {
		source = statsSourceCluster
		samples, err = clusterSamples(ctx, f, since)
	} else {
		samples, err = auditSamples(f, opts.Action, since)
	}
	if err != nil {
		return err
	}
	ended, provisioning := splitProvisioning(samples)
	view := newStatsView(source, stats.Summarize(ended))
	view.Provisioning = provisioning
	p := output.NewPrinter(f.IOStreams, opts.Format, f.Now())
	if opts.Format == output.FormatJSON {
		return p.Print(view)
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Source: %s\n", sourceText(source))
	if len(view.Actions) == 0 {
		fmt.Fprintln(f.IOStreams.ErrOut, "No operations match.")
		return nil
	}
	return p.Print(view)
}

func sourceText(source string) string {
	if source == statsSourceCluster {
		return "the cluster (every store: namespace creation to the end of its setup Job)"
	}
	return "this machine's audit log (what storectl did from here)"
}

// auditSamples reads the audit log.
func auditSamples(f *Factory, action string, since time.Time) ([]stats.Sample, error) {
	log, err := f.Audit()
	if err != nil {
		return nil, err
	}
	recs, err := log.Query(audit.Filter{Action: action, Since: since})
	if errors.Is(err, audit.ErrLocked) {
		return nil, withHint(err, "retry when the other storectl process has finished, or point --audit-path at another file")
	}
	if err != nil {
		return nil, err
	}
	out := make([]stats.Sample, 0, len(recs))
	for _, r := range recs {
		out = append(out, stats.Sample{Action: r.Action, Outcome: r.Outcome, Reason: r.Reason, Duration: r.Duration})
	}
	return out, nil
}

// clusterSamples reads every store's provisioning from the cluster; stores still
// provisioning have outcome "" and are counted apart.
func clusterSamples(ctx context.Context, f *Factory, since time.Time) ([]stats.Sample, error) {
	if f.Ops == nil {
		return nil, errors.New("cluster figures are not available in this build")
	}
	ops, err := f.Ops()
	if err != nil {
		return nil, err
	}
	ps, err := ops.Cluster.Provisionings(ctx)
	if err != nil {
		return nil, explain(ctx, err, "", "stats")
	}
	var out []stats.Sample
	for _, p := range ps {
		if !since.IsZero() && (p.DoneAt.IsZero() || p.DoneAt.Before(since)) && p.CreatedAt.Before(since) {
			continue
		}
		out = append(out, stats.Sample{Action: "create", Outcome: p.Outcome, Reason: p.Reason, Duration: p.Duration()})
	}
	return out, nil
}

// splitProvisioning separates the samples that ended from the stores still provisioning
// (no outcome yet), which are counted apart.
func splitProvisioning(samples []stats.Sample) ([]stats.Sample, int) {
	ended := make([]stats.Sample, 0, len(samples))
	for _, s := range samples {
		if s.Outcome != "" {
			ended = append(ended, s)
		}
	}
	return ended, len(samples) - len(ended)
}

// StatsView is the stable -o json shape of `storectl stats`.
type StatsView struct {
	// Source is "audit-log" (this machine) or "cluster" (every store).
	Source string `json:"source"`
	// Provisioning counts the stores still provisioning (cluster source only).
	Provisioning int               `json:"provisioning"`
	Actions      []ActionStatsView `json:"actions"`
}

// ActionStatsView is the figures of one action; durations are in seconds.
type ActionStatsView struct {
	Action      string         `json:"action"`
	Count       int            `json:"count"`
	Succeeded   int            `json:"succeeded"`
	Failed      int            `json:"failed"`
	Interrupted int            `json:"interrupted"`
	N           int            `json:"n"`
	P50Seconds  float64        `json:"p50Seconds"`
	P95Seconds  float64        `json:"p95Seconds"`
	MaxSeconds  float64        `json:"maxSeconds"`
	Reasons     []ReasonCounts `json:"reasons"`
}

// ReasonCounts is how often one reason ended an action.
type ReasonCounts struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

func newStatsView(source string, actions []stats.Action) StatsView {
	v := StatsView{Source: source, Actions: []ActionStatsView{}}
	for _, a := range actions {
		av := ActionStatsView{Action: a.Action, Count: a.Count, Succeeded: a.Outcomes[stats.OutcomeSucceeded],
			Failed: a.Outcomes[stats.OutcomeFailed], Interrupted: a.Outcomes[stats.OutcomeInterrupted], N: a.N,
			P50Seconds: a.P50.Seconds(), P95Seconds: a.P95.Seconds(), MaxSeconds: a.Max.Seconds(), Reasons: []ReasonCounts{}}
		for _, r := range a.Reasons {
			av.Reasons = append(av.Reasons, ReasonCounts{Reason: r.Reason, Count: r.Count})
		}
		v.Actions = append(v.Actions, av)
	}
	return v
}

// Table implements output.Tabular.
func (v StatsView) Table(c output.Cells, wide bool) ([]string, [][]string) {
	rows := make([][]string, 0, len(v.Actions))
	for _, a := range v.Actions {
		d := func(s float64) string {
			if a.N == 0 {
				return "-"
			}
			return c.Duration(time.Duration(s * float64(time.Second)))
		}
		rows = append(rows, []string{a.Action, strconv.Itoa(a.Count), strconv.Itoa(a.Succeeded), strconv.Itoa(a.Failed),
			strconv.Itoa(a.Interrupted), strconv.Itoa(a.N), d(a.P50Seconds), d(a.P95Seconds), d(a.MaxSeconds), reasonsText(a.Reasons)})
	}
	return []string{"ACTION", "COUNT", "SUCCEEDED", "FAILED", "INTERRUPTED", "N", "P50", "P95", "MAX", "TOP FAILURE REASONS"}, rows
}

func reasonsText(rs []ReasonCounts) string {
	if len(rs) == 0 {
		return "-"
	}
	rs = append([]ReasonCounts(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Count > rs[j].Count })
	if len(rs) > 3 {
		rs = rs[:3]
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s (%d)", r.Reason, r.Count)
	}
	return strings.Join(parts, ", ")
}
