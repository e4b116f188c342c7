package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/storectl/storectl/pkg/store"
)

// scriptedChanges makes the fake engine's watch report one change per list of stores,
// each read by the next List call.
func scriptedChanges(h *harness, steps ...[]store.Store) {
	i := 0
	h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) {
		s := steps[min(i, len(steps)-1)]
		i++
		return s, nil
	}
	h.eng.changes = func(_ context.Context, _ store.ChangesOptions, notify func()) error {
		for range steps[1:] {
			notify()
		}
		return nil
	}
}

// In a pipe, list -w prints the table once, then only the rows that changed, and a
// store that disappeared once more as Deleted.
func TestListWatchPipe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	all := listStores()
	ready := listStores()
	ready[2].Phase = store.PhaseReady
	gone := []store.Store{ready[0], ready[2]}
	scriptedChanges(h, all, all, ready, gone)
	if code := h.run("list", "-w", "--sort-by", "status"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	golden(t, "list/watch-pipe", h.transcript(0))
	out := h.stdout()
	if strings.Count(out, "NAME") != 1 {
		t.Errorf("the header must be printed once:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 { // header, 3 stores, new turning Ready, outlet Deleted
		t.Fatalf("want 6 lines, got %d:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[1], "outlet ") || !strings.HasPrefix(lines[4], "new ") || !strings.Contains(lines[4], "Ready") ||
		!strings.HasPrefix(lines[5], "outlet ") || !strings.Contains(lines[5], "Deleted") {
		t.Errorf("unexpected watch output:\n%s", out)
	}
}

// list -w -o json is a stream of one store object per change, each a JSON document.
func TestListWatchJSONStream(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	all := listStores()
	changed := listStores()
	changed[0].ReadyPods = 1
	scriptedChanges(h, all, changed)
	if code := h.run("list", "-w", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	dec := json.NewDecoder(strings.NewReader(h.stdout()))
	var names []string
	for dec.More() {
		var v StoreView
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("not a JSON stream: %v\n%s", err, h.stdout())
		}
		names = append(names, v.Name)
	}
	if strings.Join(names, ",") != "new,outlet,shop,shop" {
		t.Errorf("documents %v", names)
	}
}

// On a terminal the table is redrawn in place, whole, after each change.
func TestListWatchTerminalRedraws(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	all := listStores()
	changed := listStores()
	changed[1].Phase, changed[1].Reason = store.PhaseReady, ""
	scriptedChanges(h, all, changed)
	if code := h.run("list", "-w", "--no-headers"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	frames := strings.Split(h.stdout(), clearScreen)
	if len(frames) != 3 || frames[0] != "" {
		t.Fatalf("want two full frames, got %q", h.stdout())
	}
	if strings.Contains(frames[2], "NAME") || strings.Count(frames[2], "woocommerce") != 3 || strings.Contains(frames[2], "Failed") {
		t.Errorf("second frame: %q", frames[2])
	}
}

// get -w shows the store again when it changed, and ends when it is gone.
func TestGetWatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	calls := 0
	h.eng.get = func(_ context.Context, name string) (*store.Store, error) {
		calls++
		s := sampleStore(name)
		switch calls {
		case 1, 2: // the second read finds nothing new
			s.Phase = store.PhaseProvisioning
		case 4:
			return nil, &store.Error{Err: store.ErrNotFound, Store: name}
		}
		return s, nil
	}
	h.eng.changes = func(ctx context.Context, o store.ChangesOptions, notify func()) error {
		if o.Name != "shop" {
			t.Errorf("watch of %q", o.Name)
		}
		for i := 0; i < 5 && ctx.Err() == nil; i++ {
			notify()
		}
		return nil
	}
	if code := h.run("get", "shop", "-w", "-o", "yaml"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	if n := strings.Count(h.stdout(), "---\n"); n != 2 {
		t.Errorf("want 2 documents, got %d:\n%s", n, h.stdout())
	}
	if calls != 4 {
		t.Errorf("the watch went on after the store was gone: %d reads", calls)
	}
	if !strings.Contains(h.stderr(), "Store shop no longer exists.") {
		t.Errorf("stderr %q", h.stderr())
	}
}

func TestListSortBy(t *testing.T) {
	t.Parallel()
	for by, want := range map[string]string{
		"name":   "new,outlet,shop",
		"age":    "outlet,shop,new",
		"status": "outlet,new,shop",
	} {
		h := newHarness(t, false)
		h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
		if code := h.run("list", "-o", "name", "--sort-by", by); code != 0 {
			t.Fatalf("exit %d: %s", code, h.stderr())
		}
		if got := strings.ReplaceAll(strings.TrimSpace(h.stdout()), "\n", ","); got != want {
			t.Errorf("--sort-by %s: %s, want %s", by, got, want)
		}
	}
}
