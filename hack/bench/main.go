// Command bench measures storectl against the helm CLI of the Helm version storectl links,
// on a private sandbox cluster, and prints a table and writes JSON of the results.
//
//	go run ./hack/bench [-stores 200] [-json bin/bench.json]
//
// Each measure runs the two tools alternately, pair by pair, so that a change in the load
// of the machine falls on both. Absolute times on a shared machine are noisy: compare the
// ratios. See docs/performance.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the bench's flags.
type options struct {
	stores     int
	pairs      int
	samples    int
	parallel   int
	grow       int
	startups   int
	jsonPath   string
	kubeconfig string
}

func main() {
	var o options
	flag.IntVar(&o.stores, "stores", 200, "the largest fleet list and get are measured at (also at 1 and half of it)")
	flag.IntVar(&o.pairs, "pairs", 3, "create-to-Ready pairs (one storectl create, one helm install each)")
	flag.IntVar(&o.samples, "samples", 7, "pairs of list and get runs at each fleet size")
	flag.IntVar(&o.parallel, "parallel", 20, "creates and deletes run at once")
	flag.IntVar(&o.grow, "grow", 16, "creates run at once while the fleet is grown for list and get")
	flag.IntVar(&o.startups, "startups", 30, "runs of version and --help")
	flag.StringVar(&o.jsonPath, "json", "bin/bench.json", "where to write the results as JSON")
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "measure on this cluster instead of a private sandbox (stores named bnch-*, deleted at the end)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(started).Round(time.Second))
}

func run(ctx context.Context, o options) error {
	b, cleanup, err := setUp(ctx, o)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		return err
	}
	steps := []struct {
		what string
		fn   func(context.Context) error
	}{
		{"start-up", b.startup},
		{"create to Ready", b.createPairs},
		{"delete", b.deleteOne},
		{"list and get at 1 store", func(ctx context.Context) error { return b.readsAt(ctx, 1) }},
		{"parallel creates and deletes", b.fleetOps},
		{"list and get at half the fleet", func(ctx context.Context) error { return b.readsAt(ctx, max(o.stores/2, 2)) }},
		{"list and get at the full fleet", func(ctx context.Context) error { return b.readsAt(ctx, o.stores) }},
	}
	start := time.Now()
	var failed error
	for _, s := range steps {
		t := time.Now()
		b.logf("%s ...", s.what)
		if err := s.fn(ctx); err != nil {
			failed = fmt.Errorf("%s: %w", s.what, err)
			break
		}
		b.res.Phases = append(b.res.Phases, Phase{Name: s.what, Seconds: time.Since(t).Seconds()})
		b.logf("%s done in %s", s.what, time.Since(t).Round(100*time.Millisecond))
	}
	b.res.Seconds = time.Since(start).Seconds()
	// What was measured is reported even when a later measure failed.
	if err := b.report(o.jsonPath); err != nil {
		return err
	}
	return failed
}
