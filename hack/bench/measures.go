package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// startup times version and --help, alternately with helm's, and how much of storectl's
// start-up is package initialisation (which Go runs before main, whatever the command).
func (b *bench) startup(ctx context.Context) error {
	for _, args := range [][]string{{"version"}, {"--help"}} {
		var ours, theirs []runResult
		for range b.o.startups {
			r, err := b.storectl(ctx, args...)
			if err != nil {
				return err
			}
			ours = append(ours, r)
			if r, err = b.helmRun(ctx, args...); err != nil {
				return err
			}
			theirs = append(theirs, r)
		}
		init, err := b.initTime(ctx, args)
		if err != nil {
			return err
		}
		row := b.res.add(&Row{Measure: "storectl " + args[0], Storectl: tool("storectl "+args[0], ours),
			Other: tool("helm "+args[0], theirs), Target: "≤ 20 ms",
			Note: fmt.Sprintf("%.0f ms of it package initialisation", init)})
		row.Met = verdict(row.Storectl.MedianMs <= 20)
	}
	return nil
}

// initTime is the median, over a few runs, of the clock time of every package's init that
// GODEBUG=inittrace=1 reports.
func (b *bench) initTime(ctx context.Context, args []string) (float64, error) {
	var sums []float64
	for range 5 {
		cmd := append([]string{}, args...)
		r, err := b.runTrace(ctx, cmd)
		if err != nil {
			return 0, err
		}
		sums = append(sums, r)
	}
	return median(sums), nil
}

