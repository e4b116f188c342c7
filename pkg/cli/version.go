package cli

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/charts"
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
	// Chart is the store chart embedded in the binary, which every create installs.
	Chart ChartVersionView `json:"chart"`
}

// ChartVersionView names the embedded chart and its versions.
type ChartVersionView struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
}

// NewCmdVersion returns `storectl version`.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IOStreams, Build: f.Build}
	cmd := &cobra.Command{
		Use:   "version [flags]",
		Short: "Print the version of storectl and of the store chart it embeds",
		Long: `Print the version of storectl, the commit and date it was built from, the Go
version and platform, and the version of the store chart embedded in the binary
(the chart every create installs).

Output formats (-o): a line for humans (default), json, yaml.`,
		Example: `  # Print the version
  storectl version

  # Print version, commit, build date and chart version as JSON
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
	v.Chart = embeddedChart()
	return v
}

// embeddedChart reads the name and versions of the embedded chart from its Chart.yaml; the
// chart is compiled in, so a failure here is a broken build, reported as "unknown".
func embeddedChart() ChartVersionView {
	c := ChartVersionView{Name: charts.Name, Version: "unknown", AppVersion: "unknown"}
	if v, app, err := charts.Version(); err == nil {
		c.Version, c.AppVersion = v, app
	}
	return c
}

func versionRun(opts *VersionOptions) error {
	v := versionView(opts.Build)
	if opts.Output != "" {
		p := output.NewPrinter(opts.IO, output.Format(opts.Output), timeZero)
		return p.Print(v)
	}
	build := "built " + v.Date
	// git describe gives the commit itself, or ends in -g<commit>, on untagged builds: say it once.
	if v.Commit != "unknown" && !strings.Contains(v.Version, v.Commit) {
		build = "commit " + v.Commit + ", " + build
	}
	_, err := fmt.Fprintf(opts.IO.Out, "storectl %s (%s, %s, %s), chart %s %s (app %s)\n",
		v.Version, build, v.GoVersion, v.Platform, v.Chart.Name, v.Chart.Version, v.Chart.AppVersion)
	return err
}
