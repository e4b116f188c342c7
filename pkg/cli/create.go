package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// CreateOptions are the inputs of `storectl create`.
type CreateOptions struct {
	Factory *Factory

	Name       string
	Type       string
	Sets       []string
	ValuesFile string
	Wait       bool
	Timeout    time.Duration
	Output     string

	// Resolved before the run: parsed -o and the merged chart values.
	Format output.Format
	Values map[string]any
}

// NewCmdCreate returns `storectl create`.
func NewCmdCreate(f *Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{Factory: f}
	cmd := &cobra.Command{
		Use:         "create <name> [flags]",
		Annotations: map[string]string{annotationNeedsDomain: "true"},
		Short:       "Create a store and wait until it is ready",
		Long: `Create a store: its namespace store-<name> (Pod Security "restricted"), its
credentials Secret and the Helm release of the embedded chart, then watch the
database, WordPress, the WooCommerce setup and the ingress until the store is ready.

The name is checked before anything reaches the cluster: 1-40 lowercase letters,
digits and hyphens, starting with a letter, not ending with a hyphen, not reserved.

--set and --values tune what is the user's: sizes, versions, images, texts, the
sample product, mail. Values that decide the store's identity, credentials,
isolation or host name are storectl's and are refused, naming the key, before
anything reaches the cluster (see docs/security.md). --values reads at most 1 MiB.

Running create again for a store whose create was interrupted resumes it.`,
		Example: `  # Create a store and wait until it is ready
  storectl create shop

  # Create a store under your own domain with the prod profile
  storectl create shop --profile prod --domain shops.example.com

  # Override chart values, Helm style
  storectl create shop --set wordpress.resources.limits.memory=1Gi --values shop.yaml

  # Submit without waiting and print the store as JSON
  storectl create shop --wait=false -o json`,
		Args:              exactNames("store name"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			if opts.Type != store.TypeWooCommerce {
				return fmt.Errorf("%w %q: the only store type is %q", store.ErrUnknownType, opts.Type, store.TypeWooCommerce)
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if opts.Values, err = chartValues(opts.ValuesFile, opts.Sets); err != nil {
				var ue *UsageError
				if errors.As(err, &ue) {
					ue.Cmd = cmd.CommandPath()
				}
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", store.TypeWooCommerce, "store type")
	fl.StringArrayVar(&opts.Sets, "set", nil, "set a chart value, Helm syntax key=value (repeatable)")
	fl.StringVarP(&opts.ValuesFile, "values", "f", "", "YAML file of chart values")
	fl.BoolVar(&opts.Wait, "wait", true, "wait until the store is ready")
	fl.DurationVar(&opts.Timeout, config.KeyTimeout, 0, "how long to wait (default: the timeout setting, 10m)")
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	addStoreSettingFlags(cmd)
	addUnschedulableGraceFlag(cmd)
	_ = cmd.RegisterFlagCompletionFunc("type", fixedCompletion(store.TypeWooCommerce))
	_ = cmd.MarkFlagFilename("values", "yaml", "yml")
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) (err error) {
	f := opts.Factory
	ios := f.IOStreams
	if opts.Timeout, err = f.timeout(opts.Timeout); err != nil {
		return err
	}
	// Values that are storectl's to decide are refused before the cluster is touched, and
	// before the attempt is recorded: nothing was done.
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	if err := store.CheckValues(opts.Name, opts.Values, settingsFrom(cfg)); err != nil {
		return explain(ctx, err, opts.Name, "create")
	}
	if err := preflight(ctx, f, opts.Timeout); err != nil {
		return explain(ctx, err, opts.Name, "create")
	}

	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, opts.Name, "create")
	}

	// From here on the cluster may change, so the attempt is recorded however it ends.
	trail := beginAudit(ctx, f, "create", opts.Name)
	var created *store.Store
	defer func() {
		chartVersion := ""
		if created != nil {
			chartVersion = created.ChartVersion
		}
		trail.end(ctx, chartVersion, err)
	}()
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "Creating store %s (%s)\n", st.Key.Render(opts.Name), opts.Type)
	progress, onProgress := newProgress(f)
	created, err = eng.Create(ctx, store.CreateOptions{
		Name:       opts.Name,
		Type:       opts.Type,
		Values:     opts.Values,
		Wait:       opts.Wait,
		Timeout:    opts.Timeout,
		OnProgress: onProgress,
	})
	progress.Stop()
	if err != nil {
		if errors.Is(err, store.ErrAlreadyExists) && created != nil && opts.Format != "" {
			// Scripts that create idempotently still get the store they asked for.
			if perr := output.NewPrinter(ios, opts.Format, f.Now()).Print(newStoreView(created)); perr != nil {
				return perr
			}
		}
		err = explain(ctx, err, opts.Name, "create")
		if ExitCode(err) == ExitTimeout || errors.Is(err, store.ErrFailed) {
			printLastState(f, progress, err)
		}
		return err
	}
	return printCreated(f, opts, created)
}

// printCreated prints the result: the store on stdout (human summary, or -o json/yaml), and
// for humans the next commands on stderr.
func printCreated(f *Factory, opts *CreateOptions, s *store.Store) error {
	ios := f.IOStreams
	summary := ios.Out
	if opts.Format != "" {
		p := output.NewPrinter(ios, opts.Format, f.Now())
		if err := p.Print(newStoreView(s)); err != nil {
			return err
		}
		summary = ios.ErrOut
	}
	st := output.NewStyles(summary, summaryColor(ios, summary))
	if opts.Wait {
		fmt.Fprintf(summary, "%s Store %s is ready\n", st.OK.Render(output.MarkOK), s.Name)
	} else {
		fmt.Fprintf(summary, "Store %s is submitted and %s\n", s.Name, st.Status(string(s.Phase)))
	}
	fmt.Fprintf(summary, "%s  %s\n", st.Key.Render("URL:      "), orNone(s.URL))
	fmt.Fprintf(summary, "%s  %s\n", st.Key.Render("Admin URL:"), orNone(s.AdminURL))
	hs := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s run %s for the admin user and password\n",
		hs.Muted.Render("Next:"), hs.Code.Render("storectl credentials "+s.Name))
	if !opts.Wait {
		fmt.Fprintf(ios.ErrOut, "%s run %s to wait until it is ready\n",
			hs.Muted.Render("Next:"), hs.Code.Render("storectl wait "+s.Name+" --for ready"))
	}
	return nil
}

// summaryColor tells whether w, one of the two output streams, may carry colour.
func summaryColor(ios *output.IOStreams, w io.Writer) bool {
	if w == ios.Out {
		return ios.ColorOut()
	}
	return ios.ColorErr()
}
