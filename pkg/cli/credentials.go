package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// CredentialsOptions are the inputs of `storectl credentials`.
type CredentialsOptions struct {
	Factory *Factory
	Name    string
	Output  string
	Format  output.Format
}

// NewCmdCredentials returns `storectl credentials`.
func NewCmdCredentials(f *Factory, runF func(*CredentialsOptions) error) *cobra.Command {
	opts := &CredentialsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "credentials <name> [flags]",
		Short: "Print the admin URL, user and password of a store",
		Long: `Print the WordPress admin URL, user and password of a store, read from the
store's Secret. This is the only storectl command that prints a secret.

Output formats (-o): text for humans (default), json, yaml.`,
		Example: `  # Show the admin login
  storectl credentials shop

  # Extract the password in a script
  storectl credentials shop -o json | jq -r .password`,
		Args:              exactNames("store name"),
		ValidArgsFunction: completeStoreNames(f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := store.ValidateName(opts.Name); err != nil {
				return err
			}
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return credentialsRun(cmd.Context(), opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	return cmd
}

func credentialsRun(ctx context.Context, opts *CredentialsOptions) error {
	f := opts.Factory
	eng, err := f.Engine()
	if err != nil {
		return explain(ctx, err, opts.Name, "credentials")
	}
	c, err := eng.Credentials(ctx, opts.Name)
	if err != nil {
		return explain(ctx, err, opts.Name, "credentials")
	}
	view := CredentialsView(*c)
	if opts.Format != "" {
		return output.NewPrinter(f.IOStreams, opts.Format, f.Now()).Print(view)
	}
	st := f.IOStreams.StdoutStyles()
	for _, kv := range [][2]string{{"Store", view.Store}, {"URL", view.URL}, {"Admin URL", view.AdminURL},
		{"User", view.User}, {"Password", view.Password}} {
		if _, err := fmt.Fprintf(f.IOStreams.Out, "%s %s\n", st.Key.Render(fmt.Sprintf("%-10s", kv[0]+":")), kv[1]); err != nil {
			return err
		}
	}
	return nil
}
