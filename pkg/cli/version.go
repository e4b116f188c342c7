package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/output"
)

// VersionOptions are the inputs of `storectl version`.
type VersionOptions struct {
	IO     *output.IOStreams
	Build  BuildInfo
	Output string
}

// VersionView is the -o json shape of `storectl version`.
type VersionView struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// NewCmdVersion returns `storectl version`.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IOStreams, Build: f.Build}
	cmd := &cobra.Command{
		Use:   "version [flags]",
		Short: "Print the version of storectl",
		Example: `  # Print the version
  storectl version

  # Print version, commit and build date as JSON
  storectl version -o json`,
		Args: noArgs,
		// The version never needs the configuration or the cluster.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseOutput(cmd, opts.Output, "", output.FormatJSON, output.FormatYAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, "", output.FormatJSON, output.FormatYAML)
	return cmd
}

func versionView(b BuildInfo) VersionView {
	v := VersionView{Version: b.Version, Commit: b.Commit, Date: b.Date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.Date == "" {
		v.Date = "unknown"
	}
	return v
}

func versionRun(opts *VersionOptions) error {
	v := versionView(opts.Build)
	if opts.Output != "" {
		p := output.NewPrinter(opts.IO, output.Format(opts.Output), timeZero)
		return p.Print(v)
	}
	_, err := fmt.Fprintf(opts.IO.Out, "storectl %s (commit %s, built %s, %s, %s)\n",
		v.Version, v.Commit, v.Date, v.GoVersion, v.Platform)
	return err
}
