package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// ChangeView is the result of an upgrade or a rollback, or of its dry run.
type ChangeView struct {
	Name           string            `json:"name"`
	Operation      string            `json:"operation"`
	DryRun         bool              `json:"dryRun"`
	Unchanged      bool              `json:"unchanged"`
	RevisionBefore int               `json:"revisionBefore"`
	RevisionAfter  int               `json:"revisionAfter"`
	ChartBefore    string            `json:"chartVersionBefore"`
	ChartAfter     string            `json:"chartVersionAfter"`
	VersionsBefore map[string]string `json:"versionsBefore"`
	VersionsAfter  map[string]string `json:"versionsAfter"`
	Source         int               `json:"source,omitempty"`
	SourceChart    string            `json:"sourceChartVersion,omitempty"`
	Changes        []ChangeObject    `json:"changes"`
	Store          *StoreView        `json:"store,omitempty"`
}

// ChangeObject is one rendered object an upgrade adds, removes or changes.
type ChangeObject struct {
	Object string `json:"object"`
	Change string `json:"change"`
	Diff   string `json:"diff,omitempty"`
}

func newChangeView(r *store.ChangeResult) ChangeView {
	v := ChangeView{Name: r.Name, Operation: r.Operation, DryRun: r.DryRun, Unchanged: r.Unchanged,
		RevisionBefore: r.RevisionBefore, RevisionAfter: r.RevisionAfter, ChartBefore: r.ChartBefore, ChartAfter: r.ChartAfter,
		VersionsBefore: r.VersionsBefore.Map(), VersionsAfter: r.VersionsAfter.Map(), Source: r.Source, SourceChart: r.SourceChart,
		Changes: []ChangeObject{}}
	for _, c := range r.Changes {
		v.Changes = append(v.Changes, ChangeObject(c))
	}
	if r.Store != nil {
		sv := newStoreView(r.Store)
		v.Store = &sv
	}
	return v
}

// versionsText is "WordPress 7.1 → 7.2, WooCommerce 11.1.2, MariaDB 11.8".
func versionsText(before, after map[string]string) string {
	var parts []string
	for _, c := range []string{store.VersionWordPress, store.VersionWooCommerce, store.VersionMariaDB} {
		b, a := orNone(before[c]), orNone(after[c])
		if b == a {
			parts = append(parts, c+" "+a)
		} else {
			parts = append(parts, fmt.Sprintf("%s %s → %s", c, b, a))
		}
	}
	return strings.Join(parts, ", ")
}

// printChange prints a change's result: the view on stdout for -o json/yaml, else a summary
// and, for a dry run, the objects that would change.
func printChange(f *Factory, format output.Format, r *store.ChangeResult) error {
	ios := f.IOStreams
	v := newChangeView(r)
	if format != "" {
		return output.NewPrinter(ios, format, f.Now()).Print(v)
	}
	st := output.NewStyles(ios.Out, ios.ColorOut())
	chart := v.ChartAfter
	if v.ChartBefore != v.ChartAfter {
		chart = v.ChartBefore + " → " + v.ChartAfter
	}
	switch {
	case r.DryRun:
		fmt.Fprintf(ios.Out, "Store %s: %s from revision %d would apply chart %s\n", v.Name, v.Operation, v.RevisionBefore, chart)
	case r.Unchanged:
		fmt.Fprintf(ios.Out, "Store %s already runs chart %s with these values; nothing was changed\n", v.Name, chart)
	default:
		fmt.Fprintf(ios.Out, "%s Store %s: %s done, revision %d → %d, chart %s\n", st.OK.Render(output.MarkOK), v.Name,
			v.Operation, v.RevisionBefore, v.RevisionAfter, chart)
	}
	fmt.Fprintf(ios.Out, "%s  %s\n", st.Key.Render("Versions:"), versionsText(v.VersionsBefore, v.VersionsAfter))
	if v.Source > 0 {
		fmt.Fprintf(ios.Out, "%s  values of revision %d (made with chart %s)\n", st.Key.Render("Source:  "), v.Source, orNone(v.SourceChart))
		if v.SourceChart != v.ChartAfter {
			fmt.Fprintf(ios.ErrOut, "Note: revision %d was made with chart %s; its values are applied with this storectl's chart %s\n",
				v.Source, orNone(v.SourceChart), v.ChartAfter)
		}
	}
	if r.DryRun {
		if len(r.Changes) == 0 {
			fmt.Fprintln(ios.Out, "No object would change.")
		}
		for _, c := range r.Changes {
			fmt.Fprintln(ios.Out, c.String())
		}
	}
	return nil
}

