// Package releasetest provides a release manager without a cluster, for tests: releases
// are kept in Helm's memory driver and rendered resources go nowhere.
package releasetest

import (
	"io"
	"sync"

	"helm.sh/helm/v3/pkg/chartutil"
	helmkube "helm.sh/helm/v3/pkg/kube"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/storectl/storectl/pkg/release"
)

// NewMemory returns a Manager keeping releases in memory; a nil chart means the embedded
// store chart, a nil kc a resource client that accepts every object without creating it.
func NewMemory(chart release.ChartLoader, kc helmkube.Interface) *release.Helm {
	if kc == nil {
		kc = &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}
	}
	var mu sync.Mutex
	drivers := map[string]driver.Driver{}
	return release.NewWithBackend(chart, release.Backend{
		KubeClient:  kc,
		KubeVersion: chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"},
		Storage: func(ns string) driver.Driver {
			mu.Lock()
			defer mu.Unlock()
			d, ok := drivers[ns]
			if !ok {
				m := driver.NewMemory()
				m.SetNamespace(ns)
				d = cloning{m}
				drivers[ns] = d
			}
			return d
		},
	})
}

// cloning stores and returns copies of release records. Helm's memory driver
// keeps the caller's pointer, and Helm goes on changing the record it holds
// (SetStatus) in its own goroutine; copies keep readers and writers apart
// the way the secret driver's encoding does on a real cluster.
type cloning struct{ *driver.Memory }

func (c cloning) Create(key string, r *helmrelease.Release) error {
	return c.Memory.Create(key, clone(r))
}
func (c cloning) Update(key string, r *helmrelease.Release) error {
	return c.Memory.Update(key, clone(r))
}

func (c cloning) Get(key string) (*helmrelease.Release, error) {
	r, err := c.Memory.Get(key)
	if err != nil {
		return nil, err
	}
	return clone(r), nil
}

func (c cloning) List(filter func(*helmrelease.Release) bool) ([]*helmrelease.Release, error) {
	rs, err := c.Memory.List(filter)
	return cloneAll(rs), err
}

func (c cloning) Query(labels map[string]string) ([]*helmrelease.Release, error) {
	rs, err := c.Memory.Query(labels)
	return cloneAll(rs), err
}

func cloneAll(rs []*helmrelease.Release) []*helmrelease.Release {
	out := make([]*helmrelease.Release, len(rs))
	for i, r := range rs {
		out[i] = clone(r)
	}
	return out
}

// clone copies a record and its Info, the part Helm changes in place.
func clone(r *helmrelease.Release) *helmrelease.Release {
	c := *r
	if r.Info != nil {
		info := *r.Info
		c.Info = &info
	}
	return &c
}
