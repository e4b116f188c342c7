package output

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
)

// Format is a value of the -o flag.
type Format string

// The formats the -o flag accepts. Not every command supports every format.
const (
	FormatTable Format = "table"
	FormatWide  Format = "wide"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
	FormatName  Format = "name"
)

// ParseFormat checks s against the formats a command allows; an empty s selects the first.
func ParseFormat(s string, allowed ...Format) (Format, error) {
	if s == "" && len(allowed) > 0 {
		return allowed[0], nil
	}
	names := make([]string, 0, len(allowed))
	for _, f := range allowed {
		if string(f) == s {
			return f, nil
		}
		if f != "" {
			names = append(names, string(f))
		}
	}
	return "", fmt.Errorf("invalid output format %q: use one of %s", s, strings.Join(names, ", "))
}

// FormatNames returns the formats as strings, for flag help and completion.
func FormatNames(formats ...Format) []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = string(f)
	}
	return out
}

// Cells formats values for table cells. Tables show ages and durations the way kubectl does,
// on a terminal and in a pipe alike; exact timestamps are the business of -o json, yaml and
// the columns -o wide adds (Timestamp).
type Cells struct {
	Now    time.Time
	Styles Styles
}

// Time renders t as an age ("5m"); zero is "<unknown>".
func (c Cells) Time(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(c.Now.Sub(t))
}

// Timestamp renders t as RFC3339 in UTC; zero is "<unknown>".
func Timestamp(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return t.UTC().Format(time.RFC3339)
}

// Duration renders d rounded for a human, like an age.
func (c Cells) Duration(d time.Duration) string {
	return HumanDuration(d)
}

// HumanDuration renders d the way kubectl shows ages: 45s, 5m, 3h, 2d, 1y.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 10*time.Minute:
		m := int(d.Minutes())
		if s := int(d.Seconds()) % 60; s != 0 {
			return fmt.Sprintf("%dm%ds", m, s)
		}
		return fmt.Sprintf("%dm", m)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	default:
		return fmt.Sprintf("%dy", int(d.Hours()/24/365))
	}
}

// Tabular is implemented by views that can be shown as a table.
type Tabular interface {
	// Table returns the headers and rows; wide adds the columns of -o wide.
	Table(c Cells, wide bool) (headers []string, rows [][]string)
}

// Named is implemented by views that can be shown with -o name.
type Named interface {
	Names() []string
}

// Printer writes a view in one -o format to a data stream.
type Printer struct {
	Format Format
	Out    io.Writer
	Styles Styles
	Cells  Cells
	// NoHeaders leaves out the header line of table and wide (--no-headers).
	NoHeaders bool
}

// NewPrinter returns a printer for the data stream of ios.
func NewPrinter(ios *IOStreams, format Format, now time.Time) *Printer {
	p := &Printer{
		Format: format,
		Out:    ios.Out,
		Styles: ios.StdoutStyles(),
	}
	p.Cells = Cells{Now: now, Styles: p.Styles}
	return p
}

// Print writes v. JSON and YAML marshal v itself, so views carry json tags and a nil slice
// is printed as [] (never null); YAML keeps the key order of JSON. Table and name need v to
// implement Tabular or Named.
func (p *Printer) Print(v any) error {
	switch p.Format {
	case FormatJSON:
		b, err := json.MarshalIndent(nonNil(v), "", "  ")
		if err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		_, err = fmt.Fprintf(p.Out, "%s\n", b)
		return err
	case FormatYAML:
		b, err := MarshalYAML(nonNil(v))
		if err != nil {
			return err
		}
		_, err = p.Out.Write(b)
		return err
	case FormatName:
		n, ok := v.(Named)
		if !ok {
			return fmt.Errorf("output format %q is not supported here", p.Format)
		}
		for _, name := range n.Names() {
			if _, err := fmt.Fprintln(p.Out, name); err != nil {
				return err
			}
		}
		return nil
	case FormatTable, FormatWide, "":
		t, ok := v.(Tabular)
		if !ok {
			return fmt.Errorf("output format %q is not supported here", p.Format)
		}
		headers, rows := t.Table(p.Cells, p.Format == FormatWide)
		return p.table(headers, rows)
	default:
		return fmt.Errorf("unknown output format %q", p.Format)
	}
}

// nonNil turns a nil slice into an empty one so JSON shows [] rather than null.
func nonNil(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return reflect.MakeSlice(rv.Type(), 0, 0).Interface()
	}
	return v
}

// table renders a borderless, left-aligned table in the kubectl manner.
func (p *Printer) table(headers []string, rows [][]string) error {
	if len(rows) == 0 {
		return nil
	}
	out := RenderTable(p.Styles, headers, rows)
	if p.NoHeaders {
		out = out[strings.IndexByte(out, '\n')+1:]
	}
	_, err := io.WriteString(p.Out, out)
	return err
}

// RenderTable lays out headers and rows as aligned columns separated by three spaces,
// with trailing spaces removed, ending in a newline.
func RenderTable(st Styles, headers []string, rows [][]string) string {
	r := st.Renderer()
	cell := r.NewStyle().PaddingRight(3)
	last := r.NewStyle()
	t := table.New().
		Border(lipgloss.HiddenBorder()).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderHeader(false).BorderColumn(false).
		Headers(headers...).
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := cell
			if col == len(headers)-1 {
				s = last
			}
			if row == table.HeaderRow {
				return s.Inherit(st.Header)
			}
			return s
		})
	var b strings.Builder
	for _, line := range strings.Split(t.Render(), "\n") {
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