// FleetRow is one store of a fleet upgrade's summary.
type FleetRow struct {
	Name           string            `json:"name"`
	Outcome        string            `json:"outcome"`
	RevisionBefore int               `json:"revisionBefore"`
	RevisionAfter  int               `json:"revisionAfter"`
	ChartVersion   string            `json:"chartVersion"`
	VersionsBefore map[string]string `json:"versionsBefore"`
	VersionsAfter  map[string]string `json:"versionsAfter"`
	Error          string            `json:"error,omitempty"`
	ExitCode       int               `json:"exitCode"`
}

// Fleet outcomes.
const (
	FleetSucceeded = "succeeded"
	FleetUnchanged = "unchanged"
	FleetPlanned   = "planned"
	FleetFailed    = "failed"
)

// FleetList is the summary of a fleet upgrade; its JSON form is an array.
type FleetList []FleetRow

// Table implements output.Tabular: NAME OUTCOME REVISION CHART VERSIONS ERROR.
func (l FleetList) Table(c output.Cells, _ bool) ([]string, [][]string) {
	rows := make([][]string, 0, len(l))
	for _, r := range l {
		rev := strconv.Itoa(r.RevisionBefore)
		if r.RevisionAfter > 0 && r.RevisionAfter != r.RevisionBefore {
			rev += " → " + strconv.Itoa(r.RevisionAfter)
		}
		rows = append(rows, []string{r.Name, r.Outcome, rev, orNone(r.ChartVersion), versionsText(r.VersionsBefore, r.VersionsAfter), r.Error})
	}
	return []string{"NAME", "OUTCOME", "REVISION", "CHART", "VERSIONS", "ERROR"}, rows
}

// FleetError says how many stores of a fleet upgrade failed; its exit code is theirs when
// they all failed alike, ExitError otherwise.
type FleetError struct {
	Failed, Total int
	same          error
}

func (e *FleetError) Error() string {
	return fmt.Sprintf("%d of %d stores failed to upgrade; the summary above says why", e.Failed, e.Total)
}

// Unwrap returns the failure all failed stores share, if they share one exit code.
func (e *FleetError) Unwrap() error { return e.same }

// runFleet upgrades names, opts.Parallel at a time, past failures, and prints the summary.
func runFleet(ctx context.Context, f *Factory, opts *UpgradeOptions, names []string, run changeFunc) error {
	rows := make(FleetList, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res, err := recordChange(ctx, f, "upgrade", name, func(ctx context.Context) (*store.ChangeResult, error) {
				return run(ctx, name, nil)
			})
			rows[i], errs[i] = fleetRow(ctx, name, res, err), err
			mu.Lock()
			fmt.Fprintf(f.IOStreams.ErrOut, "%s %s %s\n", fleetMark(rows[i].Outcome), name, rows[i].Outcome)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := printFleet(f, opts.Format, rows); err != nil {
		return err
	}
	return fleetErr(ctx, rows, errs)
}

func fleetRow(ctx context.Context, name string, res *store.ChangeResult, err error) FleetRow {
	row := FleetRow{Name: name, Outcome: FleetSucceeded, VersionsBefore: map[string]string{}, VersionsAfter: map[string]string{}}
	if res != nil {
		row.RevisionBefore, row.RevisionAfter, row.ChartVersion = res.RevisionBefore, res.RevisionAfter, res.ChartAfter
		row.VersionsBefore, row.VersionsAfter = res.VersionsBefore.Map(), res.VersionsAfter.Map()
		switch {
		case res.DryRun:
			row.Outcome = FleetPlanned
		case res.Unchanged:
			row.Outcome, row.RevisionAfter = FleetUnchanged, res.RevisionBefore
		}
	}
	if err != nil {
		err = explain(ctx, err, name, "upgrade")
		row.Outcome, row.Error, row.ExitCode = FleetFailed, err.Error(), ExitCode(err)
	}
	return row
}

func fleetMark(outcome string) string {
	if outcome == FleetFailed {
		return output.MarkFail
	}
	return output.MarkOK
}

func printFleet(f *Factory, format output.Format, rows FleetList) error {
	if rows == nil {
		rows = FleetList{}
	}
	if format == "" {
		format = output.FormatTable
	}
	if len(rows) == 0 && format == output.FormatTable {
		return nil
	}
	return output.NewPrinter(f.IOStreams, format, f.Now()).Print(rows)
}

func fleetErr(ctx context.Context, rows FleetList, errs []error) error {
	fe := &FleetError{Total: len(rows)}
	codes := map[int]bool{}
	for i, err := range errs {
		if err != nil {
			fe.Failed++
			codes[ExitCode(err)] = true
			if fe.same == nil {
				fe.same = explain(ctx, err, rows[i].Name, "upgrade")
			}
		}
	}
	if fe.Failed == 0 {
		return nil
	}
	if len(codes) > 1 {
		fe.same = nil
	}
	return fe
}
