package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/output"
)

// AuditOptions are the inputs of `storectl audit`.
type AuditOptions struct {
	Factory   *Factory
	Store     string
	Action    string
	Since     time.Duration
	Limit     int
	Output    string
	Format    output.Format
	NoHeaders bool
}

var auditFormats = []output.Format{output.FormatTable, output.FormatWide, output.FormatJSON, output.FormatYAML, output.FormatName}

// NewCmdAudit returns `storectl audit`.
func NewCmdAudit(f *Factory, runF func(*AuditOptions) error) *cobra.Command {
	opts := &AuditOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "audit [flags]",
		Short: "Show what storectl did from this machine",
		Long: `Show the local audit log, newest first: every create and delete run from this
machine with its actor, cluster, outcome, error and duration. It is history, not
state: which stores exist always comes from the cluster (storectl list).

AGE and DURATION are relative in the table, also in a pipe; -o wide adds the exact
TIME, and -o json/yaml carry it as time.

Output formats (-o): table (default), wide, json, yaml, name.`,
		Example: `  # Everything of the last day
  storectl audit --since 24h

  # The last 5 deletes of one store, as JSON
  storectl audit --store shop --action delete --limit 5 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, auditFormats...); err != nil {
				return err
			}
			if opts.Since < 0 {
				return usageErrorf(cmd, "invalid --since %s: give a positive duration such as 24h", opts.Since)
			}
			if opts.Limit < 0 {
				return usageErrorf(cmd, "invalid --limit %d: give 0 (no limit) or more", opts.Limit)
			}
			if runF != nil {
				return runF(opts)
			}
			return auditRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Store, "store", "", "only records of this store")
	fl.StringVar(&opts.Action, "action", "", "only records of this action: create or delete")
	fl.DurationVar(&opts.Since, "since", 0, "only records newer than this, e.g. 24h (default: all)")
	fl.IntVar(&opts.Limit, "limit", 0, "at most this many records, newest first (default: all)")
	fl.BoolVar(&opts.NoHeaders, "no-headers", false, "leave out the header line of the table")
	addOutputFlag(cmd, &opts.Output, auditFormats...)
	_ = cmd.RegisterFlagCompletionFunc("action", fixedCompletion("create", "delete"))
	_ = cmd.RegisterFlagCompletionFunc("store", completeAuditStores(f))
	return cmd
}

func auditRun(opts *AuditOptions) error {
	f := opts.Factory
	log, err := f.Audit()
	if err != nil {
		return err
	}
	filter := audit.Filter{Store: opts.Store, Action: opts.Action, Limit: opts.Limit}
	if opts.Since > 0 {
		filter.Since = f.Now().Add(-opts.Since)
	}
	recs, err := log.Query(filter)
	if errors.Is(err, audit.ErrLocked) {
		return withHint(err, "retry when the other storectl process has finished, or point --audit-path at another file")
	}
	if err != nil {
		return err
	}
	view := newAuditList(recs)
	if len(view) == 0 && (opts.Format == output.FormatTable || opts.Format == output.FormatWide) {
		fmt.Fprintln(f.IOStreams.ErrOut, "No audit records match.")
		return nil
	}
	p := output.NewPrinter(f.IOStreams, opts.Format, f.Now())
	p.NoHeaders = opts.NoHeaders
	return p.Print(view)
}
