//go:build e2e

package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/testcluster"
)

// Two storectl processes create the same store at the same moment: the store ends Ready
// with one clean release history, and a process that did not do the work says why.
func TestConcurrentCreateOfOneStoreThroughTheBinary(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	name := uniqueStore("twice")
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "3m") })

	procs := []*process{
		r.start(append([]string{"create", name}, annotation("wordpress", "ready-delay", "5s")...)...),
		r.start(append([]string{"create", name}, annotation("wordpress", "ready-delay", "5s")...)...),
	}
	for i, p := range procs {
		select {
		case <-p.done:
		case <-time.After(4 * time.Minute):
			t.Fatalf("create %d still runs after 4m", i)
		}
		r.outputs = append(r.outputs, p.stdout.String(), p.stderr.String())
		t.Logf("create %d: exit %d: %s", i, p.code, lastLine(p.stderr.String()))
		switch p.code {
		case 0: // created it, or waited for the other to finish
		case 1, 4:
			// The loser may be told the store is busy or already exists; either way with
			// a next step.
			if !strings.Contains(p.stderr.String(), "Next:") && !strings.Contains(p.stderr.String(), "storectl ") {
				t.Errorf("create %d failed without a next step:\n%s", i, p.stderr.String())
			}
		default:
			t.Errorf("create %d: exit %d\n%s", i, p.code, p.stderr.String())
		}
	}
	if procs[0].code != 0 && procs[1].code != 0 {
		t.Fatalf("neither create succeeded")
	}
	if s := decode[storeJSON](t, r.must("get", name, "-o", "json").stdout); s.Status != "Ready" {
		t.Errorf("store after two creates: %s", s.Status)
	}
	statuses := releaseStatuses(t, c, name)
	if len(statuses) == 0 || statuses[len(statuses)-1] != "deployed" {
		t.Errorf("release records %v, want the last deployed", statuses)
	}
	for _, s := range statuses {
		if strings.HasPrefix(s, "pending-") || s == "failed" {
			t.Errorf("release records %v hold a %s revision", statuses, s)
		}
	}
}

// Many storectl processes finishing at once all land in one audit log.
func TestConcurrentAuditAppends(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	const n = 12
	names := make([]string, n)
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range names {
		names[i] = uniqueStore("appender")
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := r.start("delete", names[i], "--yes", "--ignore-not-found")
			<-p.done
			codes[i] = p.code
			if strings.Contains(p.stderr.String(), "could not record") {
				t.Errorf("process %d could not record: %s", i, p.stderr.String())
			}
		}(i)
	}
	wg.Wait()
	type rec struct{ Action, Store, Outcome string }
	recs := decode[[]rec](t, r.must("audit", "-o", "json", "--limit", "1000").stdout)
	seen := map[string]int{}
	for _, x := range recs {
		seen[x.Store]++
	}
	for i, name := range names {
		if codes[i] != 0 {
			t.Errorf("delete %s: exit %d", name, codes[i])
		}
		if seen[name] != 1 {
			t.Errorf("store %s has %d audit records, want 1", name, seen[name])
		}
	}
	if len(recs) != n {
		t.Errorf("%d audit records, want %d", len(recs), n)
	}
}
