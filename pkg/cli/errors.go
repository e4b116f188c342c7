package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// UsageError is a mistake in how storectl was invoked: flags, arguments, values given on the
// command line. It maps to exit code 2.
type UsageError struct {
	Err error
	// Cmd is the command path, to point at its --help.
	Cmd string
}

// Error returns the message of the wrapped error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	path := ""
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return &UsageError{Err: fmt.Errorf(format, args...), Cmd: path}
}

// HintError carries the next command the user should run alongside the error itself.
type HintError struct {
	Err  error
	Hint string
}

// Error returns the message of the wrapped error; the hint is printed on its own line.
func (e *HintError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *HintError) Unwrap() error { return e.Err }

// withHint attaches a next step to err; a nil err stays nil and an existing hint is kept.
func withHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var h *HintError
	if errors.As(err, &h) {
		return err
	}
	return &HintError{Err: err, Hint: fmt.Sprintf(format, args...)}
}

// hintOf returns the hint attached to err, if any.
func hintOf(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}

// exactNames, minNames and noArgs validate positional arguments with usage errors that name
// what is missing.
func exactNames(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usageErrorf(cmd, "missing %s: %s", what, strings.TrimSpace(cmd.Use))
		case len(args) > 1:
			return usageErrorf(cmd, "too many arguments %q: %s takes one %s", args[1:], cmd.Name(), what)
		}
		return nil
	}
}

func minNames(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErrorf(cmd, "missing %s: %s", what, strings.TrimSpace(cmd.Use))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf(cmd, "unexpected argument %q: %s takes no arguments", args[0], cmd.CommandPath())
	}
	return nil
}
