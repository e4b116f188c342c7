package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// clearScreen moves the cursor home and clears the screen, as watch(1) redraws.
const clearScreen = "\x1b[H\x1b[2J"

// phaseDeleted is the STATUS a watch prints for a store that disappeared.
const phaseDeleted = "Deleted"

// listWatch prints the stores of `list -w` each time they change.
type listWatch struct {
	f         *Factory
	format    output.Format
	noHeaders bool
	// redraw is true on a terminal with a table: the whole table is drawn again in place.
	redraw  bool
	seen    map[string]StoreView
	last    map[string]string
	started bool
}

// watchList prints first, then reads and prints the stores again after every change the
// engine reports, until ctx ends.
func watchList(ctx context.Context, opts *ListOptions, eng Engine, first StoreList, read func() (StoreList, error)) error {
	f := opts.Factory
	w := &listWatch{f: f, format: opts.Format, noHeaders: opts.NoHeaders,
		redraw: isTable(opts.Format) && f.IOStreams.IsStdoutTTY, seen: map[string]StoreView{}, last: map[string]string{}}
	if len(first) == 0 && isTable(opts.Format) && !w.redraw {
		noStores(f)
	}
	if err := w.show(first); err != nil {
		return err
	}
	var printErr error
	err := eng.Changes(ctx, store.ChangesOptions{Selector: opts.Selector}, func() {
		l, err := read()
		switch {
		case ctx.Err() != nil || printErr != nil:
		case err != nil:
			watchWarning(f, err)
		default:
			printErr = w.show(l)
		}
	})
	return endWatch(ctx, errors.Join(err, printErr))
}

// endWatch makes Ctrl-C the ordinary end of a watch.
func endWatch(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// watchWarning reports a failed read during a watch, which goes on: the next change reads again.
func watchWarning(f *Factory, err error) {
	st := f.IOStreams.StderrStyles()
	fmt.Fprintf(f.IOStreams.ErrOut, "%s %v (still watching)\n", st.Warn.Render("Warning:"), err)
}

// show prints l: in full on a terminal, otherwise only the stores that changed since the
// last call, and once more those that disappeared, as Deleted.
func (w *listWatch) show(l StoreList) error {
	if w.redraw {
		return w.draw(l)
	}
	var changed StoreList
	now := map[string]string{}
	for _, v := range l {
		key := w.key(v)
		now[v.Name] = key
		if w.last[v.Name] != key {
			changed = append(changed, v)
		}
		w.seen[v.Name] = v
	}
	var gone []string
	for name := range w.last {
		if _, ok := now[name]; !ok {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		v := w.seen[name]
		v.Status, v.Reason, v.Message = phaseDeleted, "", ""
		changed = append(changed, v)
		delete(w.seen, name)
	}
	first := !w.started
	w.started, w.last = true, now
	if len(changed) == 0 {
		return nil
	}
	return w.print(changed, first)
}

// key is what decides that a store changed for this format: its whole JSON form for json
// and yaml, and the cells of its row otherwise, with ages all computed at the same instant
// so that time passing alone is no change.
func (w *listWatch) key(v StoreView) string {
	if !isTable(w.format) && w.format != output.FormatName {
		return viewKey(v)
	}
	if w.format == output.FormatName {
		return v.Name
	}
	_, rows := StoreList{v}.Table(output.Cells{Now: v.created}, w.format == output.FormatWide)
	return strings.Join(rows[0], "\x00")
}

// print writes changed stores: table rows (the header only the first time), or one JSON or
// YAML document per store.
func (w *listWatch) print(changed StoreList, first bool) error {
	f := w.f
	switch w.format {
	case output.FormatJSON, output.FormatYAML:
		for _, v := range changed {
			if err := printDocument(f, w.format, v); err != nil {
				return err
			}
		}
		return nil
	}
	p := output.NewPrinter(f.IOStreams, w.format, f.Now())
	p.NoHeaders = w.noHeaders || !first
	return p.Print(changed)
}

// draw redraws the whole table in place on a terminal.
func (w *listWatch) draw(l StoreList) error {
	f := w.f
	var b bytes.Buffer
	b.WriteString(clearScreen)
	if len(l) == 0 {
		b.WriteString("No stores found.\n")
	} else {
		p := output.NewPrinter(f.IOStreams, w.format, f.Now())
		p.Out, p.NoHeaders = &b, w.noHeaders
		if err := p.Print(l); err != nil {
			return err
		}
	}
	st := f.IOStreams.StdoutStyles()
	b.WriteString(st.Muted.Render("Watching for changes; Ctrl-C to stop.") + "\n")
	_, err := f.IOStreams.Out.Write(b.Bytes())
	return err
}

// printDocument writes one store as a JSON document, or a YAML document after "---".
func printDocument(f *Factory, format output.Format, v StoreView) error {
	if format == output.FormatYAML {
		if _, err := io.WriteString(f.IOStreams.Out, "---\n"); err != nil {
			return err
		}
	}
	return output.NewPrinter(f.IOStreams, format, f.Now()).Print(v)
}

// viewKey is what decides that a store changed: its whole -o json form.
func viewKey(v StoreView) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// watchGet prints the store again each time it changes, until ctx ends or the store is gone.
func watchGet(ctx context.Context, opts *GetOptions, eng Engine, first *store.Store) error {
	f := opts.Factory
	last := ""
	show := func(s *store.Store) error {
		v := newStoreView(s)
		key := viewKey(v)
		if key == last {
			return nil
		}
		redraw := opts.Format == output.FormatTable && f.IOStreams.IsStdoutTTY
		if redraw {
			if _, err := io.WriteString(f.IOStreams.Out, clearScreen); err != nil {
				return err
			}
		} else if last != "" && isTable(opts.Format) {
			fmt.Fprintln(f.IOStreams.Out)
		}
		last = key
		if opts.Format == output.FormatYAML {
			return printDocument(f, opts.Format, v)
		}
		return printStore(f, opts.Format, v)
	}
	if err := show(first); err != nil {
		return err
	}
	var stop error
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := eng.Changes(wctx, store.ChangesOptions{Name: opts.Name}, func() {
		s, err := eng.Get(wctx, opts.Name)
		switch {
		case wctx.Err() != nil:
		case errors.Is(err, store.ErrNotFound):
			fmt.Fprintf(f.IOStreams.ErrOut, "Store %s no longer exists.\n", opts.Name)
			cancel()
		case err != nil:
			watchWarning(f, err)
		default:
			if stop = show(s); stop != nil {
				cancel()
			}
		}
	})
	if stop != nil {
		return stop
	}
	return endWatch(ctx, err)
}
