package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// stepLabels are the human names of the engine's progress steps.
var stepLabels = map[string]string{
	"namespace":          "Namespace",
	"database":           "Database",
	"wordpress":          "WordPress",
	"setup":              "WooCommerce setup",
	"ingress":            "Ingress",
	"uninstall":          "Uninstall release",
	"namespace-deletion": "Namespace deletion",
}

// stepOrder is the order the live view shows steps in: the order of get's components, then
// the steps of a delete.
var stepOrder = []string{
	store.ComponentNamespace, store.ComponentDatabase, store.ComponentWordPress, store.ComponentSetup,
	store.ComponentIngress, store.StepUninstall, store.StepNamespaceDeletion,
}

// timeZero is the clock of commands that print no ages.
var timeZero = time.Time{}

// animateProgress turns the spinner goroutine on; tests switch it off for stable output.
var animateProgress = true

// newProgress returns a renderer on stderr and the callback the engine reports to.
func newProgress(f *Factory) (*output.Progress, func(store.Progress)) {
	p := output.NewProgress(f.IOStreams, output.ProgressOptions{
		Labels:  stepLabels,
		Order:   stepOrder,
		Now:     f.Now,
		Animate: animateProgress,
	})
	return p, func(s store.Progress) {
		p.Update(output.Step{Name: s.Step, State: s.State, Message: s.Message, Elapsed: s.Elapsed})
	}
}

// printLastState writes where each step stood when an operation failed or timed out: the
// progress seen, or when none arrived, the components the engine's error carries. The live
// view already shows the last state of the steps it drew, so it is not repeated below it.
func printLastState(f *Factory, p *output.Progress, err error) {
	steps := p.Steps()
	if p.Live() && len(steps) > 0 {
		return
	}
	var se *store.Error
	if len(steps) == 0 && errors.As(err, &se) {
		for _, c := range se.Components {
			state := output.StateRunning
			switch {
			case c.Ready:
				state = output.StateDone
			case c.State == store.StateFailed:
				state = output.StateFailed
			}
			msg := c.Message
			if c.Reason != "" {
				msg = strings.TrimSuffix(c.Reason+": "+msg, ": ")
			}
			steps = append(steps, output.Step{Name: c.Name, State: state, Message: msg})
		}
	}
	if len(steps) == 0 {
		return
	}
	fmt.Fprintln(f.IOStreams.ErrOut)
	output.WriteSummary(f.IOStreams.ErrOut, f.IOStreams.StderrStyles(), steps, p.Label)
}