func (b *bench) runTrace(ctx context.Context, args []string) (float64, error) {
	out := filepath.Join(b.dir, "inittrace")
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cmd := b.command(ctx, b.kcfg, []string{"GODEBUG=inittrace=1"}, b.bin, args...)
	cmd.Stderr = f
	if err := cmd.Run(); err != nil {
		return 0, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, l := range strings.Split(string(data), "\n") {
		// init <package> @0.5 ms, 0.012 ms clock, 0 bytes, 0 allocs
		f := strings.Fields(l)
		if len(f) >= 7 && f[0] == "init" && f[6] == "clock," {
			v, _ := strconv.ParseFloat(f[4], 64)
			sum += v
		}
	}
	return sum, nil
}

// createPairs creates a store with storectl, then the same chart with the same values with
// helm install --wait --wait-for-jobs (its namespace and Secret made beforehand, as
// storectl makes them), pair by pair; and how long after the last component finished
// each tool exited. The first storectl store stays for the reads at one store.
func (b *bench) createPairs(ctx context.Context) error {
	var ours, theirs, ourLag, theirLag []float64
	var ourRuns, theirRuns []runResult
	for i := range b.o.pairs {
		s, h := fmt.Sprintf("%ss%d", b.prefix, i), fmt.Sprintf("%sh%d", b.prefix, i)
		r, err := b.storectl(ctx, "create", s, "--timeout", "5m")
		if err != nil {
			return err
		}
		b.made["store/"+s] = true
		ourRuns = append(ourRuns, r)
		ours = append(ours, ms(r.wall))
		ourLag = append(ourLag, b.lag(s, r))
		values, err := b.prepareHelm(ctx, s, h)
		if err != nil {
			return err
		}
		if r, err = b.helmInstall(ctx, h, values); err != nil {
			return err
		}
		theirRuns = append(theirRuns, r)
		theirs = append(theirs, ms(r.wall))
		theirLag = append(theirLag, b.lag(h, r))
	}
	ourCreate, theirCreate := tool("storectl create", ourRuns), tool("helm install --wait --wait-for-jobs", theirRuns)
	var err error
	if ourCreate.Requests, err = b.counted(ctx, b.bin, "create", b.prefix+"sc", "--timeout", "5m"); err != nil {
		return err
	}
	b.made["store/"+b.prefix+"sc"] = true
	values, err := b.prepareHelm(ctx, b.prefix+"s0", b.prefix+"hc")
	if err != nil {
		return err
	}
	if theirCreate.Requests, err = b.counted(ctx, b.helm, b.helmInstallArgs(b.prefix+"hc", values)...); err != nil {
		return err
	}
	b.res.add(&Row{Measure: "create to Ready", Storectl: ourCreate, Other: theirCreate, Target: "< 1 (faster than helm)"}).Met =
		verdict(median(ours) < median(theirs))
	lag := b.res.add(&Row{Measure: "exit after the last component finished",
		Storectl: &Tool{Command: "storectl create", SamplesMs: ourLag, MedianMs: median(ourLag)},
		Other:    &Tool{Command: "helm install", SamplesMs: theirLag, MedianMs: median(theirLag)},
		Target:   "≤ 30 ms"})
	lag.Met = verdict(lag.Storectl.MedianMs <= 30)
	b.oneCreate = median(ours)
	return b.dropHelm(ctx, false)
}

// lag is how long after the watcher saw the last pod Ready or Job complete in the
// store's namespace the tool exited.
func (b *bench) lag(name string, r runResult) float64 {
	t, ok := b.finish.lastFinish("store-" + name)
	if !ok {
		return 0
	}
	return ms(r.exited.Sub(t))
}

// deleteOne deletes stores one at a time with storectl (namespace and volumes gone).
func (b *bench) deleteOne(ctx context.Context) error {
	var runs []runResult
	names := []string{b.prefix + "sc"}
	for i := 1; i < b.o.pairs; i++ {
		names = append(names, fmt.Sprintf("%ss%d", b.prefix, i))
	}
	for _, n := range names {
		r, err := b.storectl(ctx, "delete", n, "--yes", "--timeout", "5m")
		if err != nil {
			return err
		}
		delete(b.made, "store/"+n)
		runs = append(runs, r)
	}
	b.oneDelete = tool("storectl delete <one>", runs)
	b.res.add(&Row{Measure: "delete one store, until its namespace is gone", Storectl: b.oneDelete})
	return nil
}

// fleetOps creates N stores at once with storectl and with helm, then deletes storectl's N
// with one delete, compared with one create and one delete.
func (b *bench) fleetOps(ctx context.Context) error {
	n := b.o.parallel
	var names, helmNames []string
	values := map[string]string{}
	for i := range n {
		names = append(names, fmt.Sprintf("%sp%02d", b.prefix, i))
		h := fmt.Sprintf("%sq%02d", b.prefix, i)
		v, err := b.prepareHelm(ctx, b.prefix+"s0", h)
		if err != nil {
			return err
		}
		helmNames, values[h] = append(helmNames, h), v
	}
	for _, s := range names {
		b.made["store/"+s] = true // before the creates start: together runs them at once
	}
	ours, err := together(ctx, names, func(ctx context.Context, s string) error {
		_, err := b.storectl(ctx, "create", s, "--timeout", "8m")
		return err
	})
	if err != nil {
		return err
	}
	theirs, err := together(ctx, helmNames, func(ctx context.Context, h string) error {
		_, err := b.helmInstall(ctx, h, values[h])
		return err
	})
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d creates at once", n)
	b.res.add(&Row{Measure: what + ", all Ready", Storectl: wall("storectl create ×"+strconv.Itoa(n), ours),
		Other: wall("helm install --wait ×"+strconv.Itoa(n), theirs), Target: "≤ 0.6"}).Met = verdict(ms(ours) <= 0.6*ms(theirs))
	b.res.add(&Row{Measure: what + " vs one create", Storectl: wall("storectl create ×"+strconv.Itoa(n), ours),
		Other: &Tool{Command: "storectl create", MedianMs: b.oneCreate}, Target: "≤ 3"}).Met = verdict(ms(ours) <= 3*b.oneCreate)
	// helm's namespaces go first, and are gone, before the timed delete: the namespace
	// controller works through a few namespaces at a time, and would share them between
	// helm's and storectl's otherwise, as the single delete it is compared with does not.
	if err := b.dropHelm(ctx, true); err != nil {
		return err
	}
	r, err := b.storectl(ctx, append([]string{"delete", "--yes", "--timeout", "8m"}, names...)...)
	if err != nil {
		return err
	}
	for _, s := range names {
		delete(b.made, "store/"+s)
	}
	b.res.add(&Row{Measure: fmt.Sprintf("delete of %d stores in one command vs one", n),
		Storectl: tool(fmt.Sprintf("storectl delete <%d names>", n), []runResult{r}), Other: b.oneDelete, Target: "≤ 2"}).Met =
		verdict(ms(r.wall) <= 2*b.oneDelete.MedianMs)
	return nil
}

// together runs fn for every name at once and returns the time until the last ended.
func together(ctx context.Context, names []string, fn func(context.Context, string) error) (time.Duration, error) {
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for _, n := range names {
		g.Go(func() error { return fn(gctx, n) })
	}
	err := g.Wait()
	return time.Since(start), err
}

func wall(command string, d time.Duration) *Tool {
	return &Tool{Command: command, SamplesMs: []float64{ms(d)}, MedianMs: ms(d)}
}
