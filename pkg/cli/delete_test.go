package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

func TestDelete(t *testing.T) {
	t.Parallel()
	t.Run("yes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, false)
		h.eng.del = func(_ context.Context, name string, o store.DeleteOptions) error {
			o.OnProgress(store.Progress{Step: "uninstall", State: "done", Elapsed: 2 * time.Second})
			o.OnProgress(store.Progress{Step: "namespace-deletion", State: "running", Message: "2 pods, 2 PVCs terminating"})
			o.OnProgress(store.Progress{Step: "namespace-deletion", State: "done", Elapsed: 20 * time.Second})
			if !o.Wait || o.Timeout != 10*time.Minute {
				t.Errorf("options %+v", o)
			}
			return nil
		}
		h.eng.get = func(_ context.Context, name string) (*store.Store, error) { return sampleStore(name), nil }
		code := h.run("delete", "shop", "outlet", "--yes", "--parallel", "1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, h.stderr())
		}
		golden(t, "delete/yes", h.transcript(code))
		if got := h.eng.Calls(); strings.Join(got, ",") != "get shop,delete shop,get outlet,delete outlet" {
			t.Errorf("calls %v", got)
		}
		if len(h.audit.records) != 2 || h.audit.records[1].Store != "outlet" || h.audit.records[1].Outcome != audit.OutcomeSucceeded ||
			h.audit.records[0].Action != "delete" || h.audit.records[0].ChartVersion != "0.1.0" {
			t.Errorf("audit %+v", h.audit.records)
		}
	})
	for _, answer := range []string{"y\n", "n\n", "\n", ""} {
		t.Run(fmt.Sprintf("prompt-%q", answer), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, true)
			h.bufs.In.WriteString(answer)
			code := h.run("delete", "shop")
			wantDelete := answer == "y\n"
			if wantDelete != (len(deleteCalls(h.eng)) == 1) {
				t.Fatalf("answer %q: calls %v", answer, h.eng.Calls())
			}
			if !strings.Contains(stripANSI(h.stderr()), "Delete store shop with its database, files and volumes? [y/N]") {
				t.Errorf("no prompt: %q", h.stderr())
			}
			if code != 0 {
				t.Errorf("answer %q: exit %d, want 0 (declining is not an error)", answer, code)
			}
			if !wantDelete && (strings.Contains(h.stderr(), "Error:") || !strings.Contains(h.stderr(), "Nothing was deleted.")) {
				t.Errorf("answer %q: stderr %q", answer, h.stderr())
			}
			if !wantDelete && len(h.audit.records) != 0 {
				t.Errorf("a declined delete was audited")
			}
		})
	}
	t.Run("not-found", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, false)
		h.eng.del = func(_ context.Context, name string, o store.DeleteOptions) error {
			if o.IgnoreNotFound {
				return nil
			}
			return fmt.Errorf("store %s: %w", name, store.ErrNotFound)
		}
		if code := h.run("delete", "ghost", "--yes"); code != ExitNotFound {
			t.Errorf("exit %d", code)
		}
		golden(t, "delete/not-found", h.transcript(ExitNotFound))
		h2 := newHarness(t, false)
		h2.eng.del = h.eng.del
		if code := h2.run("delete", "ghost", "--yes", "--ignore-not-found"); code != 0 {
			t.Errorf("--ignore-not-found: exit %d", code)
		}
	})
	t.Run("partial", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, false)
		h.eng.del = func(_ context.Context, name string, o store.DeleteOptions) error {
			if name == "a" {
				return fmt.Errorf("store a: namespace store-a: %w", store.ErrTimeout)
			}
			return nil
		}
		code := h.run("delete", "a", "b", "--yes")
		if code != ExitTimeout {
			t.Errorf("exit %d", code)
		}
		if len(deleteCalls(h.eng)) != 2 {
			t.Errorf("the second store was not attempted: %v", h.eng.Calls())
		}
		if !strings.Contains(h.stderr(), "storectl wait a --for deleted") {
			t.Errorf("no wait hint: %s", h.stderr())
		}
		outcomes := map[string]string{}
		for _, r := range h.audit.records {
			outcomes[r.Store] = r.Outcome
		}
		if len(h.audit.records) != 2 || outcomes["a"] != audit.OutcomeFailed || outcomes["b"] != audit.OutcomeSucceeded {
			t.Errorf("audit %+v", h.audit.records)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, false)
		h.eng.del = func(ctx context.Context, name string, o store.DeleteOptions) error {
			h.cancel()
			return fmt.Errorf("uninstall: %w", ctx.Err())
		}
		if code := h.run("delete", "a", "b", "--yes", "--parallel", "1"); code != ExitInterrupted {
			t.Errorf("exit %d", code)
		}
		if len(deleteCalls(h.eng)) != 1 {
			t.Errorf("deleting went on after the interruption: %v", h.eng.Calls())
		}
		if !strings.Contains(h.stderr(), "storectl delete a --yes") || h.audit.records[0].Outcome != audit.OutcomeInterrupted {
			t.Errorf("stderr %s audit %+v", h.stderr(), h.audit.records)
		}
	})
}

