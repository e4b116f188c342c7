package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// runResult is one run of a tool.
type runResult struct {
	wall   time.Duration
	rssKiB int64 // peak resident set size, as the launcher saw it
	exited time.Time
	stdout string
}

// run runs bin with args against the cluster of kubeconfig and fails on a non-zero exit.
func (b *bench) run(ctx context.Context, kubeconfig, bin string, args ...string) (runResult, error) {
	return b.runEnv(ctx, kubeconfig, nil, bin, args...)
}

func (b *bench) runEnv(ctx context.Context, kubeconfig string, extra []string, bin string, args ...string) (runResult, error) {
	cmd := b.command(ctx, kubeconfig, extra, b.launcher, append([]string{bin}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	rd, wr, err := os.Pipe()
	if err != nil {
		return runResult{}, err
	}
	defer rd.Close()
	cmd.ExtraFiles = []*os.File{wr}
	start := time.Now()
	err = cmd.Run()
	_ = wr.Close()
	r := runResult{wall: time.Since(start), exited: time.Now(), stdout: out.String()}
	// The launcher's own report is exact: the tool's wall time, its peak memory and its exit.
	var wallNS, rss, exitNS int64
	if _, serr := fmt.Fscan(rd, &wallNS, &rss, &exitNS); serr == nil {
		r.wall, r.rssKiB, r.exited = time.Duration(wallNS), rss, time.Unix(0, exitNS)
	} else if err == nil {
		err = fmt.Errorf("the launcher reported nothing: %w", serr)
	}
	if err != nil {
		name := bin[strings.LastIndex(bin, "/")+1:]
		return r, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(errOut.String(), 2000))
	}
	return r, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// storectl and helm run the tools on the cluster directly.
func (b *bench) storectl(ctx context.Context, args ...string) (runResult, error) {
	return b.run(ctx, b.kcfg, b.bin, args...)
}

func (b *bench) helmRun(ctx context.Context, args ...string) (runResult, error) {
	return b.run(ctx, b.kcfg, b.helm, args...)
}

// counted runs a tool through the counting proxy and returns how many API requests it made.
func (b *bench) counted(ctx context.Context, bin string, args ...string) (int, error) {
	n, _, err := b.countedPaths(ctx, bin, args...)
	return n, err
}

// countedPaths is counted with the requests themselves.
func (b *bench) countedPaths(ctx context.Context, bin string, args ...string) (int, []string, error) {
	b.proxy.reset()
	if _, err := b.run(ctx, b.proxy.kubeconfig, bin, args...); err != nil {
		return 0, nil, err
	}
	n, paths := b.proxy.count()
	return n, paths, nil
}
