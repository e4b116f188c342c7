package output

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the terminal abstraction every command writes through: data goes to Out,
// everything meant for a human (progress, hints, warnings, errors) goes to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	IsStdinTTY  bool
	IsStdoutTTY bool
	IsStderrTTY bool

	// ColorEnabled is false when NO_COLOR is set, TERM=dumb or --no-color was given.
	// Colour is still only used on a stream that is a terminal: see ColorOut and ColorErr.
	ColorEnabled bool

	// DumbTerminal is true for TERM=dumb: a terminal that cannot move the cursor, so the
	// live view is replaced by one plain line per step.
	DumbTerminal bool

	// TerminalWidth is the width of the terminal behind Out or ErrOut, 0 when unknown.
	TerminalWidth int
}

// System returns IOStreams bound to the process's standard streams.
func System() *IOStreams {
	return FromFiles(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
}

// FromFiles returns IOStreams bound to open files, detecting terminals and their width the
// way System does, with the environment read through getenv.
func FromFiles(in, out, errOut *os.File, getenv func(string) string) *IOStreams {
	ios := &IOStreams{
		In:           in,
		Out:          out,
		ErrOut:       errOut,
		IsStdinTTY:   isTerminal(in),
		IsStdoutTTY:  isTerminal(out),
		IsStderrTTY:  isTerminal(errOut),
		ColorEnabled: ColorAllowedByEnv(getenv),
		DumbTerminal: getenv("TERM") == "dumb",
	}
	for _, f := range []*os.File{out, errOut} {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			ios.TerminalWidth = w
			break
		}
	}
	return ios
}

// ColorAllowedByEnv reports whether the environment permits colour: a non-empty NO_COLOR
// (the no-color.org convention) and TERM=dumb turn it off.
func ColorAllowedByEnv(getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// ColorOut reports whether colour and styling may be written to Out.
func (s *IOStreams) ColorOut() bool { return s.ColorEnabled && s.IsStdoutTTY }

// ColorErr reports whether colour, spinners and styling may be written to ErrOut.
func (s *IOStreams) ColorErr() bool { return s.ColorEnabled && s.IsStderrTTY }

// LiveErr reports whether ErrOut can show the live view: it is a terminal that can move the
// cursor. Colour is a separate choice (ColorErr): NO_COLOR drops colour, not the live view.
func (s *IOStreams) LiveErr() bool { return s.IsStderrTTY && !s.DumbTerminal }

// CanPrompt reports whether the user can be asked a question: both stdin and stderr are terminals.
func (s *IOStreams) CanPrompt() bool { return s.IsStdinTTY && s.IsStderrTTY }

// TestStreams holds the buffers behind a fake IOStreams.
type TestStreams struct {
	In     *bytes.Buffer
	Out    *bytes.Buffer
	ErrOut *bytes.Buffer
}

// Test returns IOStreams backed by in-memory buffers, not a terminal and without colour.
// Tests flip the TTY and colour fields to exercise terminal output.
func Test() (*IOStreams, TestStreams) {
	b := TestStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	return &IOStreams{In: b.In, Out: b.Out, ErrOut: b.ErrOut, TerminalWidth: 100}, b
}

// SetTerminal marks every stream as a terminal (or not) and enables colour accordingly; for tests.
func (s *IOStreams) SetTerminal(tty bool) {
	s.IsStdinTTY, s.IsStdoutTTY, s.IsStderrTTY, s.ColorEnabled = tty, tty, tty, tty
}
