package output

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles holds the named lipgloss roles commands use; commands never build raw styles.
// Without colour every role renders its text unchanged, so the same code serves pipes.
type Styles struct {
	OK     lipgloss.Style // success marks and Ready states
	Warn   lipgloss.Style // warnings and in-progress states
	Err    lipgloss.Style // failures
	Muted  lipgloss.Style // secondary detail: elapsed times, hints
	Key    lipgloss.Style // field names in key/value blocks
	Header lipgloss.Style // table headers
	Title  lipgloss.Style // section titles
	Code   lipgloss.Style // commands the user can copy

	renderer *lipgloss.Renderer
	color    bool
}

// NewStyles returns the roles for a stream. Colour is used only when color is true; the
// profile is fixed (basic ANSI) so a terminal is never queried and output is reproducible.
func NewStyles(w io.Writer, color bool) Styles {
	r := lipgloss.NewRenderer(w)
	r.SetHasDarkBackground(true)
	if color {
		r.SetColorProfile(termenv.ANSI)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	s := Styles{renderer: r, color: color}
	s.OK = r.NewStyle().Foreground(lipgloss.Color("2"))
	s.Warn = r.NewStyle().Foreground(lipgloss.Color("3"))
	s.Err = r.NewStyle().Foreground(lipgloss.Color("1")).Bold(color)
	s.Muted = r.NewStyle().Foreground(lipgloss.Color("8"))
	s.Key = r.NewStyle().Foreground(lipgloss.Color("6"))
	s.Header = r.NewStyle().Bold(color)
	s.Title = r.NewStyle().Bold(color)
	s.Code = r.NewStyle().Foreground(lipgloss.Color("5"))
	return s
}

// Color reports whether these styles emit colour.
func (s Styles) Color() bool { return s.color }

// Renderer returns the lipgloss renderer behind the styles, for tables.
func (s Styles) Renderer() *lipgloss.Renderer { return s.renderer }

// StdoutStyles returns the styles for data written to Out.
func (s *IOStreams) StdoutStyles() Styles { return NewStyles(s.Out, s.ColorOut()) }

// StderrStyles returns the styles for messages written to ErrOut.
func (s *IOStreams) StderrStyles() Styles { return NewStyles(s.ErrOut, s.ColorErr()) }

// Marks used at the end of a step; they are plain text, not colour, so they survive NO_COLOR.
const (
	MarkOK   = "✓"
	MarkFail = "✗"
	MarkWarn = "!"
)

// Status renders a store status word in the colour of its meaning.
func (s Styles) Status(status string) string {
	switch status {
	case "Ready", "succeeded":
		return s.OK.Render(status)
	case "Failed", "failed":
		return s.Err.Render(status)
	case "Provisioning", "Deleting", "interrupted":
		return s.Warn.Render(status)
	default:
		return status
	}
}
