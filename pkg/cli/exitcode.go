package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// Exit codes of storectl. They are part of its interface: scripts branch on them.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitNotFound      = 3
	ExitAlreadyExists = 4
	ExitTimeout       = 5
	ExitUnreachable   = 6
	ExitUnauthorized  = 7
	ExitLimitReached  = 8
	ExitRefused       = 9
	ExitInterrupted   = 130
)

// ExitCodeDoc describes one exit code for `storectl help exit-codes` and docs/cli.md.
type ExitCodeDoc struct {
	Code    int
	Meaning string
}

// ExitCodes lists every exit code with its meaning, in order.
var ExitCodes = []ExitCodeDoc{
	{ExitOK, "success"},
	{ExitError, "error not covered below, including a store that failed: it did not become ready, lost its credentials Secret, or drifted from its release"},
	{ExitUsage, "usage: unknown command or flag, wrong arguments, malformed --set, missing --values file, chart values refused by the chart schema or reserved to storectl (docs/security.md), a file over its size limit, invalid store name or type, invalid configuration or kubeconfig"},
	{ExitNotFound, "the store does not exist (a namespace store-<name> without storectl's labels is not a store and is left untouched)"},
	{ExitAlreadyExists, "the store already exists (also: it exists with a different type)"},
	{ExitTimeout, "timed out waiting (--timeout)"},
	{ExitUnreachable, "the cluster's API server cannot be reached, or gave no answer before --timeout"},
	{ExitUnauthorized, "the cluster rejected the credentials or denied permission"},
	{ExitLimitReached, "the maximum number of stores (max-stores) is reached"},
	{ExitRefused, "refused before any change, to protect the store's data: an upgrade or rollback to WordPress, WooCommerce or MariaDB older than the data has run, of a store that is not Ready (--force overrides either), or of a store another storectl is changing; a restore of an archive that is damaged, incomplete, or newer than its target"},
	{ExitInterrupted, "interrupted by SIGINT (Ctrl-C) or SIGTERM"},
}

// ExitCode maps an error to storectl's exit code. It is the only place that does so.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, store.ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, store.ErrRefused):
		return ExitRefused
	case errors.As(err, &ue), errors.Is(err, store.ErrInvalidName), errors.Is(err, store.ErrUnknownType), errors.Is(err, store.ErrInvalidValues),
		errors.Is(err, config.ErrInvalidConfig), kube.Classify(err) == kube.KindConfig:
		return ExitUsage
	case errors.Is(err, store.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrTypeMismatch):
		return ExitAlreadyExists
	case errors.Is(err, store.ErrUnreachable):
		// Before the timeout case: an API server that gave no answer by the deadline
		// is unreachable, though the request ended with context.DeadlineExceeded.
		return ExitUnreachable
	case errors.Is(err, store.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ExitTimeout
	case errors.Is(err, store.ErrLimitReached):
		return ExitLimitReached
	case errors.Is(err, backup.ErrInvalidArchive), errors.Is(err, backup.ErrNewerSchema):
		return ExitRefused
	case kube.IsUnreachable(err):
		return ExitUnreachable
	case errors.Is(err, store.ErrUnauthorized), kube.IsUnauthorized(err):
		return ExitUnauthorized
	}
	return ExitError
}

// exitCodesHelp is the text of `storectl help exit-codes`.
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("storectl exits with one of these codes; scripts may rely on them.\n\n")
	for _, c := range ExitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.Meaning)
	}
	b.WriteString("\nErrors are printed on stderr with the next command to run; stdout carries only data.\n")
	return b.String()
}

// PrintError writes err to stderr in storectl's format: what failed and why, then the next
// step, and for usage errors where to read the usage.
func PrintError(ios *output.IOStreams, err error) {
	if err == nil {
		return
	}
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Err.Render("Error:"), err.Error())
	if hint := hintOf(err); hint != "" {
		fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Muted.Render("Next:"), hint)
	}
	var ue *UsageError
	if errors.As(err, &ue) && ue.Cmd != "" {
		fmt.Fprintf(ios.ErrOut, "%s run '%s --help' for usage.\n", st.Muted.Render("Next:"), ue.Cmd)
	}
}