// Several stores are deleted at once, never more than --parallel at a time: the first
// deletions wait for each other, so the run can only end if that many were in flight together.
func TestDeleteInParallel(t *testing.T) {
	t.Parallel()
	const stores, limit = 9, 4
	h := newHarness(t, false)
	var (
		mu       sync.Mutex
		inFlight int
		peak     int
		entered  int
	)
	barrier := make(chan struct{})
	h.eng.del = func(ctx context.Context, name string, o store.DeleteOptions) error {
		mu.Lock()
		inFlight++
		entered++
		peak = max(peak, inFlight)
		if entered == limit {
			close(barrier)
		}
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		select {
		case <-barrier:
		case <-time.After(20 * time.Second):
			return fmt.Errorf("store %s: only %d deletions ran together: %w", name, entered, store.ErrTimeout)
		}
		if name == "s3" {
			return &store.Error{Err: store.ErrTimeout, Store: name, Message: "namespace store-s3 is still terminating"}
		}
		return nil
	}
	var names []string
	for i := range stores {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	code := h.run(append([]string{"delete", "--yes", "--parallel", fmt.Sprint(limit)}, names...)...)
	if code != ExitTimeout {
		t.Errorf("exit %d, want %d (the failed store's)\n%s", code, ExitTimeout, h.stderr())
	}
	if peak != limit {
		t.Errorf("%d deletions ran at once, want %d", peak, limit)
	}
	if got := len(deleteCalls(h.eng)); got != stores {
		t.Errorf("%d stores were deleted, want %d: a failure stopped the others", got, stores)
	}
	errOut := h.stderr()
	for _, want := range []string{
		"Deleting 9 stores, up to 4 at a time\n",
		"✗ 8 of 9 stores deleted in 0s; not deleted: s3\n",
		"Error: 1 of 9 stores were not deleted: s3\n",
		"Next: run 'storectl list' to see what remains\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "namespace store-s3 is still terminating"); n != 1 {
		t.Errorf("the failure of s3 is printed %d times, want once:\n%s", n, errOut)
	}
	if n := strings.Count(errOut, "is deleted\n"); n != stores-1 {
		t.Errorf("%d stores reported deleted, want %d:\n%s", n, stores-1, errOut)
	}
	if len(h.audit.records) != stores {
		t.Errorf("%d audit records, want one per store", len(h.audit.records))
	}
}

// --parallel bounds the deletions making their requests, not those waiting for their
// namespace to go: with one slot, every store starts its deletion while the earlier ones
// still wait, so the run can only end if all of them were waiting together.
func TestDeleteWaitsTogetherBeyondParallel(t *testing.T) {
	t.Parallel()
	const stores = 5
	h := newHarness(t, false)
	var (
		mu      sync.Mutex
		waiting int
	)
	allWaiting := make(chan struct{})
	h.eng.del = func(ctx context.Context, name string, o store.DeleteOptions) error {
		if o.OnWaiting == nil {
			return fmt.Errorf("store %s: no OnWaiting callback: %w", name, store.ErrFailed)
		}
		o.OnWaiting()
		mu.Lock()
		waiting++
		if waiting == stores {
			close(allWaiting)
		}
		mu.Unlock()
		select {
		case <-allWaiting:
			return nil
		case <-time.After(20 * time.Second):
			return fmt.Errorf("store %s: only %d stores waited together: %w", name, waiting, store.ErrTimeout)
		}
	}
	var names []string
	for i := range stores {
		names = append(names, fmt.Sprintf("w%d", i))
	}
	if code := h.run(append([]string{"delete", "--yes", "--parallel", "1"}, names...)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr())
	}
	if got := len(deleteCalls(h.eng)); got != stores {
		t.Errorf("%d stores were deleted, want %d", got, stores)
	}
	if !strings.Contains(h.stderr(), "Deleted 5 stores in ") {
		t.Errorf("no summary:\n%s", h.stderr())
	}
}

// Off a terminal, the progress lines of stores deleted together each name their store.
func TestDeleteManyMarksProgressLines(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	h.eng.del = func(_ context.Context, name string, o store.DeleteOptions) error {
		o.OnProgress(store.Progress{Step: "namespace-deletion", State: "running", Message: "2 pods terminating"})
		o.OnProgress(store.Progress{Step: "namespace-deletion", State: "done"})
		return nil
	}
	if code := h.run("delete", "a", "b", "c", "--yes"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr())
	}
	for _, line := range strings.Split(strings.TrimSpace(h.stderr()), "\n") {
		if strings.Contains(line, "step=") && !strings.HasPrefix(line, "store=a step=") &&
			!strings.HasPrefix(line, "store=b step=") && !strings.HasPrefix(line, "store=c step=") {
			t.Errorf("a progress line without its store: %q", line)
		}
	}
	if n := strings.Count(h.stderr(), "step=namespace-deletion state=done"); n != 3 {
		t.Errorf("%d stores reported their namespace gone, want 3:\n%s", n, h.stderr())
	}
	if !strings.HasSuffix(h.stderr(), "✓ Deleted 3 stores in 0s\n") {
		t.Errorf("no summary at the end:\n%s", h.stderr())
	}
}

func TestDeleteRefusesParallelBelowOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	if code := h.run("delete", "a", "--yes", "--parallel", "0"); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if len(h.eng.Calls()) != 0 {
		t.Errorf("the engine was called: %v", h.eng.Calls())
	}
}
