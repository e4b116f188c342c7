//go:build e2e

package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storectl/storectl/pkg/testcluster"
)

// clusterM runs the tests with the test cluster held for them.
type clusterM struct{ m *testing.M }

func (c clusterM) Run() int { return testcluster.Run(c.m) }

// TestMain lets tests run this binary as `storectl` and gives them the test cluster.
func TestMain(m *testing.M) {
	testscript.Main(clusterM{m}, map[string]func(){"storectl": main})
}
