// Package cli holds storectl's cobra commands: each parses flags into an Options struct,
// calls the engine and prints through pkg/output.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/output"
)

// Main runs storectl with the process's arguments and returns its exit code. SIGINT and
// SIGTERM cancel the command's context; a second signal kills the process.
func Main(build BuildInfo) int {
	// client-go would print its own lines (a cancelled request, a re-established watch) in
	// the middle of storectl's output; storectl reports those conditions itself.
	kube.QuietLogs()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore default handling so a second Ctrl-C ends the process at once
	}()
	ios := output.System()
	return Run(ctx, NewFactory(ios, build), os.Args[1:])
}

// Run executes one command line and returns the exit code; errors are printed to stderr.
func Run(ctx context.Context, f *Factory, args []string) int {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--no-color" || a == "--no-color=true" {
			// Also for errors found while the flags are parsed, before any hook runs.
			f.IOStreams.ColorEnabled = false
		}
	}
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		if ctx.Err() != nil && ExitCode(err) != ExitInterrupted {
			// The signal arrived while the engine was returning another error; the user
			// asked to stop, so report it as an interruption.
			err = &interruptedError{err: err}
		}
		PrintError(f.IOStreams, err)
	}
	return ExitCode(err)
}

// NewCmdRoot returns the storectl command with every subcommand.
func NewCmdRoot(f *Factory) *cobra.Command {
	var noColor bool
	cmd := &cobra.Command{
		Use:   "storectl <command> [flags]",
		Short: "Provision and manage WooCommerce stores on Kubernetes",
		Long: `storectl provisions, watches and deletes WooCommerce stores on Kubernetes, one
namespace per store, with the Helm SDK and the kubeconfig you already use.

Settings come from flags, STORECTL_* environment variables, the config file
($XDG_CONFIG_HOME/storectl/config.yaml or --config) and the profile (local or prod),
in that order of precedence.`,
		Example: `  # Create a store on the local sandbox and wait until it is ready
  storectl create shop

  # See every store and its status
  storectl list

  # Print the admin password
  storectl credentials shop`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for storectl", args[0])
			if s := closest(args[0], cmd.SuggestionsFor(args[0])); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return &UsageError{Err: errors.New(msg), Cmd: "storectl"}
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if noColor {
				f.IOStreams.ColorEnabled = false
			}
			f.setCommand(cmd)
			return nil
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SuggestionsMinimumDistance = 2
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: err, Cmd: c.CommandPath()}
	})

	pf := cmd.PersistentFlags()
	addSettingFlags(cmd, pf, config.FlagGlobal)
	pf.String(config.FlagConfig, "", "config file (default: $XDG_CONFIG_HOME/storectl/config.yaml)")
	pf.BoolVar(&noColor, "no-color", false, "disable colour; the live progress view stays (also: NO_COLOR=1)")
	_ = cmd.RegisterFlagCompletionFunc(config.KeyContext, completeContexts(f))

	cmd.AddGroup(
		&cobra.Group{ID: "stores", Title: "Store commands:"},
		&cobra.Group{ID: "other", Title: "Other commands:"},
	)
	for _, c := range []*cobra.Command{
		NewCmdCreate(f, nil),
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdDelete(f, nil),
		NewCmdWait(f, nil),
		NewCmdCredentials(f, nil),
		NewCmdLogs(f, nil),
		NewCmdEvents(f, nil),
		NewCmdBackup(f, nil),
		NewCmdRestore(f, nil),
		NewCmdUpgrade(f, nil),
		NewCmdRollback(f, nil),
		NewCmdHistory(f, nil),
	} {
		c.GroupID = "stores"
		cmd.AddCommand(c)
	}
	for _, c := range []*cobra.Command{
		NewCmdDoctor(f, nil),
		NewCmdStats(f, nil),
		NewCmdAudit(f, nil),
		NewCmdServe(f, nil),
		NewCmdConfig(f, nil),
		NewCmdVersion(f, nil),
		NewCmdCompletion(f),
	} {
		c.GroupID = "other"
		cmd.AddCommand(c)
	}
	cmd.AddCommand(newHelpTopicExitCodes())
	cmd.SetHelpCommandGroupID("other")
	completeHelpTopics(cmd)
	explainDurationFlags(cmd)
	return cmd
}

// explainDurationFlags makes every duration flag of the tree answer a malformed value with
// an example of a good one, instead of Go's bare "time: invalid duration".
func explainDurationFlags(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Value.Type() == "duration" {
			fl.Value = durationValue{fl.Value}
			// pflag recognises a zero default by the value's type, which the wrapper
			// hides; an empty default reads as zero to it and keeps "(default 0s)" out of help.
			if fl.DefValue == "0s" {
				fl.DefValue = ""
			}
		}
	})
	for _, c := range cmd.Commands() {
		explainDurationFlags(c)
	}
}

// durationValue is a duration flag whose errors show the accepted form.
type durationValue struct{ pflag.Value }

// Set parses s as the wrapped flag does and explains a refusal.
func (d durationValue) Set(s string) error {
	if err := d.Value.Set(s); err != nil {
		return errors.New("not a duration; give a number with a unit, such as 10m, 90s or 1h30m")
	}
	return nil
}

// newHelpTopicExitCodes is the `storectl help exit-codes` topic.
func newHelpTopicExitCodes() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "Exit codes of storectl and what they mean",
		Long:  exitCodesHelp(),
	}
}

// fixedCompletion completes a flag from a fixed list.
func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// addOutputFlag adds -o with the formats a command supports; the first is the default.
func addOutputFlag(cmd *cobra.Command, target *string, formats ...output.Format) {
	names := output.FormatNames(formats...)
	def := names[0]
	usage := "output format: " + strings.Join(names, ", ")
	if def == "" {
		names = names[1:]
		usage = "output format: " + strings.Join(names, ", ") + " (default: a summary for humans)"
	}
	cmd.Flags().StringVarP(target, "output", "o", def, usage)
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(names...))
}

// parseOutput validates -o for a command; it runs before any API call.
func parseOutput(cmd *cobra.Command, value string, formats ...output.Format) (output.Format, error) {
	f, err := output.ParseFormat(value, formats...)
	if err != nil {
		return "", &UsageError{Err: err, Cmd: cmd.CommandPath()}
	}
	return f, nil
}

// interruptedError marks an error that ended a command the user had already interrupted.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return "interrupted: " + e.err.Error() }

// Unwrap makes the error both an interruption and the error it carries.
func (e *interruptedError) Unwrap() []error { return []error{context.Canceled, e.err} }

// completeHelpTopics makes `storectl help <TAB>` offer the help topics (exit-codes) as well
// as the commands cobra's help command completes.
func completeHelpTopics(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	var help *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			help = c
		}
	}
	if help == nil || help.ValidArgsFunction == nil {
		return
	}
	commands := help.ValidArgsFunction
	help.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		out, dir := commands(cmd, args, toComplete)
		if len(args) > 0 {
			return out, dir
		}
		for _, c := range root.Commands() {
			if c.IsAdditionalHelpTopicCommand() && strings.HasPrefix(c.Name(), toComplete) {
				out = append(out, cobra.CompletionWithDesc(c.Name(), c.Short))
			}
		}
		return out, dir
	}
}

// closest returns the suggestion nearest to typed by edit distance, the first of equals.
func closest(typed string, suggestions []string) string {
	best, bestD := "", -1
	for _, s := range suggestions {
		if d := editDistance(typed, s); bestD < 0 || d < bestD {
			best, bestD = s, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
