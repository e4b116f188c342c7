package serve

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/storectl/storectl/pkg/stats"
	"github.com/storectl/storectl/pkg/store"
)

// check is one readiness check.
type check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
}

// health is the body of /api/health.
type health struct {
	Status   string  `json:"status"`
	Checks   []check `json:"checks"`
	Version  string  `json:"version,omitempty"`
	ReadOnly bool    `json:"readOnly"`
}

// checks are what /readyz and /api/health judge: the API server answers, and the shared
// cache has its first read of every store.
func (s *Server) checks(ctx context.Context) []check {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	api := check{Name: "apiserver", OK: true}
	var err error
	if rc := s.opts.Kube.Discovery().RESTClient(); rc != nil {
		err = rc.Get().AbsPath("/version").Do(ctx).Error()
	} else {
		_, err = s.opts.Kube.Discovery().ServerVersion()
	}
	if err != nil {
		api.OK, api.Message = false, "the Kubernetes API server does not answer: "+err.Error()
	}
	c := check{Name: "cache", OK: s.fleet.isSynced()}
	if !c.OK {
		c.Message = "the store cache has not synced yet"
	}
	return []check{api, c}
}

func healthy(cs []check) bool {
	for _, c := range cs {
		if !c.OK {
			return false
		}
	}
	return true
}

func (s *Server) handleLivez(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	cs := s.checks(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !healthy(cs) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	for _, c := range cs {
		if c.OK {
			_, _ = w.Write([]byte("[+] " + c.Name + " ok\n"))
		} else {
			_, _ = w.Write([]byte("[-] " + c.Name + ": " + c.Message + "\n"))
		}
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	cs := s.checks(r.Context())
	h := health{Status: "ok", Checks: cs, Version: s.opts.Version, ReadOnly: s.opts.ReadOnly}
	status := http.StatusOK
	if !healthy(cs) {
		h.Status, status = "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

// fleetMetrics is the body of /api/metrics.
type fleetMetrics struct {
	Stores struct {
		Total   int            `json:"total"`
		ByPhase map[string]int `json:"byPhase"`
	} `json:"stores"`
	Provisioning provisioningMetrics `json:"provisioning"`
	Failures     []reasonCount       `json:"failures"`
}

type provisioningMetrics struct {
	Count      int     `json:"count"`
	InProgress int     `json:"inProgress"`
	Succeeded  int     `json:"succeeded"`
	Failed     int     `json:"failed"`
	N          int     `json:"n"`
	P50Seconds float64 `json:"p50Seconds"`
	P95Seconds float64 `json:"p95Seconds"`
	MaxSeconds float64 `json:"maxSeconds"`
}

type reasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	var m fleetMetrics
	m.Stores.ByPhase = map[string]int{}
	for phase, n := range s.fleet.counts() {
		m.Stores.ByPhase[string(phase)] = n
		m.Stores.Total += n
	}
	m.Failures = []reasonCount{}
	if s.opts.Provisionings != nil {
		ps, err := s.opts.Provisionings(r.Context())
		if err != nil {
			s.writeProblem(w, r, err, "", "stats")
			return
		}
		m.Provisioning, m.Failures = summarizeProvisionings(ps)
	}
	writeJSON(w, http.StatusOK, m)
}

// summarizeProvisionings gives the figures of every store's create as the cluster records
// it, the way `storectl stats --cluster` computes them.
func summarizeProvisionings(ps []store.Provisioning) (provisioningMetrics, []reasonCount) {
	pm := provisioningMetrics{Count: len(ps)}
	samples := make([]stats.Sample, 0, len(ps))
	for _, p := range ps {
		if p.Outcome == "" {
			pm.InProgress++
			continue
		}
		samples = append(samples, stats.Sample{Action: "create", Outcome: p.Outcome, Reason: p.Reason, Duration: p.Duration()})
	}
	failures := []reasonCount{}
	for _, a := range stats.Summarize(samples) {
		pm.Succeeded, pm.Failed, pm.N = a.Outcomes[stats.OutcomeSucceeded], a.Outcomes[stats.OutcomeFailed], a.N
		pm.P50Seconds, pm.P95Seconds, pm.MaxSeconds = a.P50.Seconds(), a.P95.Seconds(), a.Max.Seconds()
		for _, rc := range a.Reasons {
			failures = append(failures, reasonCount{Reason: rc.Reason, Count: rc.Count})
		}
	}
	sort.SliceStable(failures, func(i, j int) bool { return failures[i].Count > failures[j].Count })
	return pm, failures
}
