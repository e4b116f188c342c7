//go:build e2e

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storectl/storectl/pkg/testcluster"
)

// One delete of ten stores deletes them together: every store's deletion, as the audit
// log times it, is still running when the last one begins, so the ten take about as long
// as one rather than ten times as long. All ten are gone at the end, with one summary.
func TestDeleteOfManyStoresRunsTogether(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	prefix := uniqueStore("fleet")
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("%s-%d", prefix, i))
	}
	t.Cleanup(func() {
		r.run(append([]string{"delete", "--yes", "--ignore-not-found", "--timeout", "3m"}, names...)...)
	})
	for _, n := range names {
		r.must("create", n, "--wait=false")
	}

	res := r.must(append([]string{"delete", "--yes", "--timeout", "4m"}, names...)...)
	if !strings.Contains(res.stderr, "Deleted 10 stores in ") {
		t.Errorf("no summary:\n%s", res.stderr)
	}

	type rec struct {
		Time            time.Time
		Action, Store   string
		Outcome         string
		DurationSeconds float64
	}
	var begins, ends []time.Time
	for _, x := range decode[[]rec](t, r.must("audit", "-o", "json", "--action", "delete").stdout) {
		if x.Outcome != "succeeded" {
			t.Errorf("delete of %s: %s", x.Store, x.Outcome)
		}
		begins = append(begins, x.Time.Add(-time.Duration(x.DurationSeconds*float64(time.Second))))
		ends = append(ends, x.Time)
	}
	if len(begins) != len(names) {
		t.Fatalf("%d delete records, want %d", len(begins), len(names))
	}
	lastBegin, firstEnd := begins[0], ends[0]
	for i := range begins {
		if begins[i].After(lastBegin) {
			lastBegin = begins[i]
		}
		if ends[i].Before(firstEnd) {
			firstEnd = ends[i]
		}
	}
	if !lastBegin.Before(firstEnd) {
		t.Errorf("the deletions did not all run at once: the last began at %s, after the first ended at %s",
			lastBegin.Format(time.RFC3339Nano), firstEnd.Format(time.RFC3339Nano))
	}
	for _, n := range names {
		if _, err := c.Client.CoreV1().Namespaces().Get(context.Background(), "store-"+n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace store-%s still exists (%v)", n, err)
		}
	}
}
