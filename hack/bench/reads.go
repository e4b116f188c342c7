package main

import (
	"context"
	"fmt"
)

// readsAt measures list and get at a fleet of n stores, alternately with helm list -A and
// helm status, and counts each command's API requests.
func (b *bench) readsAt(ctx context.Context, n int) error {
	if err := b.dropHelm(ctx, true); err != nil {
		return err
	}
	if err := b.growFleet(ctx, n); err != nil {
		return err
	}
	one := b.prefix + "s0"
	cmds := []struct {
		measure     string
		ours, their []string
	}{
		{fmt.Sprintf("list, %s", plural(n, "store")), []string{"list"}, []string{"list", "-A"}},
		{fmt.Sprintf("get one store of %d", n), []string{"get", one}, []string{"status", one, "-n", "store-" + one}},
	}
	for _, c := range cmds {
		var ours, theirs []runResult
		for range b.o.samples {
			r, err := b.storectl(ctx, c.ours...)
			if err != nil {
				return err
			}
			ours = append(ours, r)
			if r, err = b.helmRun(ctx, c.their...); err != nil {
				return err
			}
			theirs = append(theirs, r)
		}
		row := &Row{Measure: c.measure, Storectl: tool("storectl "+c.ours[0], ours), Other: tool("helm "+c.their[0]+" "+c.their[1], theirs)}
		var err error
		if row.Storectl.Requests, row.Storectl.RequestPaths, err = b.countedPaths(ctx, b.bin, c.ours...); err != nil {
			return err
		}
		if row.Other.Requests, row.Other.RequestPaths, err = b.countedPaths(ctx, b.helm, c.their...); err != nil {
			return err
		}
		b.judgeRead(row, c.ours[0], n)
		b.res.add(row)
	}
	return nil
}

// judgeRead applies the targets: list at the full fleet at most half of helm list -A's
// time and no more memory; get at about 100 stores within 60 ms.
func (b *bench) judgeRead(row *Row, cmd string, n int) {
	switch {
	case cmd == "list" && n == b.o.stores:
		row.Target = "≤ 0.5, memory ≤ helm's"
		ratio := row.Storectl.MedianMs / row.Other.MedianMs
		row.Met = verdict(ratio <= 0.5 && row.Storectl.PeakRSSMiB <= row.Other.PeakRSSMiB)
	case cmd == "get" && n >= 100 && n < b.o.stores:
		row.Target = "≤ 60 ms"
		row.Met = verdict(row.Storectl.MedianMs <= 60)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
