package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/output"
)

// ConfigViewOptions are the inputs of `storectl config view`.
type ConfigViewOptions struct {
	Factory *Factory
	Output  string
	Format  output.Format
}

var configViewFormats = []output.Format{output.FormatTable, output.FormatJSON, output.FormatYAML}

// NewCmdConfig returns `storectl config` and its subcommands.
func NewCmdConfig(f *Factory, runF func(*ConfigViewOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Show storectl's own configuration",
		Long: `Show storectl's own settings: the profile, domain, ingress, limits and paths it
resolves from flags, STORECTL_* variables, the config file and the profile
(docs/configuration.md). This is not the kubeconfig; kubectl config manages that.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %s", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return &UsageError{Err: errors.New(msg), Cmd: cmd.CommandPath()}
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.SuggestionsMinimumDistance = 2
	cmd.AddCommand(newCmdConfigView(f, runF))
	return cmd
}

func newCmdConfigView(f *Factory, runF func(*ConfigViewOptions) error) *cobra.Command {
	opts := &ConfigViewOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "view [flags]",
		Short: "Print the effective settings and where each value comes from",
		Long: `Print every setting with the value storectl would use and its source: flag,
env STORECTL_*, file <path>:<line> (with the profile section), profile <profile> or
default. The config file read, or the one looked for, is named on stderr.

Nothing here is secret: storectl has no setting for a password or a token. It only
points at the kubeconfig, whose credentials this command never reads.

An invalid value is shown with its source and reported after the table (exit 2).`,
		Example: `  # The settings of the default profile
  storectl config view

  # What prod resolves to, as JSON
  storectl config view --profile prod -o json

  # Where the audit log goes
  storectl config view -o json | jq -r '.settings[] | select(.key == "audit-path") | .value'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = parseOutput(cmd, opts.Output, configViewFormats...); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return configViewRun(opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, configViewFormats...)
	return cmd
}

// ConfigView is the -o json/yaml shape of `storectl config view`.
type ConfigView struct {
	// File is the config file that was read; "" when there was none.
	File     string           `json:"file"`
	Settings []config.Setting `json:"settings"`
}

// Table lists one setting per row.
func (v ConfigView) Table(output.Cells, bool) ([]string, [][]string) {
	rows := make([][]string, 0, len(v.Settings))
	for _, s := range v.Settings {
		rows = append(rows, []string{s.Key, settingText(s.Value), s.Source.String()})
	}
	return []string{"KEY", "VALUE", "SOURCE"}, rows
}

// settingText renders a value as it is written in the environment; empty is <none>.
func settingText(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int:
		s = strconv.Itoa(x)
	case []string:
		s = strings.Join(x, ",")
	case map[string]string:
		pairs := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			pairs = append(pairs, k+"="+x[k])
		}
		s = strings.Join(pairs, ",")
	default:
		s = fmt.Sprint(x)
	}
	if s == "" {
		return "<none>"
	}
	return s
}

func configViewRun(opts *ConfigViewOptions) error {
	f := opts.Factory
	cfg, loadErr := f.Config()
	if cfg == nil {
		// The file could not be parsed: there are no values to show.
		return loadErr
	}
	ios := f.IOStreams
	st := ios.StderrStyles()
	if cfg.File != "" {
		fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Muted.Render("Config file:"), cfg.File)
	} else {
		fmt.Fprintf(ios.ErrOut, "%s none (%s does not exist)\n", st.Muted.Render("Config file:"), config.DefaultFilePath())
	}
	view := ConfigView{File: cfg.File, Settings: cfg.Settings()}
	if err := output.NewPrinter(ios, opts.Format, f.Now()).Print(view); err != nil {
		return errors.Join(err, loadErr)
	}
	return loadErr
}
